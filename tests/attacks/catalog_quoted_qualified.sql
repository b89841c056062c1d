-- attempts: the same, every part quoted
SELECT id_number, person_name AS leak
FROM "memory"."main"."deaths"
