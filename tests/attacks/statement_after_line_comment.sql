-- attempts: a statement after a line comment that ends with ';'
SELECT id_number, person_name AS leak FROM deaths -- ;
; ATTACH '/tmp/collide_attack.duckdb' AS x
