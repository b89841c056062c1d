-- attempts: COLUMNS(lambda) whose body reads a file
SELECT id_number, COLUMNS(c -> c IN (SELECT column_name FROM (DESCRIBE '{REJECTS}')))
FROM deaths
