"""What a reviewer opens and fills in: clues.xlsx (dropdowns, dates, the evidence link), the
evidence sheet's hit rows, reasons that read naturally and a report.md in Chinese only."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from test_followup import sample_project
from test_reviews import latest_run_dir, read_rows


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> Path:
    """The sample project after one run (shared: the tests below only read it, or copy it)."""
    from collide.cli.main import main

    project = sample_project(tmp_path_factory.mktemp("reviewer"))
    try:
        main(["run", "--project", str(project)])
    except SystemExit as stop:
        assert stop.code in (0, None)
    return project


def _header(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[1]}


def test_xlsx_has_dropdowns_dates_and_a_link_to_the_sheet(sample_run: Path) -> None:
    run_dir = latest_run_dir(sample_run)
    wb = openpyxl.load_workbook(run_dir / "clues.xlsx")
    ws = wb["线索"]
    col = _header(ws)
    letter = {h: openpyxl.utils.get_column_letter(c) for h, c in col.items()}
    lists = {}
    dates = set()
    for dv in ws.data_validations.dataValidation:
        cols = {re.match(r"[A-Z]+", str(r)).group() for r in dv.sqref.ranges}
        for c in cols:
            if dv.type == "list":
                lists[c] = dv.formula1
            elif dv.type == "date":
                dates.add(c)
    assert lists[letter["审查结论"]] == '"待审查,确认,排除,已立案,已制发检察建议,已起诉,已办结"'
    reasons = lists[letter["排除理由"]]
    for reason in ("数据错误", "冒名登记", "已整改", "不属本院管辖", "重复线索", "其他"):
        assert reason in reasons
    assert {letter[h] for h in ("制发日期", "整改期限", "有效期至")} <= dates
    # a date typed into 制发日期 shows as a date (the column carries a date format)
    cell = ws.cell(2, col["制发日期"])
    assert "yy" in cell.number_format
    # 证据文件: a relative link to the clue's sheet, which exists beside the workbook
    link = ws.cell(2, col["证据文件"])
    cid = ws.cell(2, col["线索编号"]).value
    assert link.hyperlink is not None
    assert link.hyperlink.target == f"evidence/{cid}.html"
    assert (run_dir / link.hyperlink.target).exists()


def test_a_reviewer_fills_in_the_xlsx_and_import_reads_it_back(
    sample_run: Path, tmp_path: Path, cli
) -> None:
    project = tmp_path / "p"
    shutil.copytree(sample_run, project)
    run_dir = latest_run_dir(project)
    wb = openpyxl.load_workbook(run_dir / "clues.xlsx")
    ws = wb["线索"]
    col = _header(ws)
    ids = [ws.cell(r, col["线索编号"]).value for r in (2, 3, 4)]
    # as a reviewer does: picks values from the dropdowns, types dates as dates
    ws.cell(2, col["审查结论"]).value = "已制发检察建议"
    ws.cell(2, col["检察建议文号"]).value = "临检行公建〔2026〕3号"
    ws.cell(2, col["制发日期"]).value = dt.datetime(2026, 3, 2)
    ws.cell(3, col["审查结论"]).value = "排除"
    ws.cell(3, col["排除理由"]).value = "数据错误"
    ws.cell(3, col["有效期至"]).value = dt.date(2026, 12, 31)
    ws.cell(4, col["审查结论"]).value = "已立案"
    ws.cell(4, col["案号"]).value = "临检刑诉〔2026〕15号"
    ws.cell(4, col["承办人"]).value = "王检察官"
    filled = tmp_path / "clues.xlsx"
    wb.save(filled)
    code, out, err = cli("review", "import", str(filled), "--project", str(project))
    assert code == 0, out + err
    assert "3 reviews recorded" in out
    code, out, err = cli("export", "--project", str(project))
    assert code == 0, out + err
    rows = {r["线索编号"]: r for r in read_rows(latest_run_dir(project) / "clues.csv")}
    a, c = rows[ids[0]], rows[ids[2]]
    assert ids[1] not in rows  # excluded: off the hit list, its disposition in the store
    import duckdb

    con = duckdb.connect(str(project / "output" / "collide.duckdb"), read_only=True)
    try:
        b = con.execute(
            "SELECT review_status, exclusion_reason, valid_until FROM clues WHERE clue_id = ?",
            [ids[1]],
        ).fetchone()
    finally:
        con.close()
    assert b == ("排除", "数据错误", dt.date(2026, 12, 31))
    assert (a["审查结论"], a["检察建议文号"], a["制发日期"], a["整改期限"]) == (
        "已制发检察建议",
        "临检行公建〔2026〕3号",
        "2026-03-02",
        "2026-05-02",
    )
    assert (c["审查结论"], c["案号"], c["承办人"]) == ("已立案", "临检刑诉〔2026〕15号", "王检察官")
    # the re-exported workbook holds the dates as dates again
    wb2 = openpyxl.load_workbook(latest_run_dir(project) / "clues.xlsx")
    ws2 = wb2["线索"]
    col2 = _header(ws2)
    row = next(
        r for r in range(2, ws2.max_row + 1) if ws2.cell(r, col2["线索编号"]).value == ids[0]
    )
    assert ws2.cell(row, col2["制发日期"]).value == dt.datetime(2026, 3, 2)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_xlsx(sample_run: Path, tmp_path: Path) -> None:
    src = latest_run_dir(sample_run) / "clues.xlsx"
    done = subprocess.run(
        [
            "soffice",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
            str(tmp_path),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    out = tmp_path / "clues.csv"
    assert out.exists(), done.stdout + done.stderr
    text = out.read_text(encoding="utf-8")
    assert "线索编号" in text and "审查结论" in text
    # the dates and the link text come through as a reader sees them
    assert "evidence/XS" in text
