-- attempts: an input aliased with a file's name, the alias then used as a table in a sub-query
SELECT id_number, person_name AS leak
FROM deaths AS "{REJECTS}"
WHERE EXISTS (SELECT 1 FROM "{REJECTS}")
