"""What prosecutors open: report.md safe in any Markdown viewer, the evidence sheet escaped, one
clue count on the console, in summary.txt, clues.csv and report.md, no false stale-data warning
on the bundled sample, and the run lock."""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import REPO, clue_sheet, write_project
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt  # installed with rich
from pension_project import PENSION_FILES

# What agency files have been seen to carry, and what an attacker would put there.
HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[点此核实](javascript:alert(1))",
    "![x](http://evil.example/x.png)",
    "<javascript:alert(1)>",
    "a|b|c",
    "`rm -rf /`",
    "**加粗** _斜_ ~~删~~",
    "&lt;b&gt;实体&#60;",
    "# 标题",
    "1. 列表",
    "第一行\n第二行",
]
# report.md lists five failing rows per check: the hostile values, five to a row
NOTES = [" ".join(HOSTILE[i::5]) for i in range(5)]

# Token types of rendered Markdown that are not plain text.
_RENDERED = {
    "html_inline",
    "html_block",
    "link_open",
    "image",
    "code_inline",
    "code_block",
    "fence",
    "em_open",
    "strong_open",
    "s_open",
    "blockquote_open",
    "hr",
}


def _markdown() -> MarkdownIt:
    """A CommonMark viewer with GitHub's tables and strikethrough, raw HTML allowed."""
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def _walk(tokens: list) -> list:
    out = []
    for t in tokens:
        out.append(t)
        out.extend(_walk(t.children or []))
    return out


def _plain(text: str) -> str:
    return re.sub(r"\r\n|\r|\n", " ", text).strip()


# --------------------------------------------------------------------------- Markdown escaping

_MD_ALPHABET = st.sampled_from(
    list("\\`*_[]()<>&|~$#!+-=.:;'\"/ \n\r\t0123456789aZ中文") + ["\u3000"]
)


@settings(max_examples=600, deadline=None)
@given(st.text(_MD_ALPHABET, max_size=24))
def test_escaped_values_read_as_written_in_a_markdown_viewer(value: str) -> None:
    from collide.export.render import md_escape

    md = _markdown()
    text = md_escape(value)
    for doc, kind in ((f"| a | b |\n|---|---|\n| x | {text} |\n", "td"), (f"- {text}\n", "li")):
        tokens = md.parse(doc)
        assert not {t.type for t in _walk(tokens)} & _RENDERED, (value, doc)
        if kind == "td":
            cells = [i for i, t in enumerate(tokens) if t.type == "td_open"]
            assert len(cells) == 2, (value, doc)  # no `|` in the value opened a cell
            inline = tokens[cells[1] + 1]
        else:
            assert [t.type for t in tokens].count("list_item_open") == 1, (value, doc)
            inline = next((t for t in tokens if t.type == "inline"), None)
        shown = "".join(c.content for c in (inline.children or [])) if inline else ""
        assert shown.strip() == _plain(value).strip(), (value, doc)


# --------------------------------------------------------------------------- end to end


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


@pytest.fixture
def hostile_project(tmp_path: Path) -> Path:
    """The pension project, its licences carrying a 信息来源 column full of hostile values and
    a quality check on it that fails (a warning), so the values reach report.md."""
    files = dict(PENSION_FILES)
    files["connectors/licences.yaml"] = PENSION_FILES["connectors/licences.yaml"].replace(
        "waste_contract: {from: 污水排放许可, type: string}",
        "waste_contract: {from: 污水排放许可, type: string}\n"
        "          source_note: {from: 信息来源, type: string}",
    )
    files["expectations/licences.yaml"] = """
        dataset: licences
        expectations:
          - type: required_columns
            blocking: true
          - type: expect_column_values_to_be_in_set
            column: source_note
            value_set: [市场监管局]
    """
    del files["data/licences.csv"]
    root = write_project(tmp_path / "p", files)
    rows = [["许可证编号", "经营者名称", "法定代表人身份证号", "污水排放许可", "信息来源"]]
    rows.append(["JY1101050001", "临川区张记餐馆（个体）", "11010519491231002X", "", "市场监管局"])
    for i, (name, note) in enumerate(zip(HOSTILE, NOTES)):
        # hostile names become the subjects of no_drain_permit clues (evidence sheets)
        rows.append([f"JY11010502{i:02d}", name, "", "", note])
    # one licence holds a drainage permit: a column empty in every row would skip no_drain_permit
    rows.append(["JY1101059999", "临川区王记茶楼", "", "PS-2024-01", "市场监管局"])
    _write_csv(root / "data" / "licences.csv", rows)
    return root


def _latest_run(root: Path) -> Path:
    return sorted(p for p in (root / "runs").iterdir() if not p.name.startswith("."))[-1]


def test_report_shows_hostile_agency_values_as_text(hostile_project: Path, cli) -> None:
    code, out, err = cli("run", "--project", str(hostile_project))
    assert code == 0, out + err
    run = _latest_run(hostile_project)
    report = (run / "report.md").read_text(encoding="utf-8")
    assert "未通过（警告）" in report  # the check on 信息来源 failed and listed its rows
    tokens = _walk(_markdown().parse(report))
    assert not {t.type for t in tokens} & _RENDERED
    shown = "\n".join(t.content for t in tokens if t.type == "text")
    for value in NOTES:
        # failing rows are shown as JSON: a line break comes back as \n
        assert _plain(value.replace("\n", "\\n")) in shown, value
    # every table row has as many cells as its header: no `|` in a value opened a cell
    rows: list[int] = []
    for t in _walk(_markdown().parse(report)):
        if t.type == "tr_open":
            rows.append(0)
        elif t.type in ("th_open", "td_open"):
            rows[-1] += 1
    assert rows and set(rows) <= {8, 5}

    listed = list(csv.DictReader((run / "clues.csv").read_text("utf-8-sig").splitlines()))
    hostile = [r for r in listed if r["对象证件号"].startswith("JY11010502")]
    assert len(hostile) == 5
    for clue in hostile:
        sheet = clue_sheet(run, clue["证据文件"])[0]
        name = clue["对象名称"]  # as normalised at ingest: （） for ()
        assert html.escape(name) in sheet
        if html.escape(name) != name:
            assert name not in sheet  # no raw markup from the agency file
    sheets = "".join(p.read_text("utf-8") for p in run.glob("evidence/*.html"))
    assert "<script" not in sheets and "<img" not in sheets and "<javascript" not in sheets


def test_hit_list_writers_follow_the_column_list(hostile_project: Path, cli) -> None:
    import openpyxl

    from collide.export import CLUE_COLUMNS

    assert cli("run", "--project", str(hostile_project))[0] == 0
    run = _latest_run(hostile_project)
    headers = [c.header for c in CLUE_COLUMNS]
    with open(run / "clues.csv", encoding="utf-8-sig", newline="") as fh:
        assert next(csv.reader(fh)) == headers
    with open(run / "clues_no_drain_permit.csv", encoding="utf-8-sig", newline="") as fh:
        assert next(csv.reader(fh)) == headers
    wb = openpyxl.load_workbook(run / "clues.xlsx", read_only=True)
    try:
        assert [c.value for c in next(wb.active.iter_rows(max_row=1))] == headers
    finally:
        wb.close()


# --------------------------------------------------------------------------- one clue count


def _figures(text: str, pattern: str) -> tuple[int, ...]:
    m = re.search(pattern, text)
    assert m, (pattern, text)
    return tuple(int(g) for g in m.groups())


def test_one_clue_count_after_an_exclusion(tmp_path: Path, cli, capsys) -> None:
    """After one clue is excluded and another disappears, the console, summary.txt, clues.csv
    and report.md give the same figures: listed clues = hits less the excluded one."""
    from collide.cli.main import _print_run
    from collide.orchestrate.prefect import summary_text
    from collide.project import Project

    root = write_project(tmp_path / "p", PENSION_FILES)
    assert cli("run", "--project", str(root))[0] == 0
    first = list(
        csv.DictReader((_latest_run(root) / "clues.csv").read_text("utf-8-sig").splitlines())
    )
    assert len(first) == 6
    target = next(r for r in first if r["模型"] == "food_ban_holder")
    target["审查结论"], target["审查意见"] = "排除", "冒名登记"
    reviewed = root / "reviewed.csv"
    with open(reviewed, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(first[0]))
        w.writeheader()
        w.writerows(first)
    assert cli("review", "import", str(reviewed), "--project", str(root))[0] == 0
    # 李记面馆 gets its drainage permit: its clue disappears (已消失)
    lic = root / "data" / "licences.csv"
    lic.write_text(
        "\n".join(
            line + "PS-2024-09" if "JY1101050003" in line else line
            for line in lic.read_text(encoding="utf-8").splitlines()
        )
        + "\n",
        encoding="utf-8",
    )

    project = Project.load(root)
    result = project.run()
    capsys.readouterr()
    _print_run(project, result)
    console = capsys.readouterr().out
    summary = summary_text(result, project)
    run = Path(result.run_dir)
    rows = list(csv.DictReader((run / "clues.csv").read_text("utf-8-sig").splitlines()))
    report = (run / "report.md").read_text(encoding="utf-8")

    # 6 hits: 1 excluded (not listed), 1 gone (listed, unranked) → 4 clues, 4 ongoing
    ranked = [r for r in rows if r["状态"] != "已消失"]
    gone = [r for r in rows if r["状态"] == "已消失"]
    assert (len(ranked), len(gone)) == (4, 1)
    assert target["线索编号"] not in {r["线索编号"] for r in rows}
    expected = (4, 0, 4, 1)
    assert _figures(console, r"(\d+) clues \((\d+) new, (\d+) ongoing, (\d+) gone") == expected
    assert "1 excluded, not listed" in console
    assert (
        _figures(summary, r"clues: (\d+)（新增 new (\d+)，持续 ongoing (\d+)，已消失 gone (\d+)")
        == expected
    )
    assert "已排除 excluded 1 条" in summary
    assert _figures(report, r"线索：(\d+) 条（新增 (\d+)，持续 (\d+)，已消失 (\d+)）") == expected
    assert "已排除（排除）且证据未变化的线索 1 条" in report
    assert (result.clues, result.excluded) == (4, 1)


# --------------------------------------------------------------------------- the bundled sample

_SAMPLE = ("collide.yaml", "connectors", "models", "expectations", "sample_data")


def test_first_run_on_the_bundled_sample_has_no_false_data_warning(tmp_path: Path, cli) -> None:
    root = tmp_path / "sample"
    root.mkdir()
    for name in _SAMPLE:
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    code, out, err = cli("run", "--project", str(root))
    assert code == 0, out + err
    run = _latest_run(root)
    rows = list(csv.DictReader((run / "clues.csv").read_text("utf-8-sig").splitlines()))
    truth = csv.DictReader(
        (REPO / "sample_data/ground_truth.csv").read_text("utf-8-sig").splitlines()
    )
    assert len(rows) == sum(t["expected"] == "hit" for t in truth)  # the planted hits
    warnings = {w for r in rows for w in r["数据质量提示"].split("；") if w}
    # the sample's extracts are as of 2024-12-31 (run_date: in its collide.yaml)
    assert not [w for w in warnings if "运行日" in w], warnings
    report = (run / "report.md").read_text(encoding="utf-8")
    assert "- 运行日期：2024-12-31" in report
    assert not [line for line in report.splitlines() if "未通过" in line and "运行日" in line]


# --------------------------------------------------------------------------- the run lock

_HOLD = """
import sys, time
from pathlib import Path
from collide.store.db import RunLock
lock = RunLock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
time.sleep(600)
"""


def test_a_run_in_another_process_blocks_until_it_ends_and_leaves_no_stale_lock(
    tmp_path: Path, cli
) -> None:
    root = write_project(tmp_path / "p", PENSION_FILES)
    lock = root / "output" / "collide.duckdb.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(lock)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        code, out, err = cli("run", "--project", str(root))
        assert code == 1
        assert f"another collide run is in progress (pid {holder.pid}, started" in err
        assert "Wait for it to finish, or pass --wait SECONDS to queue behind it." in err
    finally:
        holder.kill()  # a run that dies holds no lock: nothing to clean up by hand
        holder.wait()
    code, out, err = cli("run", "--project", str(root))
    assert code == 0, out + err


def test_a_waiting_run_goes_ahead_when_the_lock_is_released(tmp_path: Path, cli) -> None:
    from collide.store.db import RunLock

    root = write_project(tmp_path / "p", PENSION_FILES)
    lock = RunLock(root / "output" / "collide.duckdb.lock")
    lock.acquire()
    waiting = threading.Event()

    def release_later() -> None:
        waiting.wait()
        time.sleep(1)  # the run below is queued on the lock by now
        lock.release()

    t = threading.Thread(target=release_later)
    t.start()
    try:
        waiting.set()
        code, out, err = cli("run", "--wait", "120", "--project", str(root))
    finally:
        t.join()
    assert code == 0, out + err
    assert "6 clues (6 new, 0 ongoing, 0 gone)" in out


def test_clues_past_excels_link_limit_still_open_their_sheet(tmp_path: Path, monkeypatch) -> None:
    """Excel keeps 65,530 links per sheet; the clues after them get a HYPERLINK() formula to
    the same sheet instead of an empty 证据文件 cell (the limit is lowered here to 2)."""
    import openpyxl

    import collide.export.xlsx as xlsx
    from collide.export import CLUE_COLUMNS

    monkeypatch.setattr(xlsx, "_MAX_LINKS", 2)
    rows = [
        {"rank": i, "clue_id": f"XS{i}", "evidence_file": f"evidence/m.html#XS{i}"}
        for i in range(1, 5)
    ]
    xlsx.write_xlsx(tmp_path / "clues.xlsx", rows, mask=True)
    col = [c.key for c in CLUE_COLUMNS].index("evidence_file") + 1
    ws = openpyxl.load_workbook(tmp_path / "clues.xlsx").active
    cells = [ws.cell(row=i + 1, column=col) for i in range(1, 5)]
    links = [(c.hyperlink.target, c.hyperlink.location) for c in cells[:2] if c.hyperlink]
    assert links == [("evidence/m.html", "XS1"), ("evidence/m.html", "XS2")]
    assert [c.hyperlink for c in cells[2:]] == [None, None]
    assert [c.value for c in cells[2:]] == [
        '=HYPERLINK("evidence/m.html#XS3","evidence/m.html#XS3")',
        '=HYPERLINK("evidence/m.html#XS4","evidence/m.html#XS4")',
    ]


def test_stored_evidence_is_read_in_the_order_asked_for_in_small_batches(tmp_path: Path) -> None:
    """The evidence writer reads a run's rows clue by clue in rank order, a batch at a time: every
    clue asked for comes back once, in that order, its rows in attachment order (none for a
    clue without evidence), whatever the batch size."""
    from collide.store import queries
    from collide.store.db import Store, insert_rows

    store = Store(tmp_path / "collide.duckdb")
    rows = [
        {"run_id": run, "clue_id": cid, "seq": seq, "dataset": "d", "row_json": f"{cid}{seq}"}
        for run in ("r1", "r2")
        for cid, n in (("A", 3), ("B", 1), ("C", 2))
        for seq in reversed(range(n))
    ]
    with store.connect() as con:
        insert_rows(con, "evidence", rows, queries.EVIDENCE_COLUMNS)
        for batch in (1, 2, 50):
            got = list(queries.run_evidence(con, "r1", ["C", "X", "A", "B"], batch_rows=batch))
            assert got == [
                ("C", [("d", "C0"), ("d", "C1")]),
                ("X", []),
                ("A", [("d", "A0"), ("d", "A1"), ("d", "A2")]),
                ("B", [("d", "B0")]),
            ]
        assert list(queries.run_evidence(con, "r1", [])) == []
        con.execute("SELECT 1").fetchall()  # the connection is free again
