-- attempts: sleep_ms() to hang the nightly run
SELECT id_number, CAST(sleep_ms(100000000) AS VARCHAR) AS leak
FROM deaths
