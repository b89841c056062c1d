-- attempts: read_text() of the snapshot manifest
SELECT d.id_number, t.content AS leak
FROM deaths d, read_text('{MANIFEST}') t
