-- attempts: LATERAL sub-query over the rejects file
SELECT d.id_number, CAST(r AS VARCHAR) AS leak
FROM deaths d, LATERAL (SELECT * FROM '{REJECTS}' WHERE id_number IS NOT NULL OR d.id_number IS NULL) r
