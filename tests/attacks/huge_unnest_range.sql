-- attempts: unnest(range(…)) of a trillion numbers
SELECT 'x' AS id_number, CAST(count(*) AS VARCHAR) AS leak
FROM (SELECT unnest(range(1000000000000)) AS n)
