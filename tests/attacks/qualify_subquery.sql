-- attempts: QUALIFY with a sub-query over the manifest
SELECT id_number, person_name AS leak
FROM deaths
QUALIFY row_number() OVER () <= (SELECT count(*) FROM read_json_auto('{MANIFEST}'))
