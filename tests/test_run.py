"""End to end through the CLI on a small hand-written project: what a prosecutor gets."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import write_project
from pension_project import PENSION_FILES


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "p", PENSION_FILES)


def read_clues(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "clues CSV must start with a UTF-8 BOM"
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))


def latest_run_dir(project: Path) -> Path:
    runs = sorted(p for p in (project / "runs").iterdir() if not p.name.startswith("."))
    return runs[-1]


def test_run_produces_ranked_clues_evidence_and_lifecycle(project: Path, cli) -> None:
    code, out, err = cli("run", "--project", str(project))
    assert code == 0, out + err
    run_dir = latest_run_dir(project)
    assert f"Hit list: {run_dir / 'clues.csv'}" in out.replace("\n", "") or "clues.csv" in out
    rows = read_clues(run_dir / "clues.csv")
    assert list(rows[0])[:4] == ["排名", "线索编号", "模型", "模型名称"]
    by_model = {r["模型"]: r for r in rows if r["对象名称"] != "王五"}
    assert set(by_model) == {"pension_after_death", "food_ban_holder", "no_drain_permit"}
    # two pension (张三, 王五), one food ban (张三), three licences without a drainage permit
    assert len(rows) == 6
    assert [int(r["排名"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    risks = [float(r["风险分"]) for r in rows]
    assert risks == sorted(risks, reverse=True)
    pension = by_model["pension_after_death"]
    assert pension["对象证件号"] == "110105********002X"
    assert pension["线索说明"] == "张三于2024-03-01死亡，此后仍发放养老金2笔，合计2400元"
    assert pension["状态"] == "新增" and pension["审查结论"] == "待审查"
    assert pension["对象类型"] == "自然人"
    # 张三 is hit by two models: each of his clues gets the multi-model bonus.
    assert pension["命中模型数"] == "2"
    assert float(pension["风险分"]) == pytest.approx(125.0)
    for r in rows:
        assert (run_dir / r["证据文件"]).exists()
        assert (run_dir / r["证据文件"]).with_suffix(".json").exists()
    assert (run_dir / "clues_pension_after_death.csv").exists()
    assert (run_dir / "clues.xlsx").exists()
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["models"]["pension_after_death"]["hits"] == 2
    assert manifest["datasets"]["payments"]["rows_loaded"] == 4

    sheet = json.loads((run_dir / pension["证据文件"]).with_suffix(".json").read_text("utf-8"))
    sources = {(e["数据集"], e["行"]["_source_row"]) for e in sheet["证据"]}
    assert sources == {("deaths", 2), ("payments", 2), ("payments", 3)}
    assert all(
        e["行"]["_source_file"] == "data/payments.csv"
        for e in sheet["证据"]
        if e["数据集"] == "payments"
    )
    html = (run_dir / pension["证据文件"]).read_text(encoding="utf-8")
    assert "线索核查单" in html and "11010519491231002X" not in html

    code, out, err = cli("run", "--project", str(project))
    assert code == 0, out + err
    second = read_clues(latest_run_dir(project) / "clues.csv")
    assert {r["线索编号"] for r in second} == {r["线索编号"] for r in rows}
    assert {r["状态"] for r in second} == {"持续"}


def test_gone_clue_is_reported_for_follow_up(project: Path, cli) -> None:
    assert cli("run", "--project", str(project))[0] == 0
    data = project / "data" / "licences.csv"
    lines = data.read_text(encoding="utf-8").splitlines()
    data.write_text(
        "\n".join(line if "JY1101050003" not in line else line + "PS-2024-09" for line in lines)
        + "\n",
        encoding="utf-8",
    )
    assert cli("run", "--project", str(project))[0] == 0
    rows = read_clues(latest_run_dir(project) / "clues.csv")
    gone = [r for r in rows if r["状态"] == "已消失"]
    assert [r["对象名称"] for r in gone] == ["临川区李记面馆"]
    assert gone[0]["排名"] == ""


def test_excluded_clue_stays_out_until_evidence_changes(project: Path, cli) -> None:
    assert cli("run", "--project", str(project))[0] == 0
    first = latest_run_dir(project) / "clues.csv"
    rows = read_clues(first)
    target = next(r for r in rows if r["模型"] == "food_ban_holder")
    target["审查结论"], target["审查意见"] = "排除", "冒名登记"
    reviewed = project / "reviewed.csv"
    with open(reviewed, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    code, out, err = cli("review", "import", str(reviewed), "--project", str(project))
    assert code == 0, err
    assert "1 reviews recorded" in out
    assert cli("run", "--project", str(project))[0] == 0
    again = read_clues(latest_run_dir(project) / "clues.csv")
    assert target["线索编号"] not in {r["线索编号"] for r in again}
    # New evidence: 张三 now represents a second food business → back on the list.
    lic = project / "data" / "licences.csv"
    lic.write_text(
        lic.read_text(encoding="utf-8") + "JY1101050009,临川区张记小吃,11010519491231002X,PS-1\n",
        encoding="utf-8",
    )
    assert cli("run", "--project", str(project))[0] == 0
    back = {r["线索编号"]: r for r in read_clues(latest_run_dir(project) / "clues.csv")}
    assert back[target["线索编号"]]["审查结论"] == "待审查"
    assert "冒名登记" in back[target["线索编号"]]["审查意见"]


def test_csv_cells_cannot_run_formulas(project: Path, cli) -> None:
    assert cli("run", "--project", str(project))[0] == 0
    rows = read_clues(latest_run_dir(project) / "clues.csv")
    names = [r["对象名称"] for r in rows if r["模型"] == "no_drain_permit"]
    assert '\'=HYPERLINK（"http://x"）' in names
    assert all(not n.startswith("=") for n in names)
    assert "临川区张记餐馆（个体）" in names


def test_unmasked_export_is_audited(project: Path, cli) -> None:
    assert cli("run", "--project", str(project))[0] == 0
    code, out, err = cli("export", "--no-mask", "--format", "csv", "--project", str(project))
    assert code == 0, err
    run_dir = latest_run_dir(project)
    rows = read_clues(run_dir / "unmasked" / "clues.csv")
    assert "\t11010519491231002X" in {r["对象证件号"] for r in rows} or "11010519491231002X" in {
        r["对象证件号"].strip() for r in rows
    }
    assert read_clues(run_dir / "clues.csv")[0]["对象证件号"].count("*") == 8
    con = duckdb.connect(str(project / "output" / "collide.duckdb"), read_only=True)
    rows = con.execute("SELECT action, detail FROM audit_log").fetchall()
    con.close()
    unmasked = [json.loads(d) for a, d in rows if a == "export_unmasked"]
    assert len(unmasked) == 1
    import getpass

    assert unmasked[0]["user"] == getpass.getuser()
    assert unmasked[0]["dest"].endswith("unmasked")


def test_xlsx_keeps_ids_as_text(project: Path, cli) -> None:
    import openpyxl

    assert cli("run", "--project", str(project))[0] == 0
    assert cli("export", "--no-mask", "--format", "xlsx", "--project", str(project))[0] == 0
    wb = openpyxl.load_workbook(latest_run_dir(project) / "unmasked" / "clues.xlsx")
    ws = wb.active
    header = [c.value for c in ws[1]]
    col = header.index("对象证件号")
    ids = [row[col].value for row in ws.iter_rows(min_row=2)]
    assert "11010519491231002X" in ids and all(isinstance(v, str) for v in ids)
    assert ws.cell(row=2, column=header.index("风险分") + 1).data_type == "n"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_spreadsheet_program_keeps_18_digit_ids_as_text(tmp_path: Path) -> None:
    """LibreOffice opens our CSV: an all-digit 18-character ID must not become 1.10105E+17."""
    import openpyxl

    from collide.export import write_csv

    rows = [
        {
            "rank": 1,
            "clue_id": "XS0000000001",
            "subject_id": "110105195001010012",
            "reason": "=1+1",
            "subject_name": "+cmd",
            "review_note": "@SUM(A1)",
        }
    ]
    out = tmp_path / "c.csv"
    write_csv(out, rows, mask=False)
    proc = subprocess.run(
        [
            "soffice",
            "--headless",
            "--convert-to",
            "xlsx",
            "--infilter=CSV:44,34,76,1",
            "--outdir",
            str(tmp_path),
            str(out),
        ],
        capture_output=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    ws = openpyxl.load_workbook(tmp_path / "c.xlsx").active
    header = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=header.index("对象证件号") + 1).value
    assert isinstance(cell, str) and cell.strip() == "110105195001010012"
    for zh in ("线索说明", "对象名称", "审查意见"):
        value = ws.cell(row=2, column=header.index(zh) + 1).value
        assert isinstance(value, str) and value.startswith("'"), (zh, value)


def test_crash_during_commit_leaves_previous_state(project: Path, cli, monkeypatch) -> None:
    """A run that dies while writing the store leaves the last good run as it was."""
    assert cli("run", "--project", str(project))[0] == 0
    store = project / "output" / "collide.duckdb"

    def counts() -> tuple[int, int, int]:
        con = duckdb.connect(str(store), read_only=True)
        try:
            return tuple(
                con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                for t in ("runs", "sightings", "evidence")
            )
        finally:
            con.close()

    before = counts()
    runs_before = sorted(p.name for p in (project / "runs").iterdir())
    import collide.store.queries

    real = collide.store.queries.insert_rows

    def dying(con, table, rows, columns):
        if table == "evidence":
            raise OSError("disk full")
        return real(con, table, rows, columns)

    monkeypatch.setattr(collide.store.queries, "insert_rows", dying)
    code, out, err = cli("run", "--project", str(project))
    assert code == 2 and "internal error: OSError: disk full" in err
    assert counts() == before
    assert sorted(p.name for p in (project / "runs").iterdir()) == runs_before
    monkeypatch.setattr(collide.store.queries, "insert_rows", real)
    code, out, err = cli("run", "--project", str(project))
    assert code == 0, out + err
    rows = read_clues(latest_run_dir(project) / "clues.csv")
    assert {r["状态"] for r in rows} == {"持续"}  # the failed run left no trace


def test_evidence_sheet_speaks_chinese_and_keeps_money_exact(project: Path, cli) -> None:
    assert cli("run", "--project", str(project))[0] == 0
    run_dir = latest_run_dir(project)
    row = next(
        r
        for r in read_clues(run_dir / "clues.csv")
        if r["对象名称"] == "张三" and r["模型"] == "pension_after_death"
    )
    html = (run_dir / row["证据文件"]).read_text(encoding="utf-8")
    assert "<th>死亡日期</th>" in html and "<th>身份证号</th>" in html  # agency headers
    assert "养老金发放（payments）" in html  # dataset title
    assert "<td>1200</td>" in html
    sheet = json.loads((run_dir / row["证据文件"]).with_suffix(".json").read_text("utf-8"))
    amounts = [e["行"]["amount"] for e in sheet["证据"] if e["数据集"] == "payments"]
    assert amounts == ["1200.00", "1200.00"]  # DECIMAL(18,2) kept exact, as text
    assert list(sheet["模型输出"]) == [
        "id_number",
        "person_name",
        "death_date",
        "payments",
        "total_paid",
    ]


def test_models_and_clues_commands(project: Path, cli) -> None:
    code, out, _ = cli("models", "--project", str(project))
    assert code == 0
    for mid in ("pension_after_death", "food_ban_holder", "no_drain_permit"):
        assert mid in out
    assert cli("run", "--project", str(project))[0] == 0
    code, out, _ = cli("clues", "--status", "新增", "--project", str(project))
    assert code == 0
    assert "110105********002X" in out and "11010519491231002X" not in out
    assert out.count("新增") == 6
    code, out, _ = cli("clues", "--status", "持续", "--project", str(project))
    assert "XS" not in out  # nothing seen twice yet


def test_quality_results_are_reused_for_unchanged_data(project: Path, cli, monkeypatch) -> None:
    assert cli("run", "--project", str(project))[0] == 0
    first = json.loads((latest_run_dir(project) / "quality.json").read_text(encoding="utf-8"))
    import collide.quality

    def must_not_run(*args, **kwargs):
        raise AssertionError("validated again although nothing changed")

    monkeypatch.setattr(collide.quality, "validate_dataset", must_not_run)
    code, out, err = cli("run", "--project", str(project))
    assert code == 0, out + err
    again = json.loads((latest_run_dir(project) / "quality.json").read_text(encoding="utf-8"))
    assert again == first
    # New data for one dataset: that one is validated again (and here refused by the patch).
    deaths = project / "data" / "deaths.csv"
    deaths.write_text(
        deaths.read_text(encoding="utf-8") + "110105196002020014,赵六,2024-05-05\n",
        encoding="utf-8",
    )
    code, out, err = cli("run", "--project", str(project))
    assert code == 2 and "validated again although nothing changed" in err


def test_reviews_come_back_in_the_xlsx_too_and_mistakes_are_named(project: Path, cli) -> None:
    import openpyxl

    assert cli("run", "--project", str(project))[0] == 0
    book = latest_run_dir(project) / "clues.xlsx"
    wb = openpyxl.load_workbook(book)
    ws = wb.active
    header = [c.value for c in ws[1]]
    col = {h: i + 1 for i, h in enumerate(header)}
    ws.cell(row=2, column=col["审查结论"], value="确认")
    ws.cell(row=2, column=col["审查意见"], value="已走访，情况属实")
    ws.cell(row=3, column=col["审查结论"], value="作废")
    ws.cell(row=4, column=col["审查结论"], value="排除")
    filled = project / "reviewed.xlsx"
    wb.save(filled)
    code, out, err = cli("review", "import", str(filled), "--project", str(project))
    assert code == 1
    assert (
        f'error: {filled}:3: 审查结论 "作废" is not one of 待审查 / 确认 / 排除 / 已立案. ' in err
    )
    assert f"error: {filled}:4: clue " in err and "is excluded (排除) without a reason" in err
    ws.cell(row=3, column=col["审查结论"], value="已立案")
    ws.cell(row=4, column=col["审查意见"], value="冒名登记")
    wb.save(filled)
    code, out, err = cli("review", "import", str(filled), "--project", str(project))
    assert code == 0, err
    assert "3 reviews recorded, 0 unchanged." in out
    from collide.project import Project

    rows = {r["clue_id"]: r for r in Project.load(project).clues()}
    first = ws.cell(row=2, column=col["线索编号"]).value
    assert rows[first]["review_status"] == "确认"
    assert rows[first]["review_note"] == "已走访，情况属实"


def test_stages_reach_the_run_and_the_project_through_public_accessors() -> None:
    """`run._model_objs`, `project._connector` and the like tie a stage to another's insides;
    the facade and the run state offer typed accessors instead."""
    import ast

    root = Path(__file__).resolve().parents[1]
    offenders = []
    for path in [*(root / "src" / "collide").rglob("*.py"), *(root / "flows").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
                continue
            if node.attr.startswith("__"):
                continue
            base = node.value
            name = getattr(base, "id", None) or getattr(base, "attr", None)
            if name in {"project", "run"}:
                offenders.append(f"{path.relative_to(root)}:{node.lineno}: {name}.{node.attr}")
    assert not offenders, offenders
