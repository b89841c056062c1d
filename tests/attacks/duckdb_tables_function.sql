-- attempts: duckdb_tables() table function
SELECT d.id_number, t.sql AS leak
FROM deaths d, duckdb_tables() t
