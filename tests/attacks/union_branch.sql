-- attempts: the second branch of a UNION reads a file
SELECT id_number, person_name AS leak FROM deaths
UNION ALL
SELECT id_number, person_name FROM '{REJECTS}'
