-- attempts: FROM t1, 'file': an input next to a file
SELECT d.id_number, CAST(r AS VARCHAR) AS leak
FROM deaths d, '{REJECTS}' r
