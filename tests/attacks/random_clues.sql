-- attempts: random() makes the clues differ on each run
SELECT id_number, CAST(random() AS VARCHAR) AS leak
FROM deaths
