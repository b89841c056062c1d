-- attempts: a second statement after ';' turns external access back on
SELECT id_number, person_name AS leak FROM deaths;
SET enable_external_access = true
