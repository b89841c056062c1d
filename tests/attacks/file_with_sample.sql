-- attempts: FROM file USING SAMPLE
SELECT id_number, person_name AS leak
FROM '{REJECTS}' USING SAMPLE 10
