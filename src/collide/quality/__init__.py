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

from collide.quality.cache import cached_report
from collide.quality.report import ExpectationOutcome, QualityReport
from collide.quality.suite import COLLIDE_TYPES, check_suites, load_suite
from collide.quality.validate import validate_dataset
from collide.quality.wording import STATUS_ZH, status_zh

__all__ = [
    "COLLIDE_TYPES",
    "STATUS_ZH",
    "ExpectationOutcome",
    "QualityReport",
    "cached_report",
    "check_suites",
    "load_suite",
    "status_zh",
    "validate_dataset",
]
