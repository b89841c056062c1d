"""The rules that identify and read a value, each written once: resident IDs (GB 11643),
unified social credit codes (GB 32100), ID masking, and the table of semantic types.

Plain Python and data only (no polars or DuckDB at import): ingest (`ingest/semantic.py`, polars
expressions over millions of rows), the SQL functions (`engine/functions.py`) and the exports all
derive their checks from the constants and functions here, so they cannot disagree.
"""

from __future__ import annotations
