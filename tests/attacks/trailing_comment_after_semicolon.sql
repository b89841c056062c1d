-- attempts: a statement hidden in a comment after the final ';'
SELECT id_number, CAST(current_setting('allowed_directories') AS VARCHAR) AS leak FROM deaths;
-- ; SET enable_external_access = true
