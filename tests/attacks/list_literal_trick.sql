-- attempts: a list literal holding a sub-query over the rejects file
SELECT id_number,
       [(SELECT string_agg(CAST(r AS VARCHAR), ' | ') FROM '{REJECTS}' r)][1] AS leak
FROM deaths
