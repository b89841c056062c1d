-- attempts: pg_catalog.pg_class
SELECT d.id_number, c.relname AS leak
FROM deaths d, pg_catalog.pg_class c
