"""What prosecutors open: ranked CSV/XLSX hit lists, evidence sheets, the run manifest and report.

Everything here is rendered from the store, so `collide export` can re-create a run's files
(masked or, on explicit request, unmasked) at any time.
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

from collide.clues.build import EXCLUDED, GONE, display, jsonable
from collide.config.specs import SUBJECT_TYPE_LABELS
from collide.engine.duckdb import one
from collide.standards.masking import mask_text

CSV_COLUMNS = [
    ("排名", "rank"),
    ("线索编号", "clue_id"),
    ("模型", "model_id"),
    ("模型名称", "model_title"),
    ("领域", "domain"),
    ("风险等级", "severity_zh"),
    ("风险分", "risk"),
    ("对象类型", "subject_type_zh"),
    ("对象名称", "subject_name"),
    ("对象证件号", "subject_id"),
    ("线索说明", "reason"),
    ("状态", "lifecycle"),
    ("首次发现", "first_seen"),
    ("命中模型数", "models_hit"),
    ("数据质量提示", "warnings_text"),
    ("证据文件", "evidence_file"),
    ("审查结论", "review_status"),
    ("审查意见", "review_note"),
]
SEVERITY_ZH = {"high": "高", "medium": "中", "low": "低"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_LONG_DIGITS = re.compile(r"^\d{12,}$")


def _masked(value: Any, mask: bool) -> Any:
    if mask and isinstance(value, str):
        return mask_text(value)
    return value


def spreadsheet_safe(value: Any) -> str:
    """A CSV cell that Excel/WPS open as text: no formula runs, long digit strings stay text."""
    text = display(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    if _LONG_DIGITS.match(text):
        return "\t" + text  # a leading tab keeps 18-digit IDs from becoming 1.10105E+17
    return text


def run_clue_rows(con: Any, run_id: str, include_excluded: bool = False) -> list[dict[str, Any]]:
    """The clues of one run as flat dicts (ranked first, then the ones that disappeared)."""
    rows = con.execute(
        """
        SELECT s.rank, s.clue_id, s.model_id, mv.title, s.risk, c.subject_type, c.subject_name,
               c.subject_id, s.reason, s.lifecycle, c.first_seen_at, s.models_hit,
               s.warnings_json, c.review_status, c.review_note, s.output_json, s.model_version,
               s.evidence_hash, s.score
        FROM sightings s JOIN clues c USING (clue_id)
        LEFT JOIN model_versions mv ON mv.model_id = s.model_id AND mv.version = s.model_version
        WHERE s.run_id = ?
        ORDER BY s.rank NULLS LAST, s.model_id, s.clue_id
        """,
        [run_id],
    ).fetchall()
    keys = [
        "rank",
        "clue_id",
        "model_id",
        "model_title",
        "risk",
        "subject_type",
        "subject_name",
        "subject_id",
        "reason",
        "lifecycle",
        "first_seen",
        "models_hit",
        "warnings",
        "review_status",
        "review_note",
        "output",
        "model_version",
        "evidence_hash",
        "score",
    ]
    out = []
    for r in rows:
        d = dict(zip(keys, r))
        if d["review_status"] == EXCLUDED and not include_excluded:
            continue
        d["warnings"] = json.loads(d["warnings"] or "[]")
        d["output"] = json.loads(d["output"] or "{}")
        d["first_seen"] = d["first_seen"].date().isoformat() if d["first_seen"] else ""
        out.append(d)
    return out


def export_run(
    project: Any,
    con: Any,
    run_id: str,
    dest: Path,
    *,
    mask: bool = True,
    formats: tuple[str, ...] = ("csv", "xlsx"),
) -> Path:
    """Write all files of a run into `dest` (built in a temp folder, then swapped in)."""
    summary_json, quality_json = one(
        con.execute("SELECT summary, quality FROM runs WHERE run_id = ?", [run_id])
    )
    summary = json.loads(summary_json)
    quality = json.loads(quality_json or "{}")
    rows = run_clue_rows(con, run_id)
    specs = project.catalog.models
    for r in rows:
        spec = specs[r["model_id"]].spec if r["model_id"] in specs else None
        r["domain"] = spec.domain if spec else ""
        r["severity"] = spec.severity if spec else ""
        r["severity_zh"] = SEVERITY_ZH.get(r["severity"], "")
        r["legal_basis"] = spec.legal_basis if spec else ""
        r["subject_type_zh"] = SUBJECT_TYPE_LABELS.get(r["subject_type"], r["subject_type"])
        r["warnings_text"] = "；".join(r["warnings"])
        r["evidence_file"] = "" if r["lifecycle"] == GONE else f"evidence/{r['clue_id']}.html"
        r["title"] = r["model_title"] or r["model_id"]
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    keep = dest / "unmasked" if dest.exists() else None
    if "csv" in formats:
        write_csv(tmp / "clues.csv", rows, mask)
        for mid in sorted({r["model_id"] for r in rows} | set(summary["models"])):
            write_csv(tmp / f"clues_{mid}.csv", [r for r in rows if r["model_id"] == mid], mask)
    if "xlsx" in formats:
        write_xlsx(tmp / "clues.xlsx", rows, mask)
    evidence_dir = tmp / "evidence"
    evidence_dir.mkdir()
    ev = _evidence_by_clue(con, run_id)
    snapshots = {ds: info.get("snapshot_id") for ds, info in summary["datasets"].items()}
    labels = {mid: sheet_labels(project, mid) for mid in {r["model_id"] for r in rows}}
    for r in rows:
        if r["lifecycle"] == GONE:
            continue
        write_evidence(
            evidence_dir,
            r,
            ev.get(r["clue_id"], []),
            snapshots,
            mask,
            labels[r["model_id"]],
        )
    (tmp / "manifest.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    # Failing-row samples can hold ID numbers: masked like everything else that is exported.
    quality_text = json.dumps(quality, ensure_ascii=False, indent=2, default=str)
    report = render_report(summary, rows, quality)
    (tmp / "quality.json").write_text(mask_text(quality_text) if mask else quality_text, "utf-8")
    (tmp / "report.md").write_text(mask_text(report) if mask else report, encoding="utf-8")
    if keep is not None and keep.exists():
        shutil.move(str(keep), str(tmp / "unmasked"))
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old")
        if old.exists():
            shutil.rmtree(old)
        dest.rename(old)
        tmp.rename(dest)
        shutil.rmtree(old)
    else:
        tmp.rename(dest)
    return dest


def _cell(r: dict[str, Any], key: str, mask: bool) -> Any:
    value = r.get(key)
    if key == "rank" and value is None:
        return ""
    return _masked(display(value), mask) if value is not None else ""


def write_csv(path: Path, rows: list[dict[str, Any]], mask: bool) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
        w.writerow([zh for zh, _ in CSV_COLUMNS])
        for r in rows:
            w.writerow([spreadsheet_safe(_cell(r, key, mask)) for _, key in CSV_COLUMNS])


def write_xlsx(path: Path, rows: list[dict[str, Any]], mask: bool) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
    )
    ws = wb.add_worksheet("线索")
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    text = wb.add_format({"num_format": "@", "text_wrap": True, "valign": "top"})
    num = wb.add_format({"num_format": "0.0", "valign": "top"})
    widths = {
        "线索说明": 60,
        "对象名称": 24,
        "对象证件号": 22,
        "模型名称": 24,
        "数据质量提示": 30,
        "审查意见": 30,
        "证据文件": 26,
    }
    for c, (zh, _) in enumerate(CSV_COLUMNS):
        ws.write_string(0, c, zh, head)
        ws.set_column(c, c, widths.get(zh, 12))
    for i, r in enumerate(rows, 1):
        for c, (_, key) in enumerate(CSV_COLUMNS):
            value = r.get(key)
            if key in ("rank", "risk", "models_hit") and value is not None:
                ws.write_number(i, c, float(value), num)
            else:
                ws.write_string(i, c, str(_cell(r, key, mask)), text)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), len(CSV_COLUMNS) - 1)
    wb.close()


def _evidence_by_clue(con: Any, run_id: str) -> dict[str, list[tuple[str, dict]]]:
    out: dict[str, list[tuple[str, dict]]] = {}
    for clue, dataset, row_json in con.execute(
        "SELECT clue_id, dataset, row_json FROM evidence WHERE run_id = ? ORDER BY clue_id, seq",
        [run_id],
    ).fetchall():
        # Decimals stay decimals (money reads 2380.50, not 2380.5).
        out.setdefault(clue, []).append((dataset, json.loads(row_json, parse_float=Decimal)))
    return out


PROV_LABELS = {
    "_source_file": "来源文件",
    "_source_sheet": "工作表",
    "_source_row": "行号",
    "_snapshot_id": "快照",
    "_issues": "数据问题",
}


def sheet_labels(project: Any, model_id: str) -> dict[str, Any]:
    """Chinese headings for the evidence sheet: dataset titles, agency headers, output labels."""
    cat = project.catalog
    datasets = {ds: c.spec.title for ds, c in cat.connectors.items()}
    columns = {
        ds: {name: col.from_[0] for name, col in c.spec.columns.items()}
        for ds, c in cat.connectors.items()
    }
    output: dict[str, str] = {}
    model = cat.models.get(model_id)
    if model is not None:
        for ds in model.spec.inputs:
            for name, zh in columns.get(ds, {}).items():
                output.setdefault(name, zh)
        output.update(model.spec.labels)
    return {"datasets": datasets, "columns": columns, "output": output}


def write_evidence(
    folder: Path,
    r: dict[str, Any],
    evidence: list[tuple[str, dict]],
    snapshots: dict[str, str],
    mask: bool,
    labels: dict[str, Any] | None = None,
) -> None:
    def m(v: Any) -> Any:
        return _masked(v, mask)

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


_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","SimSun",sans-serif;margin:24px;color:#222}
h1{font-size:20px;text-align:center;margin-bottom:4px}
.sub{text-align:center;color:#555;font-size:12px;margin-bottom:16px}
table{border-collapse:collapse;width:100%;margin:8px 0 16px;font-size:12px}
th,td{border:1px solid #999;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#eef3f8;white-space:nowrap}
h2{font-size:15px;border-left:4px solid #2f5d8a;padding-left:6px;margin-top:20px}
.reason{font-size:14px;line-height:1.6;padding:8px;border:1px solid #999;background:#fafafa}
.warn{color:#a33}
.sign td{height:40px}
table.ev td,table.ev th{font-size:11px;word-break:break-all}
@page{size:A4 landscape;margin:10mm}
@media print{body{margin:0}h2{page-break-after:avoid}table{page-break-inside:auto}}
"""


def render_sheet(
    p: dict[str, Any],
    evidence: list[tuple[str, dict]],
    snapshots: dict[str, str],
    mask: bool,
    labels: dict[str, Any] | None = None,
) -> str:
    e = html.escape
    labels = labels or {"datasets": {}, "columns": {}, "output": {}}
    out_label = labels["output"]

    def m(v: Any) -> str:
        return e(str(_masked(display(v), mask)))

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
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>线索核查单 {e(p['线索编号'])}</title><style>{_CSS}</style></head><body>",
        "<h1>线索核查单</h1>",
        f"<div class='sub'>机器比对线索，仅供人工复核，不构成认定结论"
        f"{'；证件号已脱敏' if mask else '；含未脱敏个人信息，注意保密'}</div>",
        "<table>",
        *[f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in head],
        "</table>",
        "<h2>线索说明</h2>",
        f"<div class='reason'>{e(str(p['线索说明']))}</div>",
    ]
    if p["数据质量提示"]:
        parts += [
            "<h2>数据质量提示</h2><ul class='warn'>",
            *[f"<li>{e(w)}</li>" for w in p["数据质量提示"]],
            "</ul>",
        ]
    parts += [
        "<h2>模型输出</h2><table>",
        *[
            f"<tr><th>{e(out_label.get(k, k))}</th><td>{e(display(v))}</td></tr>"
            for k, v in p["模型输出"].items()
        ],
        "</table>",
    ]
    by_ds: dict[str, list[dict]] = {}
    for ds, row in evidence:
        by_ds.setdefault(ds, []).append(row)
    parts.append("<h2>证据数据</h2>")
    if not by_ds:
        parts.append("<p>（本模型未配置证据数据集）</p>")
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
        parts.append(
            f"<h3>{e(title + '（' + ds + '）' if title else ds)} "
            f"<small>快照 {e(str(snapshots.get(ds) or ''))}，"
            f"共 {len(rows)} 行</small></h3><table class='ev'><tr>"
        )
        parts += [f"<th>{e(heads.get(c, c))}</th>" for c in cols]
        parts += [f"<th>{PROV_LABELS[c]}</th>" for c in prov]
        parts.append("</tr>")
        for row in rows:
            parts.append(
                "<tr>" + "".join(f"<td>{m(row.get(c))}</td>" for c in cols + prov) + "</tr>"
            )
        parts.append("</table>")
    parts += [
        "<h2>人工复核</h2><table class='sign'>",
        "<tr><th>审查结论</th><td>□ 确认 &nbsp; □ 排除 &nbsp; □ 已立案</td></tr>",
        "<tr><th>审查意见 / 排除理由</th><td></td></tr>",
        "<tr><th>走访核实情况</th><td></td></tr>",
        "<tr><th>复核人 / 日期</th><td></td></tr></table>",
        "</body></html>",
    ]
    return "\n".join(parts)


STATUS_ZH = {
    "ok": "完成",
    "partial": "部分完成",
    "failed": "失败",
    "skipped": "已跳过",
    "blocked": "质量闸门未通过",
    "pending": "未执行",
}


def render_report(
    summary: dict[str, Any], rows: list[dict[str, Any]], quality: dict[str, Any]
) -> str:
    lines = [
        f"# 数据碰撞运行报告 {summary['run_id']}",
        "",
        f"- 运行状态：{STATUS_ZH.get(summary['status'], summary['status'])}",
        f"- 运行日期：{summary['run_date']}；开始 {summary['started_at']}，"
        f"结束 {summary['finished_at']}，耗时 {summary['seconds']} 秒",
        f"- 线索：{sum(1 for r in rows if r['lifecycle'] != GONE)} 条"
        f"（新增 {sum(1 for r in rows if r['lifecycle'] == '新增')}，"
        f"持续 {sum(1 for r in rows if r['lifecycle'] == '持续')}，"
        f"已消失 {sum(1 for r in rows if r['lifecycle'] == GONE)}）",
        "",
        "## 数据集",
        "",
        "| 数据集 | 状态 | 快照 | 读入 | 载入 | 拒收 | 质量 | 说明 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for ds, d in summary["datasets"].items():
        lines.append(
            f"| {ds} | {STATUS_ZH.get(d['status'], d['status'])} | "
            f"{d.get('snapshot_id') or ''} | {_n(d.get('rows_read'))} | "
            f"{_n(d.get('rows_loaded'))} | {_n(d.get('rows_rejected'))} | "
            f"{d.get('quality') or ''} | {_md(d.get('message'))} |"
        )
    if summary.get("problems"):
        lines += ["", "## 未能加载的文件（相关模型本次未运行）", ""]
        lines += [f"- {_md(p)}" for p in summary["problems"]]
    lines += [
        "",
        "## 模型",
        "",
        "| 模型 | 状态 | 命中 | 耗时(秒) | 说明 |",
        "|---|---|---|---|---|",
    ]
    for mid, m in summary["models"].items():
        note = "; ".join([m.get("message") or ""] + m.get("notes", [])).strip("; ")
        lines.append(
            f"| {mid} | {STATUS_ZH.get(m['status'], m['status'])} | {m['hits']} | "
            f"{m['seconds']} | {_md(note)} |"
        )
    if quality:
        lines += ["", "## 数据质量", ""]
        for ds, q in quality.items():
            lines.append(f"### {ds}：{q.get('status')}")
            for o in q.get("outcomes", []):
                flag = (
                    "通过"
                    if o.get("success")
                    else ("未通过（阻断）" if o.get("blocking") else "未通过（警告）")
                )
                lines.append(
                    f"- {flag} {o.get('description_zh') or o.get('expectation')}"
                    f"（{o.get('observed')}）"
                )
                for fr in (o.get("failing_rows") or [])[:5]:
                    lines.append(
                        f"  - {fr.get('_source_file')} 第 {fr.get('_source_row')} 行："
                        f"{_md(json.dumps(fr, ensure_ascii=False, default=str))}"
                    )
            lines.append("")
    return "\n".join(lines) + "\n"


def _n(value: Any) -> str:
    return "" if value is None else str(value)


def _md(text: Any) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")
