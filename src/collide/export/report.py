"""report.md: the run in one page (datasets, models, data quality), rendered from the store by
templates/report.md.j2 with every value escaped for Markdown."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from collide.export.hitlist import ClueCounts
from collide.export.render import md_escape
from collide.stats.figures import cell

STATUS_ZH = {
    "ok": "完成",
    "partial": "部分完成",
    "failed": "失败",
    "skipped": "已跳过",
    "blocked": "质量闸门未通过",
    "pending": "未执行",
}


def _n(value: Any) -> str:
    return "" if value is None else str(value)


def _zh(status: str) -> str:
    return STATUS_ZH.get(status, status)


def _figures(project: Any, con: Any, run_date: str) -> list[dict[str, Any]]:
    """This run's figures and the year's to date, from `collide.stats` (one definition)."""
    from collide.stats import compute
    from collide.stats.figures import paragraph

    day = dt.date.fromisoformat(str(run_date)[:10])
    out = []
    periods = (
        (f"本次运行（运行日期{day}）", day),
        (
            f"本年度累计（{day.year}年1月1日至{day.month}月{day.day}日）",
            day.replace(month=1, day=1),
        ),
    )
    for label, start in periods:
        f = compute(project, con, start, day)
        total = f.rows[-1]
        out.append(
            {
                "label": label,
                "paragraph": paragraph(f),
                "cells": [(k, cell(total.get(k), k)) for k in FIGURE_COLUMNS],
            }
        )
    return out


FIGURE_COLUMNS = ["线索数", "已审查", "确认", "排除", "已立案", "检察建议", "已整改", "逾期未整改"]


# the provenance and ingest fields of a failing row, as a clerk reads them
_ROW_LABELS = {
    "_source_file": "来源文件",
    "_source_sheet": "工作表",
    "_source_row": "行号",
    "_snapshot_id": "快照",
    "_reason": "拒收原因",
    "_raw": "原始值",
    "_issues": "数据问题",
}


def _failing_row(fr: dict[str, Any], heads: dict[str, str]) -> str:
    """A failing row as JSON keyed by the agency's headers (a line break in a value stays \\n)."""
    named = {_ROW_LABELS.get(k) or heads.get(k) or k: v for k, v in fr.items()}
    return json.dumps(named, ensure_ascii=False, default=str)


def render_report(
    summary: dict[str, Any],
    counts: ClueCounts,
    quality: dict[str, Any],
    project: Any = None,
    con: Any = None,
    rows: list[dict[str, Any]] | None = None,
) -> str:
    """report.md in Chinese only: datasets and models by their titles, 通过/警告/阻断, the
    整改状态 of the clues with a 检察建议, and the figures of `collide stats`."""
    from collide.export.evidence import followup_text
    from collide.quality import QualityReport, status_zh

    catalog = project.catalog if project is not None else None
    ds_title = {ds: c.spec.title for ds, c in catalog.connectors.items()} if catalog else {}
    heads = (
        {
            ds: {n: col.from_[0] for n, col in c.spec.columns.items()}
            for ds, c in catalog.connectors.items()
        }
        if catalog
        else {}
    )
    model_title = {m: x.spec.title for m, x in catalog.models.items()} if catalog else {}
    datasets = [
        {
            "id": ds_title.get(ds) or ds,
            "status": _zh(d["status"]),
            "snapshot": d.get("snapshot_id") or "",
            "read": _n(d.get("rows_read")),
            "loaded": _n(d.get("rows_loaded")),
            "rejected": _n(d.get("rows_rejected")),
            "quality": status_zh(d.get("quality")),
            "message": d.get("message") or "",
        }
        for ds, d in summary["datasets"].items()
    ]
    models = [
        {
            "id": model_title.get(mid) or mid,
            "status": _zh(m["status"]),
            "hits": m["hits"],
            "seconds": m["seconds"],
            "note": "；".join(x for x in [m.get("message") or ""] + m.get("notes", []) if x),
        }
        for mid, m in summary["models"].items()
    ]
    checks = []
    for ds, q in quality.items():
        report = QualityReport.from_dict(q)
        if report.title is None:
            report.title = ds_title.get(ds)
        outcomes = []
        for o in report.outcomes:
            flag = "通过" if o.success else ("未通过（阻断）" if o.blocking else "未通过（警告）")
            outcomes.append(
                {
                    "flag": flag,
                    "text": o.description_zh or o.expectation,
                    "rows": [
                        {
                            "file": fr.get("_source_file"),
                            "row": fr.get("_source_row"),
                            "json": _failing_row(fr, heads.get(ds, {})),
                        }
                        for fr in (o.failing_rows or [])[:5]
                    ],
                }
            )
        checks.append({"id": report.heading_zh(), "outcomes": outcomes})
    followups = [
        {
            "rank": r.get("rank") or "",
            "clue_id": r["clue_id"],
            "model": r.get("model_title") or r["model_id"],
            "subject": r.get("subject_name") or r.get("subject_id") or "",
            "status": followup_text(r),
        }
        for r in rows or []
        if r.get("followup")
    ]
    figures = (
        _figures(project, con, summary["run_date"])
        if project is not None and con is not None
        else []
    )
    return report_md(
        run_id=summary["run_id"],
        status=_zh(summary["status"]),
        run_date=summary["run_date"],
        started_at=summary["started_at"],
        finished_at=summary["finished_at"],
        seconds=summary["seconds"],
        counts=counts,
        datasets=datasets,
        problems=summary.get("problems") or [],
        models=models,
        quality=checks,
        followups=followups,
        figures=figures,
    )


def _row(*cells: Any) -> str:
    """One Markdown table row, every cell escaped."""
    return "| " + " | ".join(md_escape(c) for c in cells) + " |\n"


def report_md(
    *,
    run_id: Any,
    status: Any,
    run_date: Any,
    started_at: Any,
    finished_at: Any,
    seconds: Any,
    counts: Any,
    datasets: list[dict[str, Any]],
    problems: list[Any],
    models: list[dict[str, Any]],
    quality: list[dict[str, Any]],
    followups: list[dict[str, Any]],
    figures: list[dict[str, Any]],
) -> str:
    """The text of report.md. Every value is escaped for Markdown (`md_escape`), so an agency
    value (`<script>`, `|`, `[x](javascript:…)`) reads as text wherever the file is opened;
    built as plain strings (tests/test_report_md.py: the same text the Jinja2 template it
    replaced renders), so writing a run imports no template engine."""
    e = md_escape
    out = [
        f"# 数据碰撞运行报告 {e(run_id)}\n\n- 运行状态：{e(status)}\n"
        f"- 运行日期：{e(run_date)}；开始 {e(started_at)}，结束 {e(finished_at)}，"
        f"耗时 {e(seconds)} 秒\n"
        f"- 线索：{e(counts.listed)} 条（新增 {e(counts.new)}，持续 {e(counts.ongoing)}，"
        f"已消失 {e(counts.gone)}）\n"
    ]
    if counts.excluded:
        out.append(
            f"- 另有已排除（排除）且证据未变化的线索 {e(counts.excluded)} 条，不再列入清单\n"
        )
    out.append(
        "\n## 数据集\n\n| 数据集 | 状态 | 快照 | 读入 | 载入 | 拒收 | 质量 | 说明 |\n"
        "|---|---|---|---|---|---|---|---|\n"
    )
    out += [
        _row(
            d["id"],
            d["status"],
            d["snapshot"],
            d["read"],
            d["loaded"],
            d["rejected"],
            d["quality"],
            d["message"],
        )
        for d in datasets
    ]
    if problems:
        out.append("\n## 未能加载的文件（相关模型本次未运行）\n\n")
        out += [f"- {e(x)}\n" for x in problems]
    out.append("\n## 模型\n\n| 模型 | 状态 | 命中 | 耗时(秒) | 说明 |\n|---|---|---|---|---|\n")
    out += [_row(m["id"], m["status"], m["hits"], m["seconds"], m["note"]) for m in models]
    if followups:
        out.append(
            "\n## 回头看：整改状态\n\n| 排名 | 线索编号 | 模型 | 对象 | 整改状态 |\n"
            "|---|---|---|---|---|\n"
        )
        out += [
            _row(f["rank"], f["clue_id"], f["model"], f["subject"], f["status"]) for f in followups
        ]
    if figures:
        out.append("\n## 工作成效\n\n")
        for f in figures:
            cells = f["cells"]
            out.append(
                f"### {e(f['label'])}\n\n{e(f['paragraph'])}\n\n"
                "| " + "".join(f"{e(k)} | " for k, _ in cells) + "\n"
                "|" + "---|" * len(cells) + "\n"
                "| " + "".join(f"{e(v)} | " for _, v in cells) + "\n\n"
            )
    if quality:
        out.append("\n## 数据质量\n\n")
        for q in quality:
            out.append(f"### {e(q['id'])}\n")
            for o in q["outcomes"]:
                out.append(f"- {e(o['flag'])} {e(o['text'])}\n")
                out += [
                    f"  - {e(r['file'])} 第 {e(r['row'])} 行：{e(r['json'])}\n" for r in o["rows"]
                ]
            out.append("\n")
    return "".join(out)
