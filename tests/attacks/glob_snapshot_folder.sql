-- attempts: glob() lists the snapshot folder
SELECT d.id_number, g.file AS leak
FROM deaths d, glob('{SNAPDIR}/*') g
