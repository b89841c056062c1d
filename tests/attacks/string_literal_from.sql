-- attempts: a string literal in FROM is a file to DuckDB
SELECT id_number, CAST(r AS VARCHAR) AS leak
FROM '{REJECTS}' r
