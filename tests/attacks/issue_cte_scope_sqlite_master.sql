-- attempts: issue 11: the CTE scope trick on sqlite_master (the catalog)
SELECT d.id_number,
       (SELECT string_agg(sql, ' | ') FROM sqlite_master) AS leak
FROM deaths d,
     (WITH sqlite_master AS (SELECT 1) SELECT 1) z
