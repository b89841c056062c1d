-- attempts: CREATE MACRO that reads a file, then use it
CREATE MACRO leak() AS TABLE SELECT * FROM '{REJECTS}';
SELECT id_number, person_name AS leak FROM leak()
