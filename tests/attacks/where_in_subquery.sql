-- attempts: a WHERE … IN sub-query over the rejects file
SELECT id_number, person_name AS leak
FROM deaths
WHERE id_number IN (FROM '{REJECTS}' SELECT id_number)
