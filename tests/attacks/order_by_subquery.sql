-- attempts: ORDER BY a sub-query over the manifest
SELECT id_number, person_name AS leak
FROM deaths
ORDER BY (SELECT count(*) FROM '{MANIFEST}')
