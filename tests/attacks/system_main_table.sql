-- attempts: system.main.duckdb_tables (the system catalog)
SELECT d.id_number, t.table_name AS leak
FROM deaths d, system.main.duckdb_tables t
