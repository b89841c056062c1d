-- attempts: UNION BY NAME with a FROM-first file branch
FROM deaths SELECT id_number, person_name AS leak
UNION BY NAME
FROM '{REJECTS}' SELECT id_number, person_name AS leak
