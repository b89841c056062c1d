-- attempts: a Cyrillic е in an input's name (looks the same, is another name)
SELECT id_number, person_name AS leak
FROM "dеaths"
