-- attempts: WITH … INSERT (a CTE in front of a write)
WITH x AS (SELECT * FROM deaths)
INSERT INTO deaths SELECT * FROM x
