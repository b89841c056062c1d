-- attempts: USING SAMPLE makes clues random
SELECT id_number, person_name AS leak
FROM deaths USING SAMPLE 50 PERCENT (bernoulli)
