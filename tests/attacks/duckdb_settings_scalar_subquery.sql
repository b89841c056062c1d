-- attempts: duckdb_settings() inside a scalar sub-query
SELECT id_number,
       (SELECT string_agg(value, ' | ') FROM duckdb_settings()) AS leak
FROM deaths
