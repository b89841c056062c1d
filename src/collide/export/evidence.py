"""Evidence of a run, one pair of files per model: `evidence/<model>.html`, every clue's
printable 线索核查单 in its own `<section id="<clue>">` (`sheet_html`, written sheet by sheet
as the clues stream past), and `evidence/<model>.jsonl`, the same data one clue per line.

One file per clue cost more than everything else for a run of thousands of clues (creating
files is slow on a shared disk); the hit list links `evidence/<model>.html#<clue>`, and the page
shows only the clue named after `#` (CSS `:target`, no script), so one click still opens one
sheet, offline, ready to print.

A run of many clues has millions of evidence cells: each distinct text is masked and escaped
once (`_Cells`), a source row's cells become one escaped `<td>` run, the page is built as
plain strings (a template engine's per-value calls cost more than the rest), and the clues are
read from the store and written model by model, so memory holds one batch of rows."""

from __future__ import annotations

import decimal
import html
import itertools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from collide.clues.build import display, jsonable
from collide.config.catalog import Catalog
from collide.export.columns import masked

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


_DECODE = json.JSONDecoder(parse_float=decimal.Decimal).decode

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
        # amounts by value: equal amounts (2380.5, 2380.50) read the same on a sheet
        self.known_money: dict[decimal.Decimal, str] = {}

    def html(self, value: Any) -> str:
        """The cell as the sheet prints it: the value as it reads, IDs masked, HTML-escaped."""
        kind = type(value)
        if value is None:
            return ""
        if kind is int:  # a row number, a count: digits, unless it is long enough to be an ID
            text = str(value)
            if len(text) < 15:
                return text
        elif kind is decimal.Decimal:  # money: each amount read once
            out = self.known_money.get(value)
            if out is None:
                if len(self.known_money) >= _KNOWN_MAX:
                    self.known_money.clear()
                out = self.known_money[value] = self.html(display(value))
            return out
        else:
            text = value if kind is str else display(value)
        out = self.known_html.get(text)
        if out is None:
            if len(self.known_html) >= _KNOWN_MAX:
                self.known_html.clear()
            # masked once per text for both files (`json` remembers it)
            out = self.known_html[text] = html.escape(self.json(text))
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


_STYLE = """<style>
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","SimSun",sans-serif;margin:24px;color:#222}
h1{font-size:20px;text-align:center;margin-bottom:4px}
.sub{text-align:center;color:#555;font-size:12px;margin-bottom:16px}
table{border-collapse:collapse;width:100%;margin:8px 0 16px;font-size:12px}
th,td{border:1px solid #999;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#eef3f8;white-space:nowrap}
h2{font-size:15px;border-left:4px solid #2f5d8a;padding-left:6px;margin-top:20px}
.reason{font-size:14px;line-height:1.6;padding:8px;border:1px solid #999;background:#fafafa}
.warn{color:#a33}
tr.hit td{background:#fde2c4;font-weight:bold}
.hitnote{font-size:12px;color:#8a4b00}
.sign td{height:40px}
table.ev td,table.ev th{font-size:11px;word-break:break-all}
@page{size:A4 landscape;margin:10mm}
@media print{body{margin:0}h2{page-break-after:avoid}table{page-break-inside:auto}}
</style>"""
# With a #<clue> in the address only that sheet shows (and prints); without one, all of them,
# each on its own page.
_TARGET_STYLE = (
    "<style>section.sheet{page-break-after:always}"
    "section.sheet+section.sheet{border-top:2px dashed #999;margin-top:24px;padding-top:8px}"
    "body:has(section.sheet:target) section.sheet:not(:target){display:none}"
    "body:has(section.sheet:target) section.sheet:target{border:0;margin:0;padding:0}</style>"
)
_SIGN = (
    "<h2>人工复核</h2><table class='sign'>\n"
    "<tr><th>审查结论</th><td>□ 确认 &nbsp; □ 排除 &nbsp; □ 已立案 &nbsp; □ 已制发检察建议"
    " &nbsp; □ 已起诉 &nbsp; □ 已办结</td></tr>\n"
    "<tr><th>审查意见 / 排除理由</th><td></td></tr>\n"
    "<tr><th>走访核实情况</th><td></td></tr>\n"
    "<tr><th>复核人 / 日期</th><td></td></tr></table>\n"
    "</section>\n"
)
PAGE_TAIL = "</body></html>\n"


def page_head(name: str) -> str:
    """The start of a model's evidence page, up to its first sheet."""
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>\n"
        f"<title>线索核查单 {html.escape(name)}</title>{_STYLE}{_TARGET_STYLE}</head><body>\n"
    )


def sheet_html(c: dict[str, Any]) -> str:
    """One clue's printable 线索核查单, `<section id="<clue>">…</section>`, from what
    `EvidenceBook._sheet` gathered: every value escaped here, except the evidence cells and
    table headings, which come escaped (`rows`: a `<td>` run per source row, `header_cells`)."""
    esc = html.escape
    out = [
        f"<section class='sheet' id='{esc(str(c['clue_id']))}'>\n\n<h1>线索核查单</h1>\n"
        "<div class='sub'>机器比对线索，仅供人工复核，不构成认定结论"
        f"{'；证件号已脱敏' if c['masked'] else '；含未脱敏个人信息，注意保密'}</div>\n<table>\n"
    ]
    out += [f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>\n" for k, v in c["head"]]
    out.append(f"</table>\n<h2>线索说明</h2>\n<div class='reason'>{esc(c['reason'])}</div>\n")
    if c["warnings"]:
        out.append("<h2>数据质量提示</h2><ul class='warn'>\n")
        out += [f"<li>{esc(str(w))}</li>\n" for w in c["warnings"]]
        out.append("</ul>\n")
    out.append("<h2>模型输出</h2><table>\n")
    out += [f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>\n" for k, v in c["output"]]
    out.append("</table>\n<h2>证据数据</h2>\n")
    if not c["datasets"]:
        out.append("<p>（本模型未配置证据数据集）</p>\n")
    for ds in c["datasets"]:
        rows, hits = ds["rows"], ds["hits"]
        out.append(
            f"<h3>{esc(ds['title'])} <small>快照 {esc(ds['snapshot'])}，共 {len(rows)} 行"
            + (f"，其中命中行 {hits} 行" if hits else "")
            + "</small></h3>\n"
        )
        if hits:
            out.append(
                f"<p class='hitnote'>标“★命中行”并加底色的 {hits} 行是构成本线索的数据行，"
                "其余为同一对象的其他记录，供对照。</p>\n"
                f"<table class='ev'><tr>\n<th>命中行</th>\n{ds['header_cells']}</tr>\n"
            )
            out += [
                f"<tr class='hit'><td>★命中行</td>{cells}</tr>\n"
                if is_hit
                else f"<tr><td></td>{cells}</tr>\n"
                for is_hit, cells in rows
            ]
        else:
            out.append(f"<table class='ev'><tr>\n{ds['header_cells']}</tr>\n")
            out += [f"<tr>{cells}</tr>\n" for _, cells in rows]
        out.append("</table>\n")
    out.append(_SIGN)
    return "".join(out)


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
        it = iter(clues)
        first = next(it, None)
        if first is None:
            return
        name = f"{self.title}（{self.model_id}）" if self.title else self.model_id
        with (
            open(self.folder / f"{self.model_id}.html", "w", encoding="utf-8") as page,
            open(self.folder / f"{self.model_id}.jsonl", "w", encoding="utf-8") as lines,
        ):
            page.write(page_head(name))
            for r, stored in itertools.chain([first], it):
                # a clue's rows decoded in one call; Decimals stay decimals (money reads
                # 2380.50, not 2380.5)
                texts = ",".join([text for _, text in stored])
                evidence = list(zip([ds for ds, _ in stored], _DECODE(f"[{texts}]")))
                payload = clue_payload(r, evidence, self.snapshots, self.mask, self._cells)
                lines.write(json.dumps(payload, ensure_ascii=False) + "\n")
                page.write(sheet_html(self._sheet(r, payload, evidence)))
            page.write(PAGE_TAIL)

    def _sheet(self, r: dict[str, Any], p: dict[str, Any], evidence: Evidence) -> dict[str, Any]:
        """What `sheet_html` prints of one clue (`p` is its JSON line)."""
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
                    "header_cells": layout.header_cells,
                    "rows": [
                        (
                            is_hit,
                            "<td>"
                            + "</td><td>".join(
                                [
                                    (type(v) is str and known.get(v)) or cell(v)
                                    for v in map(row.get, shown)
                                ]
                            )
                            + "</td>"
                            if shown
                            else "",
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
