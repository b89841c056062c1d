-- attempts: a CTE defined in one UNION branch, its name read in the other
SELECT id_number, person_name AS leak FROM deaths
WHERE id_number IN (WITH "{REJECTS}" AS (SELECT '1' AS id_number) SELECT id_number FROM "{REJECTS}")
UNION ALL
SELECT id_number, person_name FROM "{REJECTS}"
