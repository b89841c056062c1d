-- attempts: issue 11: current_setting('allowed_directories') returns the absolute snapshot paths
SELECT id_number,
       CAST(current_setting('allowed_directories') AS VARCHAR) AS leak
FROM deaths
