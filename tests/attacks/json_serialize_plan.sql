-- attempts: json_serialize_plan() binds SQL text against the catalog
SELECT id_number, json_serialize_plan('SELECT * FROM deaths') AS leak
FROM deaths
