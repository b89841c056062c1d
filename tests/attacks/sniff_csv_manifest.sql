-- attempts: sniff_csv() reads a file's first lines
SELECT d.id_number, CAST(s AS VARCHAR) AS leak
FROM deaths d, sniff_csv('{MANIFEST}') s
