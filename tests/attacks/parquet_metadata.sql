-- attempts: parquet_metadata() of the rejects file (its statistics hold values)
SELECT d.id_number, CAST(p.stats_max AS VARCHAR) AS leak
FROM deaths d, parquet_metadata('{REJECTS}') p
