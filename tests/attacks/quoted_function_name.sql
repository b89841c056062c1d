-- attempts: a table function whose name is a quoted identifier
SELECT id_number, CAST(r AS VARCHAR) AS leak
FROM "read_parquet"('{REJECTS}') r
