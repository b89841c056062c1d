-- attempts: a quoted identifier that is a file path (DuckDB's replacement scan opens it)
SELECT id_number, person_name AS leak
FROM "{REJECTS}"
