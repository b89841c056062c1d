"""Evidence per clue: a JSON file and the printable 线索核查单 (templates/evidence.html.j2)."""

from __future__ import annotations

import json
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

Evidence = list[tuple[str, dict[str, Any]]]  # (dataset, source row) in attachment order


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


def write_evidence(
    folder: Path,
    r: dict[str, Any],
    evidence: Evidence,
    snapshots: dict[str, str | None],
    mask: bool,
    labels: dict[str, Any] | None = None,
) -> None:
    def m(v: Any) -> Any:
        return masked(v, mask)

    payload = {
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
        "模型输出": {k: m(v) for k, v in r["output"].items()},
        "证据": [
            {"数据集": ds, "快照": snapshots.get(ds), "行": {k: m(v) for k, v in row.items()}}
            for ds, row in evidence
        ],
        "已脱敏": mask,
    }
    (folder / f"{r['clue_id']}.json").write_text(
        json.dumps(jsonable(payload), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    (folder / f"{r['clue_id']}.html").write_text(
        render_sheet(payload, evidence, snapshots, mask, labels), encoding="utf-8"
    )


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
            if c not in PROV_LABELS and not (c.endswith("_key") and c[:-4] in rows[0])
        ]
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
