"""Store queries of the review loop: dispositions and their history, 回头看 per run, figures.

The logic (what a decision needs, what a 整改状态 is, what a figure counts) lives in
`collide.clues.dispositions`, `collide.clues.followup` and `collide.stats`; this module only
reads and writes the tables.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

# The disposition fields of a clue, as stored on `clues` and on each `reviews` row.
FIELDS = (
    "review_status",
    "review_note",
    "exclusion_reason",
    "assignee",
    "case_no",
    "recommendation_no",
    "issued_on",
    "rectify_by",
    "valid_until",
)


def _dicts(con: Any, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def clue_states(con: Any, clue_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Current disposition of each clue, with the evidence hash of its last active sighting."""
    if not clue_ids:
        return {}
    from collide.store.db import arrow_table

    con.register("__review_ids", arrow_table(con, {"clue_id": clue_ids}))
    try:
        rows = _dicts(
            con,
            f"""
            SELECT c.clue_id, c.model_id, {", ".join("c." + f for f in FIELDS)}, s.evidence_hash
            FROM clues c JOIN __review_ids USING (clue_id)
            LEFT JOIN (
                SELECT clue_id, arg_max(evidence_hash, run_id) AS evidence_hash FROM sightings
                WHERE lifecycle <> '已消失' AND clue_id IN (SELECT clue_id FROM __review_ids)
                GROUP BY clue_id
            ) s USING (clue_id)
            """,
        )
    finally:
        con.unregister("__review_ids")
    return {r["clue_id"]: r for r in rows}


def record_decision(
    con: Any,
    clue_id: str,
    values: dict[str, Any],
    *,
    at: dt.datetime,
    reviewer: str,
    source: str,
    source_row: int | None,
    evidence_hash: str | None,
    changes: dict[str, list[Any]],
) -> None:
    """Set the clue's current disposition and append the decision to its history."""
    sets = ", ".join(f"{f} = ?" for f in FIELDS)
    con.execute(
        f"UPDATE clues SET {sets}, reviewed_at = ?, reviewed_evidence_hash = ? WHERE clue_id = ?",
        [*(values.get(f) for f in FIELDS), at, evidence_hash, clue_id],
    )
    con.execute(
        "INSERT INTO reviews (clue_id, reviewed_at, decision, note, source, evidence_hash, "
        "reviewer, source_row, exclusion_reason, assignee, case_no, recommendation_no, "
        "issued_on, rectify_by, valid_until, changes) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            clue_id,
            at,
            values.get("review_status"),
            values.get("review_note"),
            source,
            evidence_hash,
            reviewer,
            source_row,
            *(values.get(f) for f in FIELDS[2:]),
            json.dumps(changes, ensure_ascii=False, default=str),
        ],
    )


def tracked_clues(con: Any) -> list[dict[str, Any]]:
    """Clues the follow-up watches: with a 检察建议, or closed (已办结); with the time the
    latest 已办结 decision was recorded."""
    return _dicts(
        con,
        """
        SELECT c.clue_id, c.model_id, c.review_status, c.recommendation_no, c.issued_on,
               c.rectify_by,
               (SELECT max(r.reviewed_at) FROM reviews r
                 WHERE r.clue_id = c.clue_id AND r.decision = '已办结') AS closed_at
        FROM clues c
        WHERE c.issued_on IS NOT NULL OR c.review_status = '已办结'
        """,
    )


def observations(con: Any, clue_ids: list[str]) -> dict[str, list[tuple[Any, Any, bool]]]:
    """Per clue, each committed run in which its model ran on complete inputs (status ok):
    (finished_at, run_date, hit), oldest first."""
    if not clue_ids:
        return {}
    from collide.store.db import arrow_table

    con.register("__track_ids", arrow_table(con, {"clue_id": clue_ids}))
    try:
        rows = con.execute(
            """
            SELECT t.clue_id, r.finished_at, r.run_date,
                   EXISTS (SELECT 1 FROM sightings s WHERE s.run_id = r.run_id
                           AND s.clue_id = t.clue_id AND s.lifecycle <> '已消失') AS hit
            FROM __track_ids t JOIN clues c USING (clue_id)
            JOIN run_models rm ON rm.model_id = c.model_id AND rm.status = 'ok'
            JOIN runs r ON r.run_id = rm.run_id
            ORDER BY t.clue_id, r.started_at, r.run_id
            """
        ).fetchall()
    finally:
        con.unregister("__track_ids")
    out: dict[str, list[tuple[Any, Any, bool]]] = {}
    for cid, started, run_date, hit in rows:
        out.setdefault(cid, []).append((started, run_date, bool(hit)))
    return out


def write_followups(con: Any, run_id: str, rows: list[dict[str, Any]]) -> None:
    from collide.store.db import insert_rows

    insert_rows(
        con,
        "followups",
        [{"run_id": run_id, **r} for r in rows],
        ["run_id", "clue_id", "status", "since", "deadline", "days_overdue"],
    )


def run_review_fields(con: Any, run_id: str) -> dict[str, dict[str, Any]]:
    """The disposition and 整改状态 of every clue sighted in a run (for its exports)."""
    rows = _dicts(
        con,
        f"""
        SELECT c.clue_id, {", ".join("c." + f for f in FIELDS[2:])},
               f.status AS followup, f.since AS followup_since, f.days_overdue
        FROM sightings s JOIN clues c USING (clue_id)
        LEFT JOIN followups f ON f.run_id = s.run_id AND f.clue_id = s.clue_id
        WHERE s.run_id = ?
        """,
        [run_id],
    )
    return {r["clue_id"]: r for r in rows}


# ---------------------------------------------------------------------------- figures


def period_runs(con: Any, start: dt.date | None, end: dt.date | None) -> list[dict[str, Any]]:
    """Runs whose run date falls in the period, with the models that ran on complete inputs."""
    return _dicts(
        con,
        """
        SELECT r.run_id, r.run_date, r.started_at, rm.model_id
        FROM runs r JOIN run_models rm USING (run_id)
        WHERE rm.status = 'ok' AND (?::DATE IS NULL OR r.run_date >= ?::DATE)
          AND (?::DATE IS NULL OR r.run_date <= ?::DATE)
        """,
        [start, start, end, end],
    )


def run_snapshots(con: Any, run_ids: list[str]) -> list[dict[str, Any]]:
    """The snapshot each dataset of these runs used, with its loaded row count."""
    if not run_ids:
        return []
    return _dicts(
        con,
        """
        SELECT rd.run_id, rd.dataset_id, rd.snapshot_id, s.rows_loaded
        FROM run_datasets rd
        JOIN snapshots s ON s.dataset_id = rd.dataset_id AND s.snapshot_id = rd.snapshot_id
        WHERE rd.run_id IN (SELECT unnest(?::VARCHAR[])) AND rd.snapshot_id IS NOT NULL
        """,
        [run_ids],
    )


def clue_figures(con: Any, start: dt.date | None, end: dt.date | None) -> list[dict[str, Any]]:
    """Every clue first seen in the period: its model, first run date, latest decision,
    whether any decision other than 待审查 was ever recorded, its 检察建议, its assignee and its
    latest 整改状态 as of the period's end."""
    return _dicts(
        con,
        """
        WITH first AS (
            SELECT c.clue_id, c.model_id, c.assignee, c.recommendation_no, c.issued_on,
                   r.run_date AS first_date
            FROM clues c JOIN runs r ON r.run_id = c.first_seen_run
            WHERE (?::DATE IS NULL OR r.run_date >= ?::DATE)
              AND (?::DATE IS NULL OR r.run_date <= ?::DATE)
        ),
        latest AS (
            SELECT clue_id, arg_max(decision, reviewed_at) AS decision,
                   bool_or(decision IS NOT NULL AND decision <> '待审查') AS reviewed,
                   bool_or(recommendation_no IS NOT NULL OR decision = '已制发检察建议')
                       AS recommended
            FROM reviews
            WHERE ?::DATE IS NULL OR CAST(reviewed_at AS DATE) <= ?::DATE
            GROUP BY clue_id
        ),
        follow AS (
            SELECT f.clue_id, arg_max(f.status, r.started_at) AS followup
            FROM followups f JOIN runs r USING (run_id)
            WHERE ?::DATE IS NULL OR r.run_date <= ?::DATE
            GROUP BY f.clue_id
        )
        SELECT first.*, latest.decision, coalesce(latest.reviewed, false) AS reviewed,
               coalesce(latest.recommended, false) AS recommended, follow.followup
        FROM first LEFT JOIN latest USING (clue_id) LEFT JOIN follow USING (clue_id)
        """,
        [start, start, end, end, end, end, end, end],
    )


def filed_dates(
    con: Any, clue_ids: list[str], end: dt.date | None, stages: list[str]
) -> list[dt.date]:
    """The day each clue first reached one of `stages` (立案 or later), up to `end`."""
    if not clue_ids:
        return []
    rows = con.execute(
        """
        SELECT min(CAST(reviewed_at AS DATE)) FROM reviews
        WHERE clue_id IN (SELECT unnest(?::VARCHAR[])) AND decision IN (SELECT unnest(?::VARCHAR[]))
          AND (?::DATE IS NULL OR CAST(reviewed_at AS DATE) <= ?::DATE)
        GROUP BY clue_id
        """,
        [clue_ids, stages, end, end],
    ).fetchall()
    return [r[0] for r in rows]


def model_titles(con: Any) -> dict[str, str]:
    """The title of each model's latest recorded version (models since removed keep theirs)."""
    rows = con.execute(
        "SELECT model_id, arg_max(title, first_run) FROM model_versions GROUP BY model_id"
    ).fetchall()
    return dict(rows)


def model_specs(con: Any) -> dict[str, str]:
    """The YAML text of each model's latest recorded version."""
    rows = con.execute(
        "SELECT model_id, arg_max(spec_text, first_run) FROM model_versions GROUP BY model_id"
    ).fetchall()
    return dict(rows)


def audit_entries(con: Any, start: dt.date | None, end: dt.date | None) -> list[dict[str, Any]]:
    return _dicts(
        con,
        """
        SELECT logged_at, action, detail FROM audit_log
        WHERE (?::DATE IS NULL OR CAST(logged_at AS DATE) >= ?::DATE)
          AND (?::DATE IS NULL OR CAST(logged_at AS DATE) <= ?::DATE)
        ORDER BY logged_at, rowid
        """,
        [start, start, end, end],
    )
