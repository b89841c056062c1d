-- attempts: EXPLAIN shows the plan with file paths
EXPLAIN SELECT * FROM deaths
