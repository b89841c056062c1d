-- attempts: SET VARIABLE stores a value for getvariable() to read later
SET VARIABLE x = (SELECT 1)
