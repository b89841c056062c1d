"""The store: one DuckDB file holding runs, snapshots, clues, sightings, reviews and the
audit log."""
