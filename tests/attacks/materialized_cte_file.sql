-- attempts: a MATERIALIZED CTE over a file
WITH x AS MATERIALIZED (FROM '{REJECTS}')
SELECT id_number, person_name AS leak FROM x
