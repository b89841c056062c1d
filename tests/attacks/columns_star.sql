-- attempts: COLUMNS(*) over a file
SELECT COLUMNS(*) FROM (FROM '{REJECTS}')
