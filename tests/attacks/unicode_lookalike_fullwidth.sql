-- attempts: a full-width ｄ in an input's name
SELECT id_number, person_name AS leak
FROM "ｄeaths"
