-- attempts: ASOF JOIN a file
SELECT d.id_number, CAST(r AS VARCHAR) AS leak
FROM deaths d ASOF JOIN '{REJECTS}' r ON d.id_number = r.id_number AND d.death_date >= r.death_date
