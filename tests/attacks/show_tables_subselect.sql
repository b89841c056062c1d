-- attempts: SHOW TABLES inside a sub-select lists what the connection holds
SELECT d.id_number, t.name AS leak
FROM deaths d, (SHOW TABLES) t
