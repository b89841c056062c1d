-- attempts: query() runs SQL text the static check never sees
SELECT d.id_number, CAST(q AS VARCHAR) AS leak
FROM deaths d, query('SELECT * FROM ''{REJECTS}''') q
