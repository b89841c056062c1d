-- attempts: a struct field holding a sub-query over the rejects file
SELECT id_number,
       struct_pack(x := (SELECT string_agg(CAST(r AS VARCHAR), ' | ') FROM '{REJECTS}' r)).x AS leak
FROM deaths
