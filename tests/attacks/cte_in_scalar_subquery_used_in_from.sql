-- attempts: a CTE defined inside a scalar sub-query, its name read in FROM
SELECT (WITH "{MANIFEST}" AS (SELECT 1 AS a) SELECT a FROM "{MANIFEST}") AS id_number, CAST(m AS VARCHAR) AS leak
FROM "{MANIFEST}" m
