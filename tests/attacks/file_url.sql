-- attempts: a file:// URL as a table name
SELECT id_number, person_name AS leak
FROM 'file://{REJECTS}'
