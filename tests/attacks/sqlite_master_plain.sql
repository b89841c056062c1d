-- attempts: sqlite_master without any trick
SELECT d.id_number, m.sql AS leak
FROM deaths d, sqlite_master m
