-- attempts: an input's name qualified with a schema
SELECT id_number, person_name AS leak
FROM main.deaths
