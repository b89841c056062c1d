-- attempts: COPY writes a file
COPY (SELECT * FROM deaths) TO '/tmp/collide_attack_copy.csv'
