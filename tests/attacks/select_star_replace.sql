-- attempts: SELECT * REPLACE with a sub-query over the rejects file
SELECT * REPLACE ((SELECT string_agg(CAST(r AS VARCHAR), ' | ') FROM '{REJECTS}' r) AS person_name)
FROM deaths
