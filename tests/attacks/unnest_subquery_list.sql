-- attempts: unnest() of a list built by a sub-query over the rejects file
SELECT d.id_number, CAST(u AS VARCHAR) AS leak
FROM deaths d, unnest((SELECT list(r) FROM '{REJECTS}' r)) u
