-- attempts: a CTE declared inside EXISTS, its name used in another sub-query
SELECT id_number, person_name AS leak
FROM deaths
WHERE EXISTS (WITH "{REJECTS}" AS (SELECT 1) SELECT 1 FROM "{REJECTS}")
  AND id_number IN (SELECT id_number FROM "{REJECTS}")
