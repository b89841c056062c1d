-- attempts: issue 11: FROM (DESCRIBE t) inside a sub-select
SELECT d.id_number, x.column_name AS leak
FROM deaths d, (DESCRIBE deaths) x
