-- attempts: ATTACH another database
ATTACH '/tmp/collide_attack.duckdb' AS other
