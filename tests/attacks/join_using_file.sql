-- attempts: JOIN a file USING a column
SELECT d.id_number, r.person_name AS leak
FROM deaths d JOIN '{REJECTS}' r USING (id_number)
