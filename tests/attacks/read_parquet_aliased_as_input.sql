-- attempts: read_parquet() given the alias of a declared input
SELECT deaths.id_number, CAST(deaths AS VARCHAR) AS leak
FROM read_parquet('{REJECTS}') AS deaths
