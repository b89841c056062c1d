-- attempts: a FROM-first scalar sub-query over the rejects file
SELECT id_number, (FROM '{REJECTS}' SELECT string_agg(person_name, ' | ')) AS leak
FROM deaths
