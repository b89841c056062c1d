-- attempts: POSITIONAL JOIN a file
SELECT d.id_number, CAST(r AS VARCHAR) AS leak
FROM deaths d POSITIONAL JOIN '{REJECTS}' r
