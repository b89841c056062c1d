"""Ingest: agency files and database extracts → immutable, typed, traceable snapshots.

    connector ─► sources.py (find files / query, fingerprint, raw text batches with row numbers)
              ─► headers.py (find the header row past titles, map agency headers to columns)
              ─► snapshot.py (semantic types, rejects, accounting, atomic write, manifest)

Heavy libraries (polars, pyarrow, fastexcel, database drivers) are imported inside functions.
"""

from __future__ import annotations

from typing import Any

__all__ = ["IngestReport", "SnapshotInfo", "ingest_dataset", "latest_snapshot", "load_snapshot"]


def __getattr__(name: str) -> Any:
    """The snapshot API, imported on first use: collide.config.specs imports
    collide.ingest.documents (the documents source), which must not pull in the catalog."""
    if name in __all__:
        from collide.ingest import snapshot

        return getattr(snapshot, name)
    raise AttributeError(name)
