-- attempts: the internal name the engine gives an input's Arrow table
SELECT id_number, person_name AS leak
FROM __input_deaths
