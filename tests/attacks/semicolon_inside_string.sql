-- attempts: a ';' inside a string literal to confuse statement splitting
SELECT id_number, 'x; ATTACH ''/tmp/collide_attack.duckdb'' AS y' AS leak
FROM '{REJECTS}'
