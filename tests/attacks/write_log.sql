-- attempts: write_log() writes to DuckDB's log
SELECT id_number, CAST(write_log(person_name) AS VARCHAR) AS leak
FROM deaths
