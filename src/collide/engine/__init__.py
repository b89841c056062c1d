"""Running SQL for models: the static check of model SQL, the locked-down DuckDB connection, the
SQL functions collide adds, and the working-day calendar."""
