"""Evidence of a run, one pair of files per model: `evidence/<model>.html`, every clue's
printable 线索核查单 (templates/evidence.html.j2, rendered per clue) in its own
`<section id="<clue>">`, and `evidence/<model>.jsonl`, the same data one clue per line.

One file per clue cost more than everything else for a run of thousands of clues (creating
files is slow on a shared disk); the hit list links `evidence/<model>.html#<clue>`, and the page
shows only the clue named after `#` (CSS `:target`, no script), so one click still opens one
sheet, offline, ready to print."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from collide.clues.build import display, jsonable
from collide.config.catalog import Catalog
from collide.export.columns import masked
from collide.export.render import render

PROV_LABELS = {
    "_source_file": "来源文件",
    "_source_sheet": "工作表",
    "_source_row": "行号",
    "_snapshot_id": "快照",
    "_issues": "数据问题",
}

# set by the evidence SQL on the rows that made the hit (the model's evidence `mark:`)
HIT_KEY = "_hit"

Evidence = list[tuple[str, dict[str, Any]]]  # (dataset, source row) in attachment order


def followup_text(r: dict[str, Any]) -> str:
    """整改状态 as a sheet or report reads it: the state (with days overdue or the date it was
    gone, from clues.followup.label), the 检察建议 and its deadline."""
    status = r.get("followup") or ""
    if not status:
        return ""
    parts = [status]
    if r.get("recommendation_no"):
        parts.append(f"检察建议{r['recommendation_no']}")
    if r.get("rectify_by"):
        parts.append(f"整改期限{display(r['rectify_by'])}")
    return "，".join(parts)


def sheet_labels(catalog: Catalog, model_id: str) -> dict[str, Any]:
    """Chinese headings for the evidence sheet: dataset titles, agency headers, output labels."""
    datasets = {ds: c.spec.title for ds, c in catalog.connectors.items()}
    columns = {
        ds: {name: col.from_[0] for name, col in c.spec.columns.items()}
        for ds, c in catalog.connectors.items()
    }
    for mid, m in catalog.models.items():  # another model's hits read by this one (model:)
        datasets.setdefault(mid, f"{m.spec.title}（上游模型线索）")
        columns.setdefault(mid, {**m.spec.labels, "_clue_id": "上游线索编号"})
    output: dict[str, str] = {}
    model = catalog.models.get(model_id)
    if model is not None:
        for ds in model.spec.inputs:
            for name, zh in columns.get(ds, {}).items():
                output.setdefault(name, zh)
        output.update(model.spec.labels)
    return {"datasets": datasets, "columns": columns, "output": output}


# Added to the template's own style: with a `#<clue>` in the address only that sheet shows (and
# prints); without one, all of them, each on its own page.
_BOOK_STYLE = (
    "<style>section.sheet{page-break-after:always}"
    "section.sheet+section.sheet{border-top:2px dashed #999;margin-top:24px;padding-top:8px}"
    "body:has(section.sheet:target) section.sheet:not(:target){display:none}"
    "body:has(section.sheet:target) section.sheet:target{border:0;margin:0;padding:0}"
    "</style>"
)
_TITLE = re.compile(r"<title>.*?</title>", re.S)


def evidence_link(model_id: str, clue_id: str) -> str:
    """Where a clue's sheet is, relative to the run folder (the hit lists' 证据文件)."""
    return f"evidence/{model_id}.html#{clue_id}"


def clue_payload(
    r: dict[str, Any], evidence: Evidence, snapshots: dict[str, str | None], mask: bool
) -> dict[str, Any]:
    """The data of one clue's sheet (one line of `<model>.jsonl`)."""

    def m(v: Any) -> Any:
        return masked(v, mask)

    return {
        "线索编号": r["clue_id"],
        "模型": r["model_id"],
        "模型名称": r["title"],
        "模型版本": r["model_version"],
        "领域": r["domain"],
        "法律依据": r["legal_basis"],
        "风险分": r["risk"],
        "排名": r["rank"],
        "对象类型": r["subject_type_zh"],
        "对象名称": r["subject_name"],
        "对象证件号": m(r["subject_id"]),
        "线索说明": m(r["reason"]),
        "状态": r["lifecycle"],
        "首次发现": r["first_seen"],
        "数据质量提示": r["warnings"],
        "证据哈希": r["evidence_hash"],
        "审查结论": r.get("review_status") or "",
        "整改状态": followup_text(r),
        "模型输出": {k: m(v) for k, v in r["output"].items()},
        "证据": [
            {
                "数据集": ds,
                "快照": snapshots.get(ds),
                "行": {k: m(v) for k, v in row.items() if k != HIT_KEY},
                **({"命中行": True} if row.get(HIT_KEY) else {}),
            }
            for ds, row in evidence
        ],
        "已脱敏": mask,
    }


class EvidenceBook:
    """The two evidence files of one model, written clue by clue (memory stays one sheet)."""

    def __init__(self, folder: Path, model_id: str, title: str = "") -> None:
        self.model_id = model_id
        self.title = title
        self._html = open(folder / f"{model_id}.html", "w", encoding="utf-8")  # noqa: SIM115
        self._json = open(folder / f"{model_id}.jsonl", "w", encoding="utf-8")  # noqa: SIM115
        self._started = False

    def add(
        self,
        r: dict[str, Any],
        evidence: Evidence,
        snapshots: dict[str, str | None],
        mask: bool,
        labels: dict[str, Any] | None = None,
    ) -> None:
        payload = clue_payload(r, evidence, snapshots, mask)
        self._json.write(json.dumps(jsonable(payload), ensure_ascii=False) + "\n")
        page = render_sheet(payload, evidence, snapshots, mask, labels)
        open_at = page.find("<body")
        body_at = page.find(">", open_at) + 1 if open_at >= 0 else 0
        end_at = page.rfind("</body>")
        if not self._started:
            head = page[:open_at] if open_at >= 0 else ""
            name = f"{self.title}（{self.model_id}）" if self.title else self.model_id
            head = _TITLE.sub(lambda _: f"<title>线索核查单 {_text(name)}</title>", head, 1)
            head = head.replace("</head>", _BOOK_STYLE + "</head>", 1)
            self._html.write(head + (page[open_at:body_at] if open_at >= 0 else "") + "\n")
            self._started = True
        self._html.write(f"<section class='sheet' id='{_text(r['clue_id'])}'>\n")
        self._html.write(page[body_at : end_at if end_at >= 0 else len(page)])
        self._html.write("</section>\n")

    def close(self) -> None:
        if self._started:
            self._html.write("</body></html>\n")
        self._html.close()
        self._json.close()


def _text(value: Any) -> str:
    import html

    return html.escape(str(value))


def render_sheet(
    p: dict[str, Any],
    evidence: Evidence,
    snapshots: dict[str, str | None],
    mask: bool,
    labels: dict[str, Any] | None = None,
) -> str:
    """The 线索核查单 of one clue (`p` is its JSON payload) as HTML."""
    labels = labels or {"datasets": {}, "columns": {}, "output": {}}
    out_label = labels["output"]
    head = [
        ("线索编号", p["线索编号"]),
        ("模型", f"{p['模型名称']}（{p['模型']}，版本 {p['模型版本']}）"),
        ("领域", p["领域"]),
        ("法律依据", p["法律依据"]),
        ("风险分 / 排名", f"{display(p['风险分'])} / {display(p['排名'])}"),
        ("对象", f"{p['对象名称']}（{p['对象类型']}） {p['对象证件号']}"),
        ("状态", p["状态"]),
        *([("审查结论", p["审查结论"])] if p.get("审查结论") else []),
        *([("整改状态", p["整改状态"])] if p.get("整改状态") else []),
        ("首次发现", p["首次发现"]),
        ("证据哈希", p["证据哈希"]),
    ]
    by_ds: dict[str, list[dict[str, Any]]] = {}
    for ds, row in evidence:
        by_ds.setdefault(ds, []).append(row)
    datasets = []
    for ds, rows in by_ds.items():
        heads = labels["columns"].get(ds, {})
        # `<name>_key` columns are matching keys derived at ingest, not what the agency sent.
        cols = [
            c
            for c in rows[0]
            if c not in PROV_LABELS
            and c != HIT_KEY
            and not (c.endswith("_key") and c[:-4] in rows[0])
        ]
        hit = [bool(row.get(HIT_KEY)) for row in rows]
        prov = [c for c in PROV_LABELS if c in rows[0]]
        title = labels["datasets"].get(ds)
        datasets.append(
            {
                "title": f"{title}（{ds}）" if title else ds,
                "snapshot": str(snapshots.get(ds) or ""),
                "headers": [heads.get(c, c) for c in cols] + [PROV_LABELS[c] for c in prov],
                "rows": [
                    [str(masked(display(row.get(c)), mask)) for c in cols + prov] for row in rows
                ],
                "hit": hit,
                "hits": sum(hit),
            }
        )
    return render(
        "evidence.html.j2",
        clue_id=p["线索编号"],
        masked=mask,
        head=[(k, str(v)) for k, v in head],
        reason=str(p["线索说明"]),
        warnings=p["数据质量提示"],
        output=[(out_label.get(k, k), display(v)) for k, v in p["模型输出"].items()],
        datasets=datasets,
    )
