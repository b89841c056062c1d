-- attempts: TABLESAMPLE on an input
SELECT id_number, person_name AS leak
FROM deaths TABLESAMPLE 1
