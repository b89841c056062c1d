-- attempts: current_database()/current_schema() reveal the catalog
SELECT id_number, current_database() || current_schema() AS leak
FROM deaths
