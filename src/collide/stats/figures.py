"""The figures of a period, one definition each (the README states them; clues.csv agrees).

- 运行次数: runs in the period in which the model ran on complete inputs;
- 数据条数: rows loaded into the model's inputs in those runs, each snapshot counted once;
- 线索数: distinct clues first seen in the period;
- 已审查: those of them with any decision other than 待审查;
- 确认: those whose latest decision is 确认 or a later stage
  (已立案, 已制发检察建议, 已起诉, 已办结);
- 排除: those whose latest decision is 排除;
- 已立案: those whose latest decision is 已立案 or later;
- 检察建议: those with a 检察建议 recorded;
- 已整改 / 逾期未整改: those whose latest 整改状态 (as of the period's end) is that;
- 准确率 = 确认 / 已审查; 成案率 = 已立案 / 线索数 (empty when the divisor is 0).

Decisions count up to the period's end, so a report for last year does not change when a
clue is decided today.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from collide.clues.build import EXCLUDED, OVERDUE, RECTIFIED
from collide.clues.dispositions import (
    CONFIRMED_OR_LATER,
    FILED_OR_LATER,
    default_assignee,
    model_line,
)

METRICS = [
    "运行次数",
    "数据条数",
    "线索数",
    "已审查",
    "确认",
    "排除",
    "已立案",
    "检察建议",
    "已整改",
    "逾期未整改",
    "准确率",
    "成案率",
]
GROUP_COLUMNS = {"model": ["模型", "模型名称", "条线"], "line": ["条线"], "assignee": ["承办人"]}
COLUMNS = GROUP_COLUMNS["model"] + METRICS
TOTAL = "合计"
UNASSIGNED = "未分配"


@dataclass
class Figures:
    by: str
    start: dt.date | None
    end: dt.date | None
    columns: list[str]
    rows: list[dict[str, Any]]  # the last one is 合计
    models: int  # models that ran in the period
    agencies: int  # agencies whose data those runs read
    months: list[tuple[str, int, int]] = field(default_factory=list)  # (YYYY-MM, 线索, 立案)


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def _inputs(project: Any, specs: dict[str, str], model_id: str) -> list[str]:
    """A model's input datasets: from the project, or from its last recorded YAML when the
    model has since been removed."""
    model = project.catalog.models.get(model_id)
    if model is not None:
        return list(model.spec.datasets)  # (not the models it reads: `model:` inputs)
    text = specs.get(model_id)
    if not text:
        return []
    from ruamel.yaml import YAML, YAMLError

    try:
        data = YAML(typ="safe").load(text) or {}
    except YAMLError:
        return []
    inputs = data.get("inputs") if isinstance(data, dict) else None
    if not isinstance(inputs, list):
        return []
    return [str(i) for i in inputs if not str(i).startswith("model:")]  # datasets only


def compute(
    project: Any, con: Any, start: dt.date | None, end: dt.date | None, by: str = "model"
) -> Figures:
    from collide.store import reviews as q

    runs = q.period_runs(con, start, end)
    runs_of: dict[str, set[str]] = {}
    for r in runs:
        runs_of.setdefault(r["model_id"], set()).add(r["run_id"])
    snaps = q.run_snapshots(con, sorted({r["run_id"] for r in runs}))
    specs = q.model_specs(con)
    titles = q.model_titles(con)
    inputs = {mid: set(_inputs(project, specs, mid)) for mid in set(runs_of) | set(titles)}
    clues = q.clue_figures(con, start, end)

    def key_of_model(mid: str) -> str:
        return mid if by == "model" else model_line(project, mid)

    def key_of_clue(c: dict[str, Any]) -> str:
        if by == "assignee":
            return c["assignee"] or default_assignee(project, c["model_id"]) or UNASSIGNED
        return key_of_model(c["model_id"])

    # which models make up each group (for 运行次数 and 数据条数)
    members: dict[str, set[str]] = {}
    if by != "assignee":
        for mid in runs_of:
            members.setdefault(key_of_model(mid), set()).add(mid)
    for c in clues:
        members.setdefault(key_of_clue(c), set()).add(c["model_id"])

    def usage(models: set[str]) -> tuple[int, int]:
        run_ids = set().union(*(runs_of.get(m, set()) for m in models)) if models else set()
        datasets = set().union(*(inputs.get(m, set()) for m in models)) if models else set()
        seen = {
            (s["dataset_id"], s["snapshot_id"]): s["rows_loaded"] or 0
            for s in snaps
            if s["run_id"] in run_ids and s["dataset_id"] in datasets
        }
        return len(run_ids), sum(seen.values())

    def counts(group: list[dict[str, Any]]) -> dict[str, Any]:
        n = len(group)
        reviewed = sum(1 for c in group if c["reviewed"])
        confirmed = sum(1 for c in group if c["decision"] in CONFIRMED_OR_LATER)
        filed = sum(1 for c in group if c["decision"] in FILED_OR_LATER)
        return {
            "线索数": n,
            "已审查": reviewed,
            "确认": confirmed,
            "排除": sum(1 for c in group if c["decision"] == EXCLUDED),
            "已立案": filed,
            "检察建议": sum(1 for c in group if c["recommended"]),
            "已整改": sum(1 for c in group if c["followup"] == RECTIFIED),
            "逾期未整改": sum(1 for c in group if c["followup"] == OVERDUE),
            "准确率": _ratio(confirmed, reviewed),
            "成案率": _ratio(filed, n),
        }

    rows = []
    # the groups nobody was given (未分配, 未分流) come last
    for key in sorted(members, key=lambda k: (k in (UNASSIGNED, "未分流"), k)):
        group = [c for c in clues if key_of_clue(c) == key]
        n_runs, n_rows = usage(members[key])
        head: dict[str, Any]
        if by == "model":
            head = {"模型": key, "模型名称": titles.get(key, ""), "条线": model_line(project, key)}
        else:
            head = {GROUP_COLUMNS[by][0]: key}
        rows.append({**head, "运行次数": n_runs, "数据条数": n_rows, **counts(group)})
    all_models = set(runs_of) | {c["model_id"] for c in clues}
    n_runs, n_rows = usage(all_models)
    total = {GROUP_COLUMNS[by][0]: TOTAL, "运行次数": n_runs, "数据条数": n_rows, **counts(clues)}
    rows.append(total)

    read = set().union(*(inputs.get(m, set()) for m in runs_of)) if runs_of else set()
    used = {s["dataset_id"] for s in snaps if s["dataset_id"] in read}
    agencies = set()
    for ds in used:
        conn = project.catalog.connectors.get(ds)
        agencies.add((conn.spec.agency or conn.spec.title) if conn is not None else ds)

    months: dict[str, list[int]] = {}
    for c in clues:
        months.setdefault(c["first_date"].strftime("%Y-%m"), [0, 0])[0] += 1
    for day in q.filed_dates(con, [c["clue_id"] for c in clues], end, sorted(FILED_OR_LATER)):
        months.setdefault(day.strftime("%Y-%m"), [0, 0])[1] += 1
    return Figures(
        by,
        start,
        end,
        GROUP_COLUMNS[by] + METRICS,
        rows,
        len(runs_of),
        len(agencies),
        [(m, v[0], v[1]) for m, v in sorted(months.items())],
    )


def cell(value: Any, column: str) -> str:
    """How a figure reads in the table and the CSV: ratios as 66.7%, nothing as empty."""
    if value is None:
        return ""
    if column in ("准确率", "成案率"):
        return f"{value * 100:.1f}%"
    return str(value)


def paragraph(f: Figures) -> str:
    """The work-report sentence: 本期应用大数据法律监督模型N个，汇聚M家单位数据共计X条，…"""
    t = f.rows[-1]
    if f.start and f.end:
        period = f"{_zh_date(f.start)}至{_zh_date(f.end)}"
    elif f.start:
        period = f"{_zh_date(f.start)}以来"
    elif f.end:
        period = f"截至{_zh_date(f.end)}"
    else:
        period = "本期"
    text = (
        f"{period}应用大数据法律监督模型{f.models}个，汇聚{f.agencies}家单位数据共计"
        f"{t['数据条数']}条，发现线索{t['线索数']}条，经审查确认{t['确认']}条，"
        f"立案{t['已立案']}件，制发检察建议{t['检察建议']}份，已整改{t['已整改']}件"
    )
    if t["逾期未整改"]:
        text += f"，逾期未整改{t['逾期未整改']}件"
    return text + "。"


def _zh_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
