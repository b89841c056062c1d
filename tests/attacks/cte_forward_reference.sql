-- attempts: a CTE read before (above) the CTE that defines the name
WITH a AS (SELECT * FROM "{REJECTS}"),
     "{REJECTS}" AS (SELECT 1 AS id_number, '' AS person_name)
SELECT id_number, person_name AS leak FROM a
