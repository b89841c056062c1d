-- attempts: an http URL as a table name (httpfs would fetch it)
SELECT id_number, person_name AS leak
FROM 'https://example.com/leak.parquet'
