-- attempts: a PIVOT statement (it runs a query of its own to find the columns)
PIVOT deaths ON person_name USING count(*)
