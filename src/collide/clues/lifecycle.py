"""Write one run into the store: lifecycle (新增/持续/已消失), review carry-over, sightings.

Called inside the run's single transaction (see Run.commit); the SQL is in store/queries.py.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from collide.clues.build import EXCLUDED, GONE, NEW, ONGOING, PENDING, Clue, jsonable, rank
from collide.store import queries
from collide.store.db import now

_EVIDENCE_BATCH = 100_000  # evidence rows written per insert


def _dumps(obj: Any) -> str:
    # Key order kept: an output row reads in the order the model's SELECT lists its columns.
    return json.dumps(jsonable(obj), ensure_ascii=False)


def apply_lifecycle(run: Any, con: Any, clues: list[Clue], summary: dict[str, Any]) -> int:
    """Set lifecycle/review on `clues`, write the run; return how many clues disappeared."""
    at = now()
    prior = queries.prior_clues(con, [c.clue_id for c in clues])
    reopened: list[tuple[Clue, dict[str, Any], str]] = []
    for c in clues:
        p = prior.get(c.clue_id)
        if p is None:
            c.lifecycle, c.first_seen = NEW, run.started.date().isoformat()
            continue
        c.lifecycle = ONGOING
        c.first_seen = p["first_seen_at"].date().isoformat() if p["first_seen_at"] else ""
        c.review_status = p["review_status"] or PENDING
        c.review_note = p["review_note"] or ""
        if c.review_status == EXCLUDED:
            back = _exclusion_ends(p, c, run.run_date)
            if back:
                reopened.append((c, p, back))
                c.review_note, c.review_status = back, PENDING

    # 回头看: 整改状态 of the clues with a 检察建议 (or closed); overdue ones rank first.
    from collide.clues.followup import follow_up

    followups = follow_up(run, con, clues)
    if followups:
        rank(clues)

    gone: list[dict[str, Any]] = []
    for mid, st in run.models.items():
        if st.status != "ok":
            continue
        _, active = queries.last_active(con, mid)
        current = {c.clue_id for c in st.clues}
        for cid, info in active.items():
            if cid not in current:
                gone.append({**info, "model_id": mid})

    queries.insert_run(
        con,
        run_id=run.run_id,
        started=run.started,
        # to the microsecond: a decision recorded just before this commit is told apart from
        # one just after it (回头看 of closed clues)
        finished=dt.datetime.now(),
        status=summary["status"],
        run_date=run.run_date,
        params=_dumps(run.params),
        selected=list(run.models),
        summary=_dumps(summary),
        quality=_dumps({ds: st.quality.to_dict() for ds, st in run.datasets.items() if st.quality}),
    )
    for ds, st in run.datasets.items():
        snap = st.snapshot
        if snap is not None:
            m = snap.manifest
            queries.record_snapshot(
                con,
                ds,
                snap.snapshot_id,
                m.get("created_at"),
                m.get("rows_read"),
                m.get("rows_loaded"),
                m.get("rows_rejected"),
                str(snap.dir),
            )
        queries.insert_run_dataset(
            con,
            run.run_id,
            ds,
            snap.snapshot_id if snap is not None else None,
            st.status,
            st.quality.status if st.quality is not None else None,
            st.message,
        )
    for mid, st in run.models.items():
        model = run.model(mid)
        queries.record_model_version(
            con,
            mid,
            st.version,
            model.spec.title,
            model.path.read_text(encoding="utf-8-sig"),
            model.sql or (model.rule_path.read_text(encoding="utf-8") if model.rule_path else ""),
            run.run_id,
        )
        queries.insert_run_model(
            con, run.run_id, mid, st.version, st.status, st.hits, st.seconds, st.message
        )

    queries.upsert_clues(
        con,
        [
            {
                "clue_id": c.clue_id,
                "model_id": c.model_id,
                "subject_type": c.subject_type,
                "subject_id": c.subject_id,
                "subject_name": c.subject_name,
                "first_seen_run": run.run_id,
                "first_seen_at": at,
                "last_seen_run": run.run_id,
                "review_status": c.review_status,
                "review_note": c.review_note,
            }
            for c in clues
        ],
    )

    rows = [
        {
            "run_id": run.run_id,
            "clue_id": c.clue_id,
            "model_id": c.model_id,
            "model_version": c.model_version,
            "lifecycle": c.lifecycle,
            "score": c.score,
            "percentile": c.percentile,
            "risk": c.risk,
            "rank": c.rank,
            "models_hit": c.models_hit,
            "reason": c.reason,
            "evidence_hash": c.evidence_hash,
            "output_json": _dumps(c.output),
            "warnings_json": _dumps(c.warnings),
        }
        for c in clues
    ]
    rows += [
        {
            "run_id": run.run_id,
            "clue_id": g["clue_id"],
            "model_id": g["model_id"],
            "model_version": g["model_version"],
            "lifecycle": GONE,
            "reason": g["reason"],
            "evidence_hash": g["evidence_hash"],
            "output_json": "{}",
            "warnings_json": "[]",
        }
        for g in gone
    ]
    queries.insert_sightings(con, rows)
    # in batches: the rows of 100k clues as dicts (and their Arrow copy) at once would be
    # several times the memory of the evidence itself
    ev_rows: list[dict[str, Any]] = []
    for c in clues:
        for i, r in enumerate(c.evidence):
            ev_rows.append(
                {
                    "run_id": run.run_id,
                    "clue_id": c.clue_id,
                    "seq": i,
                    "dataset": r.dataset,
                    "row_json": r.row_json,
                }
            )
        if len(ev_rows) >= _EVIDENCE_BATCH:
            queries.insert_evidence(con, ev_rows)
            ev_rows = []
    queries.insert_evidence(con, ev_rows)
    _record_reopened(run, con, reopened, dt.datetime.now())  # ordered with imports (µs)
    if followups:
        from collide.store.reviews import write_followups

        write_followups(con, run.run_id, followups)
    queries.audit(
        con,
        "run",
        {"run_id": run.run_id, "status": summary["status"], "clues": len(clues), "gone": len(gone)},
    )
    return len(gone)


def _exclusion_ends(prior: dict[str, Any], c: Clue, run_date: Any) -> str:
    """Why an excluded clue comes back for review ("" when it stays out): its evidence changed,
    or the date the exclusion held until (有效期至) has passed."""
    reason = prior.get("exclusion_reason") or c.review_note or "未填写"
    until = prior.get("valid_until")
    if until is not None and run_date > until:
        return f"排除有效期已于{until}届满，请重新审查（原排除理由：{reason}）"
    if prior["reviewed_evidence_hash"] != c.evidence_hash:
        return f"证据已变化，请重新审查（原排除理由：{c.review_note or '未填写'}）"
    return ""


def _record_reopened(
    run: Any, con: Any, reopened: list[tuple[Clue, dict[str, Any], str]], at: Any
) -> None:
    """An exclusion that ends is a change of the clue's disposition: kept in its history."""
    from collide.store.reviews import FIELDS, record_decision

    for c, p, note in reopened:
        values = {f: p.get(f) for f in FIELDS}
        values.update(
            review_status=PENDING, review_note=note, exclusion_reason=None, valid_until=None
        )
        record_decision(
            con,
            c.clue_id,
            values,
            at=at,
            reviewer="collide",
            source=f"run {run.run_id}",
            source_row=None,
            evidence_hash=c.evidence_hash,
            changes={
                "审查结论": [EXCLUDED, PENDING],
                "排除理由": [p.get("exclusion_reason"), None],
                "有效期至": [p.get("valid_until"), None],
            },
        )
