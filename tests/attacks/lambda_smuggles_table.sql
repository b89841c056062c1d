-- attempts: a lambda whose body is a sub-query over the rejects file
SELECT id_number,
       list_transform([1], x -> (SELECT string_agg(CAST(r AS VARCHAR), ' | ') FROM '{REJECTS}' r))[1] AS leak
FROM deaths
