-- attempts: a table function called through its catalog and schema
SELECT d.id_number, t.content AS leak
FROM deaths d, system.main.read_text('{MANIFEST}') t
