-- attempts: a doubled quote inside a quoted identifier that names a file
SELECT id_number, person_name AS leak
FROM "{SNAPDIR}/""rejects"".parquet"
