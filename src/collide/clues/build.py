"""From model output rows to ranked clues: stable ids, reasons, scores, evidence hashes.

Ranking (the README states it in two sentences): a model's raw scores are turned into a
percentile within that model (0…1), and each clue's risk is
`100 × severity/3 × (0.5 + 0.5 × percentile)` with severity low=1, medium=2, high=3; a subject
hit by k models has every one of its clues multiplied by `1 + 0.25 × (k − 1)`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import hashlib
import json
import re
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


# Reason templates: `{column}` (optionally `{column:.1f}`) prints a value; a part that reads
# naturally only sometimes sits between `{if CONDITION}` … `{else}` … `{end}` (nested freely).
# CONDITION: `name` (set: not empty, not 0, not 否), `not name`, or `name OP value` with OP one of
# == != > >= < <= and value a column name, a number or a quoted text ("…" or '…').
_TAG = re.compile(r"(?<!\{)\{(if\s+[^{}]*|else|end)\}(?!\})")
_COND = re.compile(
    r"^\s*(?:(not)\s+(\w+)|(\w+)(?:\s*(==|!=|>=|<=|>|<)\s*(\"[^\"]*\"|'[^']*'|[-\w.]+))?)\s*$"
)


class ReasonError(ValueError):
    """A reason template that cannot be read (reported with the model's file and line)."""


@dataclass
class _If:
    cond: tuple[bool, str, str | None, str | None]  # negate, name, op, operand
    then: list[Any] = field(default_factory=list)
    other: list[Any] = field(default_factory=list)


def _parse_cond(text: str) -> tuple[bool, str, str | None, str | None]:
    m = _COND.match(text)
    if m is None:
        raise ReasonError(
            f"cannot read the condition {{if {text.strip()}}}: write {{if name}}, {{if not name}} "
            "or {if name > 0} (== != > >= < <=)"
        )
    if m.group(1):
        return True, m.group(2), None, None
    return False, m.group(3), m.group(4), m.group(5)


def parse_reason(template: str) -> list[Any]:
    """The template as a tree of text parts (format strings) and `_If` nodes."""
    root: list[Any] = []
    stack: list[tuple[_If, bool]] = []  # open ifs, and whether we are in their {else}
    out = root
    pos = 0
    for m in _TAG.finditer(template):
        if m.start() > pos:
            out.append(template[pos : m.start()])
        tag = m.group(1)
        if tag.startswith("if"):
            node = _If(_parse_cond(tag[2:]))
            out.append(node)
            stack.append((node, False))
            out = node.then
        elif tag == "else":
            if not stack or stack[-1][1]:
                raise ReasonError("{else} without an {if} before it")
            node = stack[-1][0]
            stack[-1] = (node, True)
            out = node.other
        else:
            if not stack:
                raise ReasonError("{end} without an {if} before it")
            stack.pop()
            out = root if not stack else (stack[-1][0].other if stack[-1][1] else stack[-1][0].then)
        pos = m.end()
    if stack:
        raise ReasonError("an {if …} is not closed: add {end}")
    if pos < len(template):
        out.append(template[pos:])
    return root


def reason_fields(template: str) -> list[str]:
    """Every column a reason template reads (values and conditions), for `collide check`."""
    names: list[str] = []

    def walk(parts: list[Any]) -> None:
        for part in parts:
            if isinstance(part, str):
                for _, name, _, _ in string.Formatter().parse(part):
                    if name:
                        names.append(name)
            else:
                _neg, name, _op, operand = part.cond
                names.append(name)
                if operand is not None and re.fullmatch(r"[A-Za-z_]\w*", operand):
                    names.append(operand)
                walk(part.then)
                walk(part.other)

    walk(parse_reason(template))
    return list(dict.fromkeys(names))


def _set(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, (int, float, decimal.Decimal)):
        return value != 0
    return display(value).strip() not in ("", "0", "否")


def _operand(text: str, row: dict[str, Any]) -> Any:
    if text[0] in "\"'":
        return text[1:-1]
    if text in row:
        return row[text]
    try:
        return decimal.Decimal(text)
    except decimal.InvalidOperation:
        return text


def _compare(a: Any, op: str, b: Any) -> bool:
    try:
        x, y = decimal.Decimal(str(a)), decimal.Decimal(str(b))
    except (decimal.InvalidOperation, ValueError):
        x, y = display(a), display(b)  # dates compare as ISO text
    if a is None or b is None:
        return (op == "==") == (a is None and b is None) if op in ("==", "!=") else False
    return {
        "==": x == y,
        "!=": x != y,
        ">": x > y,
        ">=": x >= y,
        "<": x < y,
        "<=": x <= y,
    }[op]


def _holds(cond: tuple[bool, str, str | None, str | None], row: dict[str, Any]) -> bool:
    negate, name, op, operand = cond
    value = row.get(name)
    if op is None or operand is None:
        return not _set(value) if negate else _set(value)
    return _compare(value, op, _operand(operand, row))


@functools.lru_cache(maxsize=256)
def _parsed(template: str) -> list[Any]:
    """A template parsed once, not once per clue (callers only read the tree)."""
    return parse_reason(template)


_FORMATTER = _ReasonFormatter()


def render_reason(template: str, row: dict[str, Any]) -> str:
    fmt = _FORMATTER

    def walk(parts: list[Any]) -> str:
        text = []
        for part in parts:
            if isinstance(part, str):
                text.append(fmt.vformat(part, (), row))
            else:
                text.append(walk(part.then if _holds(part.cond, row) else part.other))
        return "".join(text)

    return walk(_parsed(template))


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
    from collide.engine.backend import SCORE_COL

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
