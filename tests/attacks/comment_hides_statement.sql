-- attempts: a block comment and a line comment around a second statement
SELECT id_number, person_name AS leak FROM deaths /* harmless
*/; COPY (SELECT 1) TO '/tmp/collide_attack_copy.csv' -- the end
