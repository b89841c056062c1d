-- attempts: getenv() reads the process environment
SELECT id_number, getenv('HOME') AS leak
FROM deaths
