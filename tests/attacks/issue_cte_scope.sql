-- attempts: issue 11: a CTE named like the rejects file inside one sub-select makes the same name pass elsewhere, so DuckDB reads the real file
SELECT d.id_number, any_value(d.person_name) AS person_name, 1.0 AS total_paid,
       (SELECT string_agg(CAST(r AS VARCHAR), ' | ')
          FROM "{REJECTS}" r) AS leak
FROM deaths d,
     (WITH "{REJECTS}" AS (SELECT 1) SELECT 1) z
GROUP BY d.id_number
