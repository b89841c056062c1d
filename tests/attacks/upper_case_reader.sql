-- attempts: READ_PARQUET in capitals
SELECT id_number, CAST(r AS VARCHAR) AS leak
FROM READ_PARQUET('{REJECTS}') r
