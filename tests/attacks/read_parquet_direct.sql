-- attempts: read_parquet() of the rejects file
SELECT id_number, CAST(r AS VARCHAR) AS leak
FROM read_parquet('{REJECTS}') r
