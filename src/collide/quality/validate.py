"""The gate for one snapshot: suite → plan → one GX run → worded outcomes with failing rows."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collide.errors import CollideError, Problem
from collide.quality.gx import Session
from collide.quality.plan import plan
from collide.quality.report import ExpectationOutcome, QualityReport
from collide.quality.samples import row_columns, samples
from collide.quality.suite import default_suite, load_suite, rel
from collide.quality.wording import outcome_fields

if TYPE_CHECKING:
    from collide.config.catalog import Connector

__all__ = ["validate_dataset"]


def validate_dataset(
    connector: Connector,
    suite_path: Path | None,
    snapshot: Any,
    previous: Any | None,
    run_date: dt.date,
) -> QualityReport:
    """Validate `snapshot` against the dataset's suite (or the default suite when there is none)."""
    t0 = time.perf_counter()
    if suite_path is not None:
        suite, problems = load_suite(suite_path, _display(connector, suite_path), connector)
        if problems or suite is None:
            raise CollideError(problems)
    else:
        suite = default_suite(connector)
    from collide.snapshot_files import parquet_files

    data_path = Path(snapshot.data_path)
    if not data_path.is_file() and not (data_path.is_dir() and parquet_files(data_path)):
        raise CollideError(
            Problem(
                str(data_path),
                None,
                "snapshot data file is missing",
                f"Run `collide ingest {connector.spec.id}` again",
            )
        )
    plans, flags = plan(suite, connector, previous, run_date, snapshot)
    session = Session(data_path, flags)
    try:
        results = session.validate([p.gx_check() for p in plans], row_columns(plans))
        outcomes = []
        for p in plans:
            res = results.get(p.entry.index)
            o = ExpectationOutcome(**outcome_fields(p, res, connector))
            if not o.success and res is not None and res.error is None:
                o.failing_rows = samples(session, p, res, snapshot)
            outcomes.append(o)
    finally:
        session.close()
    if any(not o.success and o.blocking for o in outcomes):
        status = "fail"
    elif any(not o.success for o in outcomes):
        status = "warn"
    else:
        status = "pass"
    return QualityReport(
        connector.spec.id,
        str(snapshot.snapshot_id),
        status,
        outcomes,
        round(time.perf_counter() - t0, 3),
        suite.display,
        connector.spec.title,
    )


def _display(connector: Connector, suite_path: Path) -> str:
    # `connector.display` is relative to the project root: climb that many folders.
    depth = len(Path(connector.display).parts)
    root = Path(connector.path).resolve().parents[depth - 1]
    return rel(root, suite_path)
