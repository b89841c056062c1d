-- attempts: PIVOT inside a sub-select
SELECT d.id_number, 1 AS leak
FROM deaths d, (PIVOT payments ON paid_on USING sum(amount)) p
