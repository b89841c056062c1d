-- attempts: LIMIT a sub-query over the rejects file
SELECT id_number, person_name AS leak
FROM deaths
LIMIT (SELECT count(*) FROM '{REJECTS}')
