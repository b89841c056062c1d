-- attempts: information_schema.tables
SELECT d.id_number, t.table_name AS leak
FROM deaths d, information_schema.tables t
