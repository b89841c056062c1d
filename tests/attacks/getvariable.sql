-- attempts: getvariable() reads connection variables
SELECT id_number, CAST(getvariable('x') AS VARCHAR) AS leak
FROM deaths
