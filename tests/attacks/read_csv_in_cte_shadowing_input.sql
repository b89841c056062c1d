-- attempts: read_csv_auto() hidden in a CTE that shadows an input name
WITH deaths AS (SELECT * FROM read_csv_auto('{MANIFEST}'))
SELECT 'x' AS id_number, CAST(deaths AS VARCHAR) AS leak FROM deaths
