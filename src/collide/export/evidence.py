"""Evidence of a run, one pair of files per model: `evidence/<model>.html`, every clue's
printable 线索核查单 in its own `<section id="<clue>">` (templates/evidence.html.j2, rendered
once per model, streaming), and `evidence/<model>.jsonl`, the same data one clue per line.

One file per clue cost more than everything else for a run of thousands of clues (creating
files is slow on a shared disk); the hit list links `evidence/<model>.html#<clue>`, and the page
shows only the clue named after `#` (CSS `:target`, no script), so one click still opens one
sheet, offline, ready to print.

A run of many clues has millions of evidence cells: each distinct text is masked and escaped
once (`_Cells`), a source row's cells reach the template as one pre-escaped `<td>` run, and the
clues are read from the store and written model by model, so memory holds one batch of rows."""

from __future__ import annotations

import decimal
import html
import itertools
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from collide.clues.build import display, jsonable
from collide.config.catalog import Catalog
from collide.export.columns import masked
from collide.export.render import template

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


def evidence_link(model_id: str, clue_id: str) -> str:
    """Where a clue's sheet is, relative to the run folder (the hit lists' 证据文件)."""
    return f"evidence/{model_id}.html#{clue_id}"


def clue_payload(
    r: dict[str, Any],
    evidence: Evidence,
    snapshots: dict[str, str | None],
    mask: bool,
    cells: _Cells | None = None,
) -> dict[str, Any]:
    """The data of one clue's sheet (one line of `<model>.jsonl`), as JSON values."""
    cells = cells or _Cells(mask)
    value, known = cells.json, cells.known_json
    payload = jsonable(
        {
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
            "对象证件号": masked(r["subject_id"], mask),
            "线索说明": masked(r["reason"], mask),
            "状态": r["lifecycle"],
            "首次发现": r["first_seen"],
            "数据质量提示": r["warnings"],
            "证据哈希": r["evidence_hash"],
            "审查结论": r.get("review_status") or "",
            "整改状态": followup_text(r),
            "模型输出": {k: masked(v, mask) for k, v in r["output"].items()},
        }
    )
    payload["证据"] = [
        {
            "数据集": ds,
            "快照": snapshots.get(ds),
            "行": {
                k: (type(v) is str and known.get(v)) or value(v)
                for k, v in row.items()
                if k != HIT_KEY
            },
            **({"命中行": True} if row.get(HIT_KEY) else {}),
        }
        for ds, row in evidence
    ]
    payload["已脱敏"] = mask
    return payload


# Texts remembered per model page: what repeats does so within a clue or on every row (a file
# name); forgetting them all now and then keeps a page of 100k clues from holding every text.
_KNOWN_MAX = 50_000


class _Cells:
    """What a source value becomes on a sheet and in the JSON line, each distinct text worked
    out once: an ID number, a date or a file name repeats on every row of a clue."""

    def __init__(self, mask: bool) -> None:
        self.mask = mask
        # text → what it becomes; read inline by the loops over cells (no call per cell)
        self.known_html: dict[str, str] = {}
        self.known_json: dict[str, str] = {}

    def html(self, value: Any) -> str:
        """The cell as the sheet prints it: the value as it reads, IDs masked, HTML-escaped."""
        text = value if type(value) is str else display(value)
        out = self.known_html.get(text)
        if out is None:
            if len(self.known_html) >= _KNOWN_MAX:
                self.known_html.clear()
            out = self.known_html[text] = html.escape(str(masked(text, self.mask)))
        return out

    def json(self, value: Any) -> Any:
        """The value in the JSON line: masked when it is text, then as `jsonable` writes it."""
        if type(value) is str:
            out = self.known_json.get(value)
            if out is None:
                if len(self.known_json) >= _KNOWN_MAX:
                    self.known_json.clear()
                out = self.known_json[value] = masked(value, self.mask)
            return out
        if value is None or type(value) in (int, float, bool):
            return value
        if type(value) is decimal.Decimal:
            return format(value, "f")
        return jsonable(masked(value, self.mask))


class _Layout:
    """The columns of one dataset's evidence table, found from a clue's first row of it (the
    same keys on every row of a dataset, so worked out once per set of keys)."""

    def __init__(self, keys: tuple[str, ...], heads: dict[str, str]) -> None:
        present = set(keys)
        # `<name>_key` columns are matching keys derived at ingest, not what the agency sent.
        self.cols = [
            c
            for c in keys
            if c not in PROV_LABELS
            and c != HIT_KEY
            and not (c.endswith("_key") and c[:-4] in present)
        ]
        self.prov = [c for c in PROV_LABELS if c in present]
        self.shown = self.cols + self.prov
        headers = [heads.get(c, c) for c in self.cols] + [PROV_LABELS[c] for c in self.prov]
        self.header_cells = "".join(f"<th>{html.escape(str(h))}</th>\n" for h in headers)


class EvidenceBook:
    """The two evidence files of one model, written in one streaming pass over its clues (in
    rank order); nothing is written for a model without clues."""

    def __init__(
        self,
        folder: Path,
        model_id: str,
        title: str,
        snapshots: dict[str, str | None],
        mask: bool,
        labels: dict[str, Any] | None = None,
    ) -> None:
        self.folder = folder
        self.model_id = model_id
        self.title = title
        self.snapshots = snapshots
        self.mask = mask
        self.labels = labels or {"datasets": {}, "columns": {}, "output": {}}
        self._cells = _Cells(mask)
        self._layouts: dict[tuple[str, tuple[str, ...]], _Layout] = {}

    def write(self, clues: Iterable[tuple[dict[str, Any], list[tuple[str, str]]]]) -> None:
        """Write both files from (hit-list row, stored evidence rows as (dataset, JSON text))."""
        from markupsafe import Markup

        it = iter(clues)
        first = next(it, None)
        if first is None:
            return
        name = f"{self.title}（{self.model_id}）" if self.title else self.model_id
        with (
            open(self.folder / f"{self.model_id}.html", "w", encoding="utf-8") as page,
            open(self.folder / f"{self.model_id}.jsonl", "w", encoding="utf-8") as lines,
        ):

            def sheets() -> Iterator[dict[str, Any]]:
                for r, stored in itertools.chain([first], it):
                    # Decimals stay decimals (money reads 2380.50, not 2380.5).
                    evidence = [
                        (ds, json.loads(text, parse_float=decimal.Decimal)) for ds, text in stored
                    ]
                    payload = clue_payload(r, evidence, self.snapshots, self.mask, self._cells)
                    lines.write(json.dumps(payload, ensure_ascii=False) + "\n")
                    yield self._sheet(r, payload, evidence, Markup)

            page.writelines(template("evidence.html.j2").generate(name=name, clues=sheets()))

    def _sheet(
        self, r: dict[str, Any], p: dict[str, Any], evidence: Evidence, markup: Any
    ) -> dict[str, Any]:
        """What the template prints of one clue (`p` is its JSON line)."""
        labels = self.labels
        out_label = labels["output"]
        head = [
            ("线索编号", p["线索编号"]),
            ("模型", f"{p['模型名称']}（{p['模型']}，版本 {p['模型版本']}）"),
            ("领域", p["领域"]),
            ("法律依据", p["法律依据"]),
            ("风险分 / 排名", f"{display(r['risk'])} / {display(r['rank'])}"),
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
        cell, known = self._cells.html, self._cells.known_html
        datasets = []
        for ds, rows in by_ds.items():
            key = (ds, tuple(rows[0]))
            layout = self._layouts.get(key)
            if layout is None:
                layout = self._layouts[key] = _Layout(key[1], labels["columns"].get(ds, {}))
            shown = layout.shown
            hit = [bool(row.get(HIT_KEY)) for row in rows]
            title = labels["datasets"].get(ds)
            datasets.append(
                {
                    "title": f"{title}（{ds}）" if title else ds,
                    "snapshot": str(self.snapshots.get(ds) or ""),
                    "header_cells": markup(layout.header_cells),
                    "rows": [
                        (
                            is_hit,
                            markup(
                                "<td>"
                                + "</td><td>".join(
                                    [
                                        (type(v) is str and known.get(v)) or cell(v)
                                        for v in map(row.get, shown)
                                    ]
                                )
                                + "</td>"
                                if shown
                                else ""
                            ),
                        )
                        for is_hit, row in zip(hit, rows)
                    ],
                    "hits": sum(hit),
                }
            )
        return {
            "clue_id": p["线索编号"],
            "masked": self.mask,
            "head": [(k, str(v)) for k, v in head],
            "reason": str(p["线索说明"]),
            "warnings": p["数据质量提示"],
            "output": [
                (out_label.get(k, k), display(masked(v, self.mask))) for k, v in r["output"].items()
            ],
            "datasets": datasets,
        }
