"""The quality cache: a snapshot is validated once per (snapshot, suite, previous snapshot,
connector, run date); a rerun on the same data reuses the report without loading GX.

Entries are JSON files next to the store (`quality-cache/<dataset>-<key>.json`); an entry that
does not read back is simply validated again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collide.quality.report import QualityReport

if TYPE_CHECKING:
    from collide.config.catalog import Connector

__all__ = ["cached_report"]


def cached_report(
    connector: Connector,
    suite_path: Path,
    snapshot: Any,
    previous: Any | None,
    run_date: dt.date,
    cache_dir: Path,
) -> QualityReport:
    """The report of `snapshot` (validated against `suite_path` when it exists, else the default
    suite), from `cache_dir` when the same inputs were validated before."""
    # Called through the package, so the gate a caller sees as collide.quality.validate_dataset is
    # the one that runs.
    from collide import quality

    ds = connector.spec.id
    suite = suite_path if suite_path.exists() else None
    key = hashlib.sha256(
        "\0".join(
            [
                ds,
                snapshot.snapshot_id,
                previous.snapshot_id if previous is not None else "",
                run_date.isoformat(),
                suite.read_text(encoding="utf-8") if suite is not None else "(default suite)",
                connector.path.read_text(encoding="utf-8"),
            ]
        ).encode()
    ).hexdigest()[:20]
    cache = cache_dir / f"{ds}-{key}.json"
    if cache.exists():
        try:
            return QualityReport.from_dict(json.loads(cache.read_text(encoding="utf-8")))
        except (ValueError, TypeError, KeyError):
            pass  # an unreadable cache entry is simply recomputed
    report = quality.validate_dataset(connector, suite, snapshot, previous, run_date)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps(report.to_dict(), ensure_ascii=False), encoding="utf-8")
    tmp.replace(cache)
    return report
