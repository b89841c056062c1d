-- attempts: a scalar function called through its catalog and schema
SELECT id_number, system.main.current_setting('allowed_directories')::VARCHAR AS leak
FROM deaths
