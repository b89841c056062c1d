-- attempts: FROM-first syntax with a file path
FROM '{REJECTS}' r SELECT id_number, CAST(r AS VARCHAR) AS leak
