-- attempts: read_blob() of the rejects file
SELECT d.id_number, CAST(b.content AS VARCHAR) AS leak
FROM deaths d, read_blob('{REJECTS}') b
