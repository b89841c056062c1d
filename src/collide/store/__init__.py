"""The store: one DuckDB file holding runs, snapshots, clues, sightings, reviews and the
audit log.

    db.py       opening the file, the migration list (one list, numbered in order), the run
                lock, `transaction()`
    queries.py  every read and write of runs, snapshots, model versions, clues, sightings,
                evidence and the audit log
"""
