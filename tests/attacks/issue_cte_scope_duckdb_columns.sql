-- attempts: issue 11: the CTE scope trick on duckdb_columns (column names of everything)
SELECT d.id_number,
       (SELECT string_agg(column_name, ' | ') FROM duckdb_columns) AS leak
FROM deaths d,
     (WITH duckdb_columns AS (SELECT 1) SELECT 1) z
