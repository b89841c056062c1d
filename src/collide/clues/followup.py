"""回头看 on every run: is the problem a 检察建议 named still in the data?

A model that runs nightly is the cheapest follow-up there is. For each clue with a 检察建议 (or
closed, 已办结) the runs in which its model ran on complete inputs since the recommendation was
issued (or the case closed) are read in order, and the clue gets a 整改状态:

- 整改期内 — still hit, and the 整改期限 has not passed;
- 已整改 — the model ran and no longer hits the subject (since the first such run);
- 逾期未整改 — still hit after the 整改期限: ranked above every other clue, the days overdue in
  the reason;
- 整改后复发 — it was gone and is hit again; for a closed clue, any hit after it was closed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from collide.clues.build import IN_TERM, OVERDUE, RECTIFIED, RECURRED, Clue


@dataclass(frozen=True)
class Observation:
    committed: dt.datetime  # when the run was written (its finished_at)
    run_date: dt.date
    hit: bool  # the model ran on complete inputs and hit the subject


@dataclass(frozen=True)
class Tracked:
    clue_id: str
    recommendation_no: str | None
    issued_on: dt.date | None
    rectify_by: dt.date | None
    closed_at: dt.datetime | None  # when 已办结 was recorded, if the clue is closed


@dataclass(frozen=True)
class Status:
    status: str
    since: dt.date | None = None  # 已整改: first run gone; 整改后复发: first run hit again
    deadline: dt.date | None = None
    days_overdue: int | None = None


def status_of(t: Tracked, history: list[Observation]) -> Status | None:
    """The 整改状态 after the observations `history` (oldest first); None when there is none
    to give (a closed clue not observed since it was closed)."""

    def counts(o: Observation) -> bool:
        after_issue = t.issued_on is not None and o.run_date >= t.issued_on
        after_close = t.closed_at is not None and o.committed > t.closed_at
        return after_issue or after_close

    seen = [o for o in history if counts(o)]
    if not seen:
        return Status(IN_TERM, deadline=t.rectify_by) if t.issued_on is not None else None
    gone_since: dt.date | None = None
    back_since: dt.date | None = None
    was_gone = False
    for o in seen:
        if o.hit:
            if gone_since is not None:
                back_since = o.run_date
            gone_since = None
        else:
            if gone_since is None:
                gone_since = o.run_date
            was_gone = True
    last = seen[-1]
    if not last.hit:
        return Status(RECTIFIED, since=gone_since, deadline=t.rectify_by)
    if was_gone:
        return Status(RECURRED, since=back_since, deadline=t.rectify_by)
    if t.closed_at is not None:
        after = [o for o in seen if o.hit and o.committed > t.closed_at]
        if after:
            return Status(RECURRED, since=after[0].run_date, deadline=t.rectify_by)
    if t.rectify_by is not None and last.run_date > t.rectify_by:
        return Status(
            OVERDUE,
            deadline=t.rectify_by,
            days_overdue=(last.run_date - t.rectify_by).days,
        )
    return Status(IN_TERM, deadline=t.rectify_by)


def label(status: str, since: Any = None, days: int | None = None) -> str:
    """The 整改状态 cell of the hit list: the state, with its date or days where it has one."""
    if status == OVERDUE and days is not None:
        return f"{status}（逾期{days}天）"
    if status == RECTIFIED and since:
        return f"{status}（{since}起未再命中）"
    if status == RECURRED and since:
        return f"{status}（{since}再次命中）"
    return status or ""


def follow_up(run: Any, con: Any, clues: list[Clue]) -> list[dict[str, Any]]:
    """Set 整改状态 (and, when overdue or back, the reason's opening) on this run's clues; the
    rows to store for every tracked clue. Called before this run is written, so the store
    holds the earlier runs and this one is added from memory."""
    from collide.store.reviews import observations, tracked_clues

    tracked = [
        (
            Tracked(
                r["clue_id"],
                r["recommendation_no"],
                r["issued_on"],
                r["rectify_by"],
                r["closed_at"] if r["review_status"] == "已办结" else None,
            ),
            r["model_id"],
        )
        for r in tracked_clues(con)
    ]
    if not tracked:
        return []
    current = {c.clue_id: c for c in clues}
    ran = {mid for mid, st in run.models.items() if st.status == "ok"}
    history = observations(con, [t.clue_id for t, _ in tracked])
    rows = []
    for t, model_id in tracked:
        seen = [Observation(*o) for o in history.get(t.clue_id, [])]
        if model_id in ran:
            seen.append(Observation(dt.datetime.now(), run.run_date, t.clue_id in current))
        st = status_of(t, seen)
        if st is None:
            continue
        rows.append(
            {
                "clue_id": t.clue_id,
                "status": st.status,
                "since": st.since,
                "deadline": st.deadline,
                "days_overdue": st.days_overdue,
            }
        )
        c = current.get(t.clue_id)
        if c is None:
            continue
        c.followup, c.days_overdue = st.status, st.days_overdue
        doc = f"检察建议{t.recommendation_no}" if t.recommendation_no else "检察建议"
        if st.status == OVERDUE:
            c.reason = (
                f"【逾期未整改】{doc}整改期限{st.deadline}已届满，逾期{st.days_overdue}天"
                f"仍被模型命中。{c.reason}"
            )
        elif st.status == RECURRED:
            what = f"{doc}整改后" if t.issued_on is not None else "办结后"
            c.reason = f"【整改后复发】{what}{st.since}再次命中。{c.reason}"
    return rows
