"""From model output rows to ranked clues: stable ids, reasons, scores, evidence hashes.

Ranking (the README states it in two sentences): a model's raw scores are turned into a
percentile within that model (0…1), and each clue's risk is
`100 × severity/3 × (0.5 + 0.5 × percentile)` with severity low=1, medium=2, high=3; a subject
hit by k models has every one of its clues multiplied by `1 + 0.25 × (k − 1)`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import string
from dataclasses import dataclass, field
from typing import Any

from collide.config.specs import SEVERITY_WEIGHT
from collide.jsonutil import jsonable

NEW, ONGOING, GONE = "新增", "持续", "已消失"
PENDING, CONFIRMED, EXCLUDED, FILED = "待审查", "确认", "排除", "已立案"
RECOMMENDED, PROSECUTED, CLOSED = "已制发检察建议", "已起诉", "已办结"
REVIEW_STATES = (PENDING, CONFIRMED, EXCLUDED, FILED, RECOMMENDED, PROSECUTED, CLOSED)
# 整改状态 (回头看) of a clue with a 检察建议, or closed
IN_TERM, RECTIFIED, OVERDUE, RECURRED = "整改期内", "已整改", "逾期未整改", "整改后复发"


def clue_id(model_id: str, subject_id: str) -> str:
    """Same model + same subject → same id, run after run."""
    digest = hashlib.sha256(f"{model_id}\x1f{subject_id}".encode()).hexdigest()
    return "XS" + digest[:10].upper()


def display(value: Any) -> str:
    """How a value reads in a reason or a sheet: dates as 2024-03-01, money as 1234.50."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return (
            format(value.quantize(decimal.Decimal("0.01")), "f")
            if value % 1
            else format(value.quantize(decimal.Decimal(1)), "f")
        )
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if not value.is_integer() else str(int(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


class _ReasonFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec:
            try:
                return format(
                    float(value) if isinstance(value, decimal.Decimal) else value, format_spec
                )
            except (TypeError, ValueError):
                pass
        return display(value)


def render_reason(template: str, row: dict[str, Any]) -> str:
    return _ReasonFormatter().vformat(template, (), row)


def evidence_hash(rows: list[Any], output: dict[str, Any]) -> str:
    """Hash of what a reviewer judged: the source rows' content (not their provenance), or the
    output row when the model attaches no evidence."""
    if rows:
        payload = sorted(r.row_hash for r in rows)
    else:
        payload = [json.dumps(jsonable(output), sort_keys=True, ensure_ascii=False)]
    return hashlib.sha256("\n".join(payload).encode()).hexdigest()[:16]


@dataclass
class Clue:
    clue_id: str
    model_id: str
    model_version: str
    model_title: str
    domain: str
    severity: str
    subject_type: str
    subject_id: str
    subject_name: str
    score: float | None
    reason: str
    output: dict[str, Any]
    evidence: list[Any]  # collide.models.EvidenceRow
    evidence_hash: str
    percentile: float = 1.0
    risk: float = 0.0
    rank: int | None = None
    models_hit: int = 1
    lifecycle: str = NEW
    first_seen: str = ""
    review_status: str = PENDING
    review_note: str = ""
    warnings: list[str] = field(default_factory=list)
    followup: str = ""  # 整改状态, set by clues.followup
    days_overdue: int | None = None


def _float(v: Any) -> float | None:
    if v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def percentiles(scores: list[float | None]) -> list[float]:
    """Percentile of each score within its model (ties share the average); None counts lowest."""
    n = len(scores)
    if n <= 1:
        return [1.0] * n
    keyed = sorted(range(n), key=lambda i: (scores[i] is not None, scores[i] or 0.0))
    out = [0.0] * n
    i = 0
    while i < n:
        j = i
        while j + 1 < n and scores[keyed[j + 1]] == scores[keyed[i]]:
            j += 1
        avg = (i + j) / 2 / (n - 1)
        for k in range(i, j + 1):
            out[keyed[k]] = avg
        i = j + 1
    return out


def build_clues(model, output) -> list[Clue]:
    """Clues of one model's output (not yet ranked across models)."""
    from collide.modelrun.execute import SCORE_COL

    spec = model.spec
    clues = []
    for row in output.rows:
        subject = display(row[spec.subject.id])
        shown = {k: v for k, v in row.items() if k != SCORE_COL}
        ev = output.evidence.get(subject, [])
        clues.append(
            Clue(
                clue_id=clue_id(spec.id, subject),
                model_id=spec.id,
                model_version=output.version,
                model_title=spec.title,
                domain=spec.domain,
                severity=spec.severity,
                subject_type=spec.subject.type,
                subject_id=subject,
                subject_name=display(row.get(spec.subject.name)) if spec.subject.name else "",
                score=_float(row.get(SCORE_COL)),
                reason=render_reason(spec.reason, shown),
                output=shown,
                evidence=ev,
                evidence_hash=evidence_hash(ev, shown),
            )
        )
    for clue, pct in zip(clues, percentiles([c.score for c in clues])):
        clue.percentile = pct
    return clues


def rank(clues: list[Clue]) -> list[Clue]:
    """Risk per the module docstring; rank 1 = most urgent. Returns the clues sorted.

    A clue whose 检察建议 deadline has passed while the model still hits it (逾期未整改) ranks
    above every other clue, the longest overdue first: it is the finding of the follow-up."""
    models_per_subject: dict[str, set[str]] = {}
    for c in clues:
        models_per_subject.setdefault(c.subject_id, set()).add(c.model_id)
    for c in clues:
        c.models_hit = len(models_per_subject[c.subject_id])
        base = 100.0 * SEVERITY_WEIGHT[c.severity] / 3.0 * (0.5 + 0.5 * c.percentile)
        c.risk = round(base * (1.0 + 0.25 * (c.models_hit - 1)), 1)
    ordered = sorted(
        clues,
        key=lambda c: (
            c.followup != OVERDUE,
            -(c.days_overdue or 0) if c.followup == OVERDUE else 0,
            -c.risk,
            -SEVERITY_WEIGHT[c.severity],
            c.clue_id,
        ),
    )
    for i, c in enumerate(ordered, 1):
        c.rank = i
    return ordered
