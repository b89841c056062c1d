-- attempts: a recursive CTE named like an input whose seed reads a file
WITH RECURSIVE deaths AS (
    SELECT * FROM '{REJECTS}'
    UNION ALL
    SELECT * FROM deaths WHERE false
)
SELECT id_number, person_name AS leak FROM deaths
