-- attempts: a name that DuckDB's Python client would look up among Python variables
SELECT id_number, CAST(t AS VARCHAR) AS leak
FROM "table" t
