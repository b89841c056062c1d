-- attempts: read_json_auto() of the snapshot manifest
SELECT d.id_number, CAST(m AS VARCHAR) AS leak
FROM deaths d, read_json_auto('{MANIFEST}') m
