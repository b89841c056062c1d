-- attempts: a glob pattern as a quoted table name
SELECT id_number, person_name AS leak
FROM '{SNAPDIR}/*.parquet'
