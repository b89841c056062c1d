-- attempts: PRAGMA lists databases
PRAGMA database_list
