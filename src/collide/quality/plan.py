"""From suite entries to the GX expectations that run: collide's checks get their bounds here.

collide's checks need context GX does not have, so each becomes a GX expectation with arguments
computed for this run: the previous snapshot's row count, the run date, the rows rejected at
ingest. `valid_id_rate` becomes an in-set check on a flag column computed by collide's own SQL
function (`id_valid()` / `uscc_valid()`, the ones model SQL calls), so the gate and the models count
the same IDs as valid.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from collide.quality.gx import Flag, GxCheck, count_rows
from collide.quality.suite import (
    Freshness,
    NotInFuture,
    RejectedShare,
    RequiredColumns,
    RowCountVsPrevious,
    Suite,
    SuiteEntry,
    ValidIdRate,
)

if TYPE_CHECKING:
    from collide.config.catalog import Connector

__all__ = ["Planned", "plan"]

# the SQL function (collide.engine.functions) that says whether a value of each kind is valid
VALID_FUNCTION = {"cn_id": "id_valid", "cn_uscc": "uscc_valid"}


@dataclass
class Planned:
    entry: SuiteEntry
    gx_type: str
    kwargs: dict[str, Any]  # GX kwargs that run
    context: dict[str, Any]  # numbers for the observed text and the Chinese line

    def gx_check(self) -> GxCheck:
        e = self.entry
        return GxCheck(e.index, self.gx_type, dict(self.kwargs), e.blocking, e.description, e.type)


def _rows(snapshot: Any) -> int:
    manifest = getattr(snapshot, "manifest", None) or {}
    if isinstance(manifest.get("rows_loaded"), int):
        return manifest["rows_loaded"]
    return count_rows(snapshot.data_path)


def plan(
    suite: Suite,
    connector: Connector,
    previous: Any | None,
    run_date: dt.date,
    snapshot: Any = None,
) -> tuple[list[Planned], dict[str, Flag]]:
    """The GX expectations to run, and the computed columns the snapshot view needs for them."""
    schema = connector.spec.schema()
    plans: list[Planned] = []
    flags: dict[str, Flag] = {}
    for e in suite.entries:
        c = e.check
        if isinstance(c, RowCountVsPrevious):
            if previous is None:
                kw: dict[str, Any] = {"min_value": 0}
                ctx: dict[str, Any] = {"previous": None}
            else:
                prev = _rows(previous)
                kw = {"min_value": math.ceil(prev * c.min_ratio)}
                if c.max_ratio is not None:
                    kw["max_value"] = math.floor(prev * c.max_ratio)
                ctx = {
                    "previous": prev,
                    "previous_snapshot": str(previous.snapshot_id),
                    "min_ratio": c.min_ratio,
                    "max_ratio": c.max_ratio,
                }
            plans.append(Planned(e, "expect_table_row_count_to_be_between", kw, ctx))
        elif isinstance(c, Freshness):
            since: dt.date | dt.datetime = run_date - dt.timedelta(days=c.max_age_days)
            if schema.get(c.column) == "TIMESTAMP":
                since = dt.datetime.combine(since, dt.time())
            plans.append(
                Planned(
                    e,
                    "expect_column_max_to_be_between",
                    {"column": c.column, "min_value": since},
                    {"days": c.max_age_days, "since": since, "run_date": run_date},
                )
            )
        elif isinstance(c, NotInFuture):
            until: dt.date | dt.datetime = run_date
            if schema.get(c.column) == "TIMESTAMP":
                until = dt.datetime.combine(run_date, dt.time.max)
            kw = {"column": c.column, "max_value": until}
            if c.mostly is not None:
                kw["mostly"] = c.mostly
            plans.append(
                Planned(e, "expect_column_values_to_be_between", kw, {"run_date": run_date})
            )
        elif isinstance(c, ValidIdRate):
            spec = connector.spec.columns.get(c.column)
            kind = c.kind or (spec.type if spec is not None else "cn_id")
            flag = f"_valid_{c.column}"
            flags[flag] = Flag(VALID_FUNCTION[kind], c.column)
            kw = {"column": flag, "value_set": [True], "mostly": c.mostly}
            plans.append(
                Planned(e, "expect_column_values_to_be_in_set", kw, {"kind": kind, "flag": flag})
            )
        elif isinstance(c, RejectedShare):
            # Rows rejected at ingest (a required or key value missing or unusable) never reach
            # the snapshot, so a column check cannot see them: bound the loaded rows instead.
            man = getattr(snapshot, "manifest", None) or {}
            read = int(man.get("rows_read") or 0)
            kw = {"min_value": math.ceil(read * (1 - c.max_share))}
            ctx = {
                "rows_read": read,
                "rows_rejected": int(man.get("rows_rejected") or 0),
                "max_share": c.max_share,
            }
            plans.append(Planned(e, "expect_table_row_count_to_be_between", kw, ctx))
        elif isinstance(c, RequiredColumns):
            cols = c.columns or list(connector.spec.columns)
            plans.append(
                Planned(
                    e,
                    "expect_table_columns_to_match_set",
                    {"column_set": list(cols), "exact_match": False},
                    {},
                )
            )
        else:
            plans.append(Planned(e, e.type, dict(e.args), {}))
    return plans, flags
