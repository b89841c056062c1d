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
from conftest import clue_sheet
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
    # evidence/<model>.html#<clue>: the model's page, opened at the clue's sheet
    page = link.hyperlink.target
    assert page.startswith("evidence/") and page.endswith(".html")
    assert link.hyperlink.location == cid or page.endswith(f"#{cid}")
    assert (run_dir / page.partition("#")[0]).exists()


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
    ws.cell(2, col["制发日期"]).value = dt.datetime(2024, 9, 30)  # 3 months before the run
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
        "2024-09-30",
        "2024-11-30",
    )
    assert (c["审查结论"], c["案号"], c["承办人"]) == ("已立案", "临检刑诉〔2026〕15号", "王检察官")
    # the re-exported workbook holds the dates as dates again
    wb2 = openpyxl.load_workbook(latest_run_dir(project) / "clues.xlsx")
    ws2 = wb2["线索"]
    col2 = _header(ws2)
    row = next(
        r for r in range(2, ws2.max_row + 1) if ws2.cell(r, col2["线索编号"]).value == ids[0]
    )
    assert ws2.cell(row, col2["制发日期"]).value == dt.datetime(2024, 9, 30)

    # 回头看: the next run (run date 2024-12-31) finds it still hit after the deadline
    from collide.orchestrate.prefect import summary_text
    from collide.project import Project

    p = Project.load(project)
    result = p.run(ingest=False)
    run = Path(result.run_dir)
    state = "逾期未整改（逾期31天）"
    assert (
        next(r for r in read_rows(run / "clues.csv") if r["线索编号"] == ids[0])["整改状态"]
        == state
    )
    link = next(r for r in read_rows(run / "clues.csv") if r["线索编号"] == ids[0])["证据文件"]
    sheet, _ = clue_sheet(run, link)
    assert f"{state}，检察建议临检行公建〔2026〕3号，整改期限2024-11-30" in sheet
    report = (run / "report.md").read_text("utf-8")
    assert "## 回头看：整改状态" in report
    assert f"| 1 | {ids[0]} |" in report and state in report
    summary = summary_text(result, p)
    assert "回头看 / follow-up: 逾期未整改 1" in summary
    assert f"第1名 {ids[0]}" in summary and "整改期限2024-11-30" in summary
    # the report's figures are those of `collide stats` for the year
    code, out, err = cli(
        "stats", "--from", "2024-01-01", "--to", "2024-12-31", "--project", str(project)
    )
    assert code == 0, err
    para = next(line for line in out.splitlines() if line.startswith("2024年1月1日至"))
    assert para.strip() in report


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
    assert re.search(r"evidence/\w+\.html#XS", text)


def test_reasons_read_naturally(sample_run: Path) -> None:
    rows = read_rows(latest_run_dir(sample_run) / "clues.csv")
    reasons = [r["线索说明"] for r in rows]
    assert len(reasons) > 20
    for reason in reasons:
        # a period that is one day reads as that day, not "X至X"
        for a, b in re.findall(r"(\d{4}-\d{2}-\d{2}|\d{6})至(\d{4}-\d{2}-\d{2}|\d{6})", reason):
            assert a != b, reason
        # a zero count is not stated as a finding ("0个月用水量为0", "0起投诉")
        assert not re.search(r"(?<![\d.])0(个月|笔|起|次|人|处|份|件)", reason), reason
        assert "到期" not in reason or not re.search(r"到期\d+天", reason), reason
    # the single-day and zero cases of the sample are the ones that read differently now
    assert any(re.search(r"其后于\d{4}-\d{2}-\d{2}仍有1起欠薪投诉", r) for r in reasons)
    assert any("个月中12个月按居民生活水价计费" in r and "个月用水量为0" not in r for r in reasons)
    assert any(re.search(r"已于\d{4}-\d{2}-\d{2}到期，已过期\d+天", r) for r in reasons)


def test_reason_conditionals() -> None:
    from collide.clues.build import reason_fields, render_reason

    t = "{if a != b}{a}至{b}{else}于{b}{end}{if n > 0}，{n}次{if not m}（无{x}）{end}{end}{{括号}}"
    assert render_reason(t, {"a": "1", "b": "1", "n": 0, "m": 1, "x": "y"}) == "于1{括号}"
    assert (
        render_reason(t, {"a": "1", "b": "2", "n": 3, "m": 0, "x": "y"}) == "1至2，3次（无y）{括号}"
    )
    assert reason_fields(t) == ["a", "b", "n", "m", "x"]
    assert render_reason("{v:.1f}元", {"v": 1.25}) == "1.2元"  # the old templates still work
    for bad in ("{if a}x", "{end}", "{if a ~ b}x{end}", "{else}"):
        with pytest.raises(ValueError):
            reason_fields(bad)


def test_a_malformed_condition_is_reported_by_check(sample_run: Path, tmp_path: Path, cli) -> None:
    project = tmp_path / "p"
    shutil.copytree(sample_run, project, ignore=shutil.ignore_patterns("output", "runs"))
    path = project / "models" / "pension_after_death.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("{end}，", "，", 1), encoding="utf-8")
    code, out, err = cli("check", "--project", str(project))
    assert code != 0
    assert "pension_after_death.yaml" in out + err and "{end}" in out + err
    # a mark: naming a column that is not there is found by check too, at its evidence entry
    path.write_text(text.replace("hit.death_date", "hit.died_on"), encoding="utf-8")
    code, out, err = cli("check", "--project", str(project))
    assert code != 0
    assert "pension_after_death.yaml" in out + err and "died_on" in out + err
    assert "hit.<name>" in out + err


def test_evidence_sheet_marks_the_rows_that_made_the_hit(sample_run: Path) -> None:

    run_dir = latest_run_dir(sample_run)
    rows = [r for r in read_rows(run_dir / "clues.csv") if r["模型"] == "pension_after_death"]
    checked = 0
    for r in rows:
        html, data = clue_sheet(run_dir, r["证据文件"])
        death = data["模型输出"]["death_date"]
        pays = [e for e in data["证据"] if e["数据集"] == "pension_payments"]
        marked = [e for e in pays if e.get("命中行")]
        assert len(marked) == int(data["模型输出"]["payments"])
        assert all(e["行"]["paid_on"] > death for e in marked)
        assert all(e["行"]["paid_on"] <= death for e in pays if not e.get("命中行"))
        assert html.count("<tr class='hit'>") == len(marked)
        assert f"其中命中行 {len(marked)} 行" in html
        checked += len(pays) > len(marked)
    assert checked  # at least one person was also paid before the death: the sheet tells apart


def test_report_speaks_chinese_only(sample_run: Path) -> None:
    from collide.project import Project

    run_dir = latest_run_dir(sample_run)
    text = (run_dir / "report.md").read_text("utf-8")
    project = Project.load(sample_run)
    headers = {
        h for c in project.catalog.connectors.values() for col in c.spec.columns.values()
        for h in col.from_
    }  # fmt: skip
    text = text.replace(run_dir.name, "")
    text = re.sub(r"\b[0-9a-f]{16}\b", "", text)  # snapshot ids
    text = re.sub(r"[\w./-]+\.(csv|xlsx|xls|json|txt)", "", text)  # agency files
    for h in headers:
        text = text.replace(h, "")
    words = set(re.findall(r"[A-Za-z]{3,}", text))
    assert not words, words
    assert "通过" in text and "## 工作成效" in text and "本年度累计" in text


def test_a_long_list_of_exclusion_reasons_still_drops_down(tmp_path: Path) -> None:
    from collide.export.xlsx import write_xlsx

    reasons = [f"本院自定义的第{i}种排除理由" for i in range(40)]  # over Excel's 255 characters
    write_xlsx(tmp_path / "clues.xlsx", [], False, reasons)
    wb = openpyxl.load_workbook(tmp_path / "clues.xlsx")
    assert wb.sheetnames[0] == "线索"  # review import reads the first sheet
    lists = [dv.formula1 for dv in wb["线索"].data_validations.dataValidation if dv.type == "list"]
    assert any("下拉选项" in f for f in lists), lists
    assert [c.value for c in wb["下拉选项"]["A"]] == reasons
    assert wb["下拉选项"].sheet_state == "hidden"
