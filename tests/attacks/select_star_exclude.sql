-- attempts: SELECT * EXCLUDE over a file
SELECT * EXCLUDE (_source_row) FROM '{REJECTS}'
