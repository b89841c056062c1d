"""Ingest: agency files and database extracts → immutable, typed, traceable snapshots.

    connector ─► sources.py (find files / query, fingerprint, raw text batches with row numbers)
              ─► headers.py (find the header row past titles, map agency headers to columns)
              ─► snapshot.py (semantic types, rejects, accounting, atomic write, manifest)

Heavy libraries (polars, pyarrow, fastexcel, database drivers) are imported inside functions.
"""

from __future__ import annotations

from collide.ingest.snapshot import (
    IngestReport,
    SnapshotInfo,
    ingest_dataset,
    latest_snapshot,
    load_snapshot,
)

__all__ = ["IngestReport", "SnapshotInfo", "ingest_dataset", "latest_snapshot", "load_snapshot"]
