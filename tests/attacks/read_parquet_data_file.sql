-- attempts: reading an input's own data file by path instead of by name
SELECT id_number, person_name AS leak
FROM read_parquet('{DATA}')
