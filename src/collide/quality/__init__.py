"""Data-quality gate: check a dataset's snapshot against its expectation suite before models run.

Every check — collide's own too — runs through Great Expectations on a DuckDB view over the
snapshot's Parquet file; the results become `QualityReport`s worded in Chinese for reviewers.

    suite.py     expectations/<dataset>.yaml → typed entries (pydantic, every problem at its line)
    plan.py      entries → the GX expectations that run (collide's checks get run-time bounds)
    gx.py        the only importer of great_expectations / sqlalchemy / duckdb_engine
    wording.py   the Chinese one-liners and status words
    samples.py   failing rows, as GX selects them, in the order of the agency's files
    validate.py  the gate for one snapshot
    cache.py     a snapshot is validated once per inputs
    report.py    QualityReport, ExpectationOutcome

Importing this package loads neither GX nor DuckDB.
"""

from __future__ import annotations

from typing import Any

# name → the module defining it, imported on first use: a rerun on unchanged data takes its
# reports from the cache and needs neither the suite's pydantic models nor GX's wrapper
_FROM = {
    "COLLIDE_TYPES": "suite",
    "STATUS_ZH": "wording",
    "ExpectationOutcome": "report",
    "QualityReport": "report",
    "cached_report": "cache",
    "check_suites": "suite",
    "load_suite": "suite",
    "status_zh": "wording",
    "validate_dataset": "validate",
}

__all__ = sorted(_FROM)


def __getattr__(name: str) -> Any:
    if name in _FROM:
        import importlib

        value = getattr(importlib.import_module(f"collide.quality.{_FROM[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(name)
