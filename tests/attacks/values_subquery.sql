-- attempts: VALUES holding a sub-query over a file
SELECT d.id_number, v.leak
FROM deaths d, (VALUES ((SELECT string_agg(CAST(r AS VARCHAR), ' | ') FROM '{REJECTS}' r))) v(leak)
