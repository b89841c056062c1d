-- attempts: AT (VERSION => …) reads an earlier version of a table
SELECT id_number, person_name AS leak
FROM deaths AT (VERSION => 1)
