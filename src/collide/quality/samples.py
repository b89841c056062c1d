"""Failing-row samples: the first rows that break an expectation, with where they are in the
agency's file (`_source_file`, `_source_row`), so the clerk can send them back.

Which rows break a rule is GX's to say, never re-derived here. For a column, column-pair or
multi-column map expectation GX writes the query for its failing rows (`unexpected_index_query`)
in the same run that counted them; we only wrap it to keep the first rows in file order. Where
GX's query is not usable — compound-column uniqueness, whose query GX builds as a cross join — the
sample takes the duplicated value combinations GX itself lists and finds the rows holding them.
A table-level check (row count, freshness, columns present) names no rows; `rejected_share` shows
the first rows rejected at ingest, with their reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from collide.jsonutil import jsonable
from collide.quality.gx import LOCATION, VIEW, GxResult, Session, quote
from collide.quality.plan import Planned
from collide.quality.suite import entry_columns

__all__ = ["SAMPLE_ROWS", "row_columns", "samples"]

SAMPLE_ROWS = 20
_ORDER = ", ".join(quote(c) for c in LOCATION)
# GX's failing-row query for these is wrong on SQL backends; their rows are found from the values
_BY_VALUES = {"expect_compound_columns_to_be_unique"}


def shown_columns(plan: Planned) -> list[str]:
    """The columns a sample of `plan` shows: those the suite entry names, in its order."""
    return list(dict.fromkeys(c for _, c in entry_columns(plan.entry)))


def row_columns(plans: list[Planned]) -> list[str]:
    """Every column some sample shows: GX's failing-row queries select them all."""
    return list(dict.fromkeys(c for p in plans for c in shown_columns(p)))


def samples(session: Session, plan: Planned, res: GxResult, snapshot: Any) -> list[dict]:
    """Up to SAMPLE_ROWS failing rows of a failed expectation, in the agency's file order."""
    if plan.entry.type == "rejected_share":
        return _rejects(session, snapshot)
    if plan.kwargs.get("row_condition"):
        return []  # GX's failing-row query reads the whole table, not the filtered rows
    cols = [*LOCATION, *shown_columns(plan)]
    if plan.gx_type in _BY_VALUES:
        return _by_values(session, plan, cols)
    if res.unexpected_query is None:
        return []
    names, rows = session.rows(
        f"SELECT {', '.join(quote(c) for c in cols)} FROM ({res.unexpected_query}) "
        f"ORDER BY {_ORDER} LIMIT {SAMPLE_ROWS}"
    )
    return [{k: jsonable(v) for k, v in zip(names, row)} for row in rows]


def _by_values(session: Session, plan: Planned, cols: list[str]) -> list[dict]:
    """Rows holding the value combinations GX lists as duplicated."""
    listed = session.validate([plan.gx_check()], [], partial=SAMPLE_ROWS).get(plan.entry.index)
    values = (listed.result.get("partial_unexpected_list") if listed else None) or []
    keys = list(plan.kwargs.get("column_list") or [])
    combos = list(
        dict.fromkeys(
            tuple(v[k] for k in keys)
            for v in values
            if isinstance(v, dict) and all(k in v for k in keys)
        )
    )
    if not combos or not keys:
        return []
    one = "(" + " AND ".join(f"{quote(k)} IS NOT DISTINCT FROM ?" for k in keys) + ")"
    names, rows = session.rows(
        f"SELECT {', '.join(quote(c) for c in cols)} FROM {VIEW} "
        f"WHERE {' OR '.join([one] * len(combos))} ORDER BY {_ORDER} LIMIT {SAMPLE_ROWS}",
        [x for combo in combos for x in combo],
    )
    return [{k: jsonable(v) for k, v in zip(names, row)} for row in rows]


def _rejects(session: Session, snapshot: Any) -> list[dict]:
    """The first rejected rows with where they are and why, to send back to the agency."""
    path = getattr(snapshot, "rejects_path", None)
    if path is None or not Path(path).is_file():
        return []
    _, rows = session.rows(
        "SELECT _source_file, _source_row, _reason FROM read_parquet(?) "
        f"ORDER BY _source_file, _source_row LIMIT {SAMPLE_ROWS}",
        [str(path)],
    )
    return [{"_source_file": f, "_source_row": r, "reason": why} for f, r, why in rows]
