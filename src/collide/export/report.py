"""report.md: the run in one page (datasets, models, data quality), rendered from the store by
templates/report.md.j2 with every value escaped for Markdown."""

from __future__ import annotations

import json
from typing import Any

from collide.export.hitlist import ClueCounts
from collide.export.render import render

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


def render_report(summary: dict[str, Any], counts: ClueCounts, quality: dict[str, Any]) -> str:
    datasets = [
        {
            "id": ds,
            "status": _zh(d["status"]),
            "snapshot": d.get("snapshot_id") or "",
            "read": _n(d.get("rows_read")),
            "loaded": _n(d.get("rows_loaded")),
            "rejected": _n(d.get("rows_rejected")),
            "quality": d.get("quality") or "",
            "message": d.get("message") or "",
        }
        for ds, d in summary["datasets"].items()
    ]
    models = [
        {
            "id": mid,
            "status": _zh(m["status"]),
            "hits": m["hits"],
            "seconds": m["seconds"],
            "note": "; ".join([m.get("message") or ""] + m.get("notes", [])).strip("; "),
        }
        for mid, m in summary["models"].items()
    ]
    checks = []
    for ds, q in quality.items():
        outcomes = []
        for o in q.get("outcomes", []):
            flag = (
                "通过"
                if o.get("success")
                else ("未通过（阻断）" if o.get("blocking") else "未通过（警告）")
            )
            rows = [
                {
                    "file": fr.get("_source_file"),
                    "row": fr.get("_source_row"),
                    "json": json.dumps(fr, ensure_ascii=False, default=str),
                }
                for fr in (o.get("failing_rows") or [])[:5]
            ]
            outcomes.append(
                {
                    "flag": flag,
                    "text": o.get("description_zh") or o.get("expectation"),
                    "observed": o.get("observed"),
                    "rows": rows,
                }
            )
        checks.append({"id": ds, "status": q.get("status"), "outcomes": outcomes})
    return render(
        "report.md.j2",
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
    )
