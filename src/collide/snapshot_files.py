"""Where a snapshot's rows are on disk: read by ingest, the quality gate, both engines and
model packaging — one module none of them depends on for anything else, so that reading a
snapshot needs no import of ingest (the engines would otherwise reach back into it)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["parquet_files"]


def parquet_files(data: Path) -> list[Path]:
    """The Parquet files of a snapshot's data (or rejects): the file itself, or, when the
    cluster wrote the snapshot (`type: spark_table`), the part files of the folder Spark wrote
    under that name, in order (part k holds the rows after part k-1's)."""
    data = Path(data)
    if data.is_dir():
        return sorted(data.glob("*.parquet"))
    return [data]
