-- attempts: a join of two huge range() calls (runs until killed)
SELECT 'x' AS id_number, CAST(count(*) AS VARCHAR) AS leak
FROM range(1000000000) a, range(1000000000) b
