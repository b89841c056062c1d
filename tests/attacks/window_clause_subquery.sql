-- attempts: a named WINDOW whose PARTITION BY is a sub-query over a file
SELECT id_number, person_name AS leak, row_number() OVER w AS n
FROM deaths
WINDOW w AS (PARTITION BY (SELECT count(*) FROM '{REJECTS}'))
