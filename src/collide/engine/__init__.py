"""Running SQL for models: the engine seam (`backend.py`: the `Backend`/`Session` interface and
the registry by name), its DuckDB implementation (`duckdb.py`), the static check of model SQL
(`sqlcheck.py`), the SQL functions collide adds (`functions.py`, engine-neutral bodies) and the
working-day calendar (`workdays.py`)."""
