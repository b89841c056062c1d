-- attempts: issue 11: FROM (SUMMARIZE t) inside a sub-select (min/max of every column)
SELECT d.id_number, s.max AS leak
FROM deaths d, (SUMMARIZE payments) s
