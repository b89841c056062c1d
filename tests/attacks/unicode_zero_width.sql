-- attempts: a zero-width space inside an input's name
SELECT id_number, person_name AS leak
FROM "dea​ths"
