-- attempts: a catalog-qualified name reaches past the inputs
SELECT id_number, person_name AS leak
FROM memory.main.deaths
