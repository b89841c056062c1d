"""What a reviewer's decision on a clue must carry, and what it defaults to.

审查结论 runs along one path, 待审查 → 确认 → 已立案 → 已制发检察建议 → 已起诉 → 已办结, with 排除
off it. 排除 needs a reason from the project's list and may hold until a date (有效期至); 已立案
needs a 案号; 已制发检察建议 needs its 文号 and 制发日期, and its 整改期限 defaults to 制发日期 plus
the model's (or the project's) rectification months — two, by the judicial interpretation.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

from collide.clues.build import (
    CLOSED,
    CONFIRMED,
    EXCLUDED,
    FILED,
    PENDING,
    PROSECUTED,
    RECOMMENDED,
)

# The path a clue takes; "确认 or any later stage" and "已立案 or later" are read off it.
PATH = (PENDING, CONFIRMED, FILED, RECOMMENDED, PROSECUTED, CLOSED)
CONFIRMED_OR_LATER = frozenset(PATH[1:])
FILED_OR_LATER = frozenset(PATH[2:])

# Reviewer's file column → disposition field (审查结论 and 线索编号 are read apart).
COLUMNS: dict[str, str] = {
    "审查意见": "review_note",
    "排除理由": "exclusion_reason",
    "承办人": "assignee",
    "案号": "case_no",
    "检察建议文号": "recommendation_no",
    "制发日期": "issued_on",
    "整改期限": "rectify_by",
    "有效期至": "valid_until",
}
DATE_FIELDS = ("issued_on", "rectify_by", "valid_until")
LABEL = {v: k for k, v in COLUMNS.items()} | {"review_status": "审查结论"}


def parse_dates(values: list[Any]) -> list[dt.date | None]:
    """Dates as agencies and reviewers write them (2026-03-01, 2026/3/1, 2026年3月1日,
    20260301, a spreadsheet date cell), read by ingest's own `date` type; None where a text
    has no single reading."""
    out: list[dt.date | None] = [None] * len(values)
    texts: dict[int, str] = {}
    for i, v in enumerate(values):
        if isinstance(v, dt.datetime):
            out[i] = v.date()
        elif isinstance(v, dt.date):
            out[i] = v
        elif v is not None and str(v).strip():
            texts[i] = str(v).strip()
    if texts:
        import polars as pl

        from collide.ingest.semantic import column_exprs

        frame = pl.DataFrame({"v": list(texts.values())}, schema={"v": pl.Utf8})
        parsed = frame.select(column_exprs("v", "v", "date").value).to_series().to_list()
        for i, value in zip(texts, parsed):
            out[i] = value
    return out


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later; the month's last day when it has no such day
    (2026-12-31 + 2 → 2027-02-28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def rectification_months(project: Any, model_id: str) -> int:
    model = project.catalog.models.get(model_id)
    if model is not None and model.spec.rectification_months is not None:
        return model.spec.rectification_months
    return project.config.review.rectification_months


def model_line(project: Any, model_id: str) -> str:
    """The 条线 of a model's clues: its own `line:`, else collide.yaml's, else 未分流."""
    model = project.catalog.models.get(model_id)
    line = model.spec.line if model is not None else None
    return line or project.config.line or "未分流"


def default_assignee(project: Any, model_id: str) -> str:
    model = project.catalog.models.get(model_id)
    return (model.spec.assignee or "") if model is not None else ""


@dataclass
class Check:
    """One reviewer's row, read into disposition values, or the problems that stop it."""

    values: dict[str, Any]
    problems: list[tuple[str, str]]  # (problem, fix)


def check_row(
    decision: str,
    cells: dict[str, str],
    dates: dict[str, dt.date | None],
    stored: dict[str, Any],
    reasons: tuple[str, ...],
    months: int,
) -> Check:
    """The disposition a row asks for. `cells` holds the columns the file has (a column the file
    lacks keeps the stored value); `dates` the parsed date cells."""
    values: dict[str, Any] = {"review_status": decision}
    for field in COLUMNS.values():
        if field in cells:
            values[field] = dates.get(field) if field in DATE_FIELDS else (cells[field] or None)
        else:
            values[field] = stored.get(field)
    problems: list[tuple[str, str]] = []
    for field in DATE_FIELDS:
        if field in cells and cells[field] and dates.get(field) is None:
            problems.append(
                (
                    f'{LABEL[field]} "{cells[field]}" is not a date',
                    "Write it like 2026-03-01 or 2026年3月1日",
                )
            )
    reason = values["exclusion_reason"]
    if decision == EXCLUDED:
        note = (values["review_note"] or "").strip()
        if not reason and note in reasons:
            reason = values["exclusion_reason"] = note  # "冒名登记" written as the note
        if not reason:
            where = (
                "in 排除理由"
                if "exclusion_reason" in cells
                else "in a 排除理由 column (this file has none: export the hit list again)"
            )
            problems.append(
                (
                    "排除 needs a 排除理由",
                    f"Write one of {' / '.join(reasons)} {where} (more can be added in "
                    "collide.yaml, review: exclusion_reasons)",
                )
            )
        elif reason not in reasons:
            problems.append(
                (
                    f'排除理由 "{reason}" is not one of {" / ".join(reasons)}',
                    "Use one of these words exactly, or add it to collide.yaml "
                    "(review: exclusion_reasons)",
                )
            )
    else:
        # An exclusion's details end with it; a cell that still says something is a mistake.
        if (cells.get("exclusion_reason") or "").strip():
            problems.append(
                (
                    f"排除理由 is given but 审查结论 is {decision}",
                    "Empty 排除理由, or set 审查结论 to 排除",
                )
            )
        if (cells.get("valid_until") or "").strip():
            problems.append(
                (
                    f"有效期至 is given but 审查结论 is {decision}",
                    "有效期至 is for an exclusion that holds until a date: empty it",
                )
            )
        values["exclusion_reason"] = values["valid_until"] = None
    if decision == FILED and not values["case_no"]:
        problems.append(("已立案 needs a 案号", "Write the case number in 案号"))
    if decision == RECOMMENDED:
        if not values["recommendation_no"]:
            problems.append(
                ("已制发检察建议 needs a 检察建议文号", "Write the document number in 检察建议文号")
            )
        if values["issued_on"] is None and not (cells.get("issued_on") or "").strip():
            problems.append(
                ("已制发检察建议 needs a 制发日期", "Write the date it was issued in 制发日期")
            )
    if values["issued_on"] is not None and values["rectify_by"] is None:
        values["rectify_by"] = add_months(values["issued_on"], months)
    if (
        values["issued_on"] is not None
        and values["rectify_by"] is not None
        and values["rectify_by"] < values["issued_on"]
    ):
        problems.append(
            (
                f"整改期限 {values['rectify_by']} is before 制发日期 {values['issued_on']}",
                "Check both dates",
            )
        )
    return Check(values, problems)


def decorate(project: Any, con: Any, run_id: str, rows: list[dict[str, Any]]) -> None:
    """Add a run's dispositions, 条线 and 整改状态 to its exported rows (clues.csv agrees with
    `collide stats`: the latest decision, the latest 整改状态)."""
    from collide.clues.followup import label
    from collide.store.reviews import run_review_fields

    fields = run_review_fields(con, run_id)
    for r in rows:
        f = fields.get(r["clue_id"], {})
        for key in COLUMNS.values():
            if key in ("review_note",):
                continue
            r[key] = f.get(key)
        r["assignee"] = r["assignee"] or default_assignee(project, r["model_id"])
        r["line"] = model_line(project, r["model_id"])
        r["followup"] = label(
            f.get("followup") or "", f.get("followup_since"), f.get("days_overdue")
        )
