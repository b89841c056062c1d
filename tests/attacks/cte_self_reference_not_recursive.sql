-- attempts: a non-recursive CTE named like a file that reads itself (that is, the file)
WITH "{REJECTS}" AS (SELECT * FROM "{REJECTS}")
SELECT id_number, person_name AS leak FROM "{REJECTS}"
