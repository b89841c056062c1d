-- attempts: json_execute_serialized_sql() runs a serialised query
SELECT d.id_number, CAST(j AS VARCHAR) AS leak
FROM deaths d, json_execute_serialized_sql(json_serialize_sql('SELECT * FROM ''{REJECTS}''')) j
