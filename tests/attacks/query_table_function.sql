-- attempts: query_table() opens a table or file by a string name
SELECT d.id_number, CAST(q AS VARCHAR) AS leak
FROM deaths d, query_table('{REJECTS}') q
