"""Every read and write of the store, as typed functions over an open connection.

Other modules never write SQL against the store: they call these (the review loop keeps its
own in store/reviews.py). Writes of a run happen inside `transaction()` (store/db.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from typing import Any

from collide.clues.build import GONE
from collide.store.db import arrow_table, insert_rows, now, one

# ---------------------------------------------------------------------------- runs


def latest_run(con: Any) -> str | None:
    row = one(con.execute("SELECT run_id FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 1"))
    return row[0] if row else None


def run_ids(con: Any) -> list[str]:
    return [r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY run_id").fetchall()]


def run_exists(con: Any, run_id: str) -> bool:
    return one(con.execute("SELECT 1 FROM runs WHERE run_id = ?", [run_id])) is not None


def run_record(con: Any, run_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The summary (manifest.json) and the quality reports stored with a run."""
    summary_json, quality_json = one(
        con.execute("SELECT summary, quality FROM runs WHERE run_id = ?", [run_id])
    )
    return json.loads(summary_json), json.loads(quality_json or "{}")


def insert_run(
    con: Any,
    *,
    run_id: str,
    started: dt.datetime,
    finished: dt.datetime,
    status: str,
    run_date: dt.date,
    params: str,
    selected: list[str],
    summary: str,
    quality: str,
) -> None:
    con.execute(
        "INSERT INTO runs (run_id, started_at, finished_at, status, run_date, params, selected, "
        "summary, quality) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, started, finished, status, run_date, params, ",".join(selected), summary, quality],
    )


def insert_run_dataset(
    con: Any,
    run_id: str,
    dataset_id: str,
    snapshot_id: str | None,
    status: str,
    quality_status: str | None,
    message: str,
) -> None:
    con.execute(
        "INSERT INTO run_datasets VALUES (?, ?, ?, ?, ?, ?)",
        [run_id, dataset_id, snapshot_id, status, quality_status, message],
    )


def insert_run_model(
    con: Any,
    run_id: str,
    model_id: str,
    version: str,
    status: str,
    hits: int,
    seconds: float,
    message: str,
) -> None:
    con.execute(
        "INSERT INTO run_models VALUES (?, ?, ?, ?, ?, ?, ?)",
        [run_id, model_id, version, status, hits, seconds, message],
    )


# ---------------------------------------------------------------------------- snapshots, models


def record_snapshot(
    con: Any,
    dataset_id: str,
    snapshot_id: str,
    created_at: Any,
    rows_read: int | None,
    rows_loaded: int | None,
    rows_rejected: int | None,
    path: str,
) -> None:
    """Record a snapshot once (a snapshot is immutable; later runs reuse the row)."""
    con.execute(
        "INSERT INTO snapshots SELECT ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM "
        "snapshots WHERE dataset_id = ? AND snapshot_id = ?)",
        [
            dataset_id,
            snapshot_id,
            created_at,
            rows_read,
            rows_loaded,
            rows_rejected,
            path,
            dataset_id,
            snapshot_id,
        ],
    )


def previous_snapshot_id(con: Any, dataset_id: str, snapshot_id: str) -> str | None:
    """The snapshot of `dataset_id` recorded before `snapshot_id` (for row-count comparisons)."""
    row = one(
        con.execute(
            "SELECT snapshot_id FROM snapshots WHERE dataset_id = ? AND snapshot_id <> ? "
            "ORDER BY created_at DESC LIMIT 1",
            [dataset_id, snapshot_id],
        )
    )
    return row[0] if row else None


def record_model_version(
    con: Any,
    model_id: str,
    version: str,
    title: str,
    spec_text: str,
    body_text: str,
    first_run: str,
) -> None:
    """Record the text of a model version once, at the first run that used it."""
    con.execute(
        "INSERT INTO model_versions SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM "
        "model_versions WHERE model_id = ? AND version = ?)",
        [model_id, version, title, spec_text, body_text, first_run, model_id, version],
    )


# ---------------------------------------------------------------------------- clues


def prior_clues(con: Any, clue_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored state (first seen, review) of the clues among `clue_ids` seen before."""
    if not clue_ids:
        return {}
    con.register("__ids", arrow_table(con, {"clue_id": clue_ids}))
    try:
        rows = con.execute("SELECT c.* FROM clues c JOIN __ids USING (clue_id)").fetchall()
        cols = [d[0] for d in con.description]
    finally:
        con.unregister("__ids")
    return {r[0]: dict(zip(cols, r)) for r in rows}


_ACTIVE_KEYS = [
    "clue_id",
    "subject_type",
    "subject_id",
    "subject_name",
    "reason",
    "evidence_hash",
    "model_version",
]


def last_active(con: Any, model_id: str) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """The last committed run that ran `model_id`, and its active (not gone) clues."""
    row = one(
        con.execute(
            "SELECT rm.run_id FROM run_models rm JOIN runs r USING (run_id) "
            "WHERE rm.model_id = ? AND rm.status = 'ok' "
            "ORDER BY r.started_at DESC, r.run_id DESC LIMIT 1",
            [model_id],
        )
    )
    if not row:
        return None, {}
    rows = con.execute(
        "SELECT s.clue_id, c.subject_type, c.subject_id, c.subject_name, s.reason, "
        "s.evidence_hash, s.model_version FROM sightings s JOIN clues c USING (clue_id) "
        "WHERE s.run_id = ? AND s.model_id = ? AND s.lifecycle <> ?",
        [row[0], model_id, GONE],
    ).fetchall()
    return row[0], {r[0]: dict(zip(_ACTIVE_KEYS, r)) for r in rows}


CLUE_COLUMNS = [
    "clue_id",
    "model_id",
    "subject_type",
    "subject_id",
    "subject_name",
    "first_seen_run",
    "first_seen_at",
    "last_seen_run",
    "review_status",
    "review_note",
]


def upsert_clues(con: Any, rows: list[dict[str, Any]]) -> None:
    """Insert new clues; for known ones update the name, last run and carried-over review."""
    con.execute("CREATE TEMP TABLE __new_clues AS SELECT * FROM clues LIMIT 0")
    try:
        insert_rows(con, "__new_clues", rows, CLUE_COLUMNS)
        con.execute(
            "INSERT INTO clues SELECT * FROM __new_clues ON CONFLICT (clue_id) DO UPDATE SET "
            "subject_name = excluded.subject_name, last_seen_run = excluded.last_seen_run, "
            "review_status = excluded.review_status, review_note = excluded.review_note"
        )
    finally:
        con.execute("DROP TABLE __new_clues")


SIGHTING_COLUMNS = [
    "run_id",
    "clue_id",
    "model_id",
    "model_version",
    "lifecycle",
    "score",
    "percentile",
    "risk",
    "rank",
    "models_hit",
    "reason",
    "evidence_hash",
    "output_json",
    "warnings_json",
]


def insert_sightings(con: Any, rows: list[dict[str, Any]]) -> None:
    insert_rows(con, "sightings", rows, SIGHTING_COLUMNS)


EVIDENCE_COLUMNS = ["run_id", "clue_id", "seq", "dataset", "row_json"]


def insert_evidence(con: Any, rows: list[dict[str, Any]]) -> None:
    insert_rows(con, "evidence", rows, EVIDENCE_COLUMNS)


_RUN_CLUE_KEYS = [
    "rank",
    "clue_id",
    "model_id",
    "model_title",
    "risk",
    "subject_type",
    "subject_name",
    "subject_id",
    "reason",
    "lifecycle",
    "first_seen",
    "models_hit",
    "warnings",
    "review_status",
    "review_note",
    "output",
    "model_version",
    "evidence_hash",
    "score",
]


def run_sightings(con: Any, run_id: str) -> list[dict[str, Any]]:
    """Every clue sighted in a run with its stored review state: ranked first, then the gone."""
    rows = con.execute(
        """
        SELECT s.rank, s.clue_id, s.model_id, mv.title, s.risk, c.subject_type, c.subject_name,
               c.subject_id, s.reason, s.lifecycle, c.first_seen_at, s.models_hit,
               s.warnings_json, c.review_status, c.review_note, s.output_json, s.model_version,
               s.evidence_hash, s.score
        FROM sightings s JOIN clues c USING (clue_id)
        LEFT JOIN model_versions mv ON mv.model_id = s.model_id AND mv.version = s.model_version
        WHERE s.run_id = ?
        ORDER BY s.rank NULLS LAST, s.model_id, s.clue_id
        """,
        [run_id],
    ).fetchall()
    out = []
    for r in rows:
        d = dict(zip(_RUN_CLUE_KEYS, r))
        d["warnings"] = json.loads(d["warnings"] or "[]")
        d["output"] = json.loads(d["output"] or "{}")
        d["first_seen"] = d["first_seen"].date().isoformat() if d["first_seen"] else ""
        out.append(d)
    return out


def run_evidence(
    con: Any, run_id: str, clue_ids: list[str], batch_rows: int = 50_000
) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """The source rows attached to each of `clue_ids` in a run, as (dataset, row JSON) in
    attachment order: one (clue, rows) pair per clue, in the order of `clue_ids` (rows empty
    for a clue without evidence).

    Read in batches, so memory holds one batch, never every row of 100k clues. Nothing else may
    run on `con` until the iterator is finished (DuckDB refuses work on a connection with a
    result open)."""
    if not clue_ids:
        return
    order = {"clue_id": clue_ids, "pos": list(range(len(clue_ids)))}
    con.register("__order", arrow_table(con, order, {"pos": "BIGINT"}))
    try:
        reader = con.sql(
            "SELECT o.pos, e.dataset, e.row_json FROM evidence e JOIN __order o USING (clue_id) "
            "WHERE e.run_id = $run ORDER BY o.pos, e.seq",
            params={"run": run_id},
        ).to_arrow_reader(batch_rows)
        pos, rows = 0, []
        for batch in reader:
            cols = batch.to_pydict()
            for at, dataset, text in zip(cols["pos"], cols["dataset"], cols["row_json"]):
                while pos < at:
                    yield clue_ids[pos], rows
                    pos, rows = pos + 1, []
                rows.append((dataset, text))
        while pos < len(clue_ids):
            yield clue_ids[pos], rows
            pos, rows = pos + 1, []
    finally:
        con.unregister("__order")


# ---------------------------------------------------------------------------- audit


def audit(con: Any, action: str, detail: dict[str, Any]) -> None:
    """Who did what, when: the operating-system account and host are recorded with it."""
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        user = f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
    who = {"user": user, "host": socket.gethostname(), **detail}
    con.execute(
        "INSERT INTO audit_log VALUES (?, ?, ?)",
        [now(), action, json.dumps(who, ensure_ascii=False, default=str)],
    )
