"""`collide review import`: the reviewer's file read exactly, dispositions, history, upgrades."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import REPO, write_project
from pension_project import PENSION_FILES


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "p", PENSION_FILES)


def latest_run_dir(project: Path) -> Path:
    return sorted(p for p in (project / "runs").iterdir() if not p.name.startswith("."))[-1]


def read_rows(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def write_rows(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8-sig") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def store_rows(project: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(project / "output" / "collide.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def first_run(project: Path, cli) -> list[dict[str, str]]:
    code, out, err = cli("run", "--project", str(project))
    assert code == 0, out + err
    return read_rows(latest_run_dir(project) / "clues.csv")


def by_model(rows: list[dict[str, str]], model: str) -> dict[str, str]:
    return next(r for r in rows if r["模型"] == model)


def test_every_character_of_a_note_is_kept(project: Path, cli) -> None:
    rows = first_run(project, cli)
    note = "已走访\u2028见附件\x0c第二页\r\n第三行\n  末尾有空格  "
    target = by_model(rows, "food_ban_holder")
    target["审查结论"], target["审查意见"] = "确认", note
    filled = write_rows(project / "reviewed.csv", rows)
    code, out, err = cli("review", "import", str(filled), "--project", str(project))
    assert code == 0, err
    assert "1 reviews recorded, 0 unchanged." in out
    assert store_rows(project, "SELECT note FROM reviews") == [(note,)]
    # the next run's hit list carries it back exactly, and importing that file changes nothing
    assert cli("run", "--project", str(project), "--no-ingest")[0] == 0
    again = read_rows(latest_run_dir(project) / "clues.csv")
    assert by_model(again, "food_ban_holder")["审查意见"] == note
    code, out, err = cli(
        "review", "import", str(latest_run_dir(project) / "clues.csv"), "--project", str(project)
    )
    assert code == 0, err
    assert "0 reviews recorded, 1 unchanged." in out


def test_two_different_decisions_for_one_clue_are_refused_naming_both_rows(
    project: Path, cli
) -> None:
    rows = first_run(project, cli)
    target = by_model(rows, "pension_after_death")
    target["审查结论"] = "确认"
    second = dict(target, 审查结论="排除", 排除理由="数据错误")
    same = dict(by_model(rows, "food_ban_holder"), 审查结论="确认")
    filled = write_rows(project / "reviewed.csv", [*rows, second, same, dict(same)])
    code, out, err = cli("review", "import", str(filled), "--project", str(project))
    assert code == 1
    row_of_target = rows.index(target) + 2
    assert (
        f"error: {filled}:8: clue {target['线索编号']} is also on row {row_of_target} with a "
        f"different 审查结论 (row {row_of_target}: 确认; row 8: 排除). Keep one row per clue."
    ) in err
    assert "row 9" not in err and ":10:" not in err  # the same row twice is not a conflict
    assert store_rows(project, "SELECT count(*) FROM reviews") == [(0,)]


def test_formula_cells_are_refused_with_their_row(project: Path, cli) -> None:
    import openpyxl

    rows = first_run(project, cli)
    rows[1]["审查结论"] = '=IF(1,"确认","排除")'
    rows[2]["审查结论"], rows[2]["审查意见"] = "确认", "=A1&B1"
    # what the export writes for a note that starts with "=" is text, read back as written
    rows[3]["审查结论"], rows[3]["审查意见"] = "确认", "'=这是文字"
    filled = write_rows(project / "reviewed.csv", rows)
    code, out, err = cli("review", "import", str(filled), "--project", str(project))
    assert code == 1
    assert f'error: {filled}:3: 审查结论 holds a formula (=IF(1,"确认","排除"))' in err
    assert f"error: {filled}:4: 审查意见 holds a formula (=A1&B1)" in err
    assert ":5:" not in err

    book = latest_run_dir(project) / "clues.xlsx"
    wb = openpyxl.load_workbook(book)
    ws = wb.active
    col = {c.value: c.column for c in ws[1]}
    ws.cell(row=2, column=col["审查结论"], value='=IF(TRUE,"确认","排除")')
    ws.cell(row=3, column=col["审查结论"], value="确认")
    wb.save(project / "reviewed.xlsx")
    code, out, err = cli(
        "review", "import", str(project / "reviewed.xlsx"), "--project", str(project)
    )
    assert code == 1
    assert f"error: {project / 'reviewed.xlsx'}:2: 审查结论 holds a formula" in err
    assert store_rows(project, "SELECT count(*) FROM reviews") == [(0,)]

    rows[1]["审查结论"], rows[2]["审查意见"] = "确认", "A1&B1"
    write_rows(filled, rows)
    code, out, err = cli("review", "import", str(filled), "--project", str(project))
    assert code == 0, err
    notes = dict(store_rows(project, "SELECT clue_id, note FROM reviews"))
    assert notes[rows[3]["线索编号"]] == "=这是文字"


def test_every_problem_is_listed_before_anything_is_recorded(project: Path, cli) -> None:
    rows = first_run(project, cli)
    rows[0].update(审查结论="确认")  # a good row: still not recorded while others are wrong
    rows[1].update(审查结论="作废")
    rows[2].update(审查结论="排除", 审查意见="看过了")
    rows[3].update(审查结论="已立案")
    rows[4].update(审查结论="已制发检察建议", 制发日期="三月一日")
    rows[5].update(审查结论="排除", 排除理由="不想查")
    ghost = dict(rows[0], 线索编号="XS0000000000", 审查结论="确认")
    filled = write_rows(project / "reviewed.csv", [*rows, ghost])
    code, out, err = cli("review", "import", str(filled), "--project", str(project))
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    ids = [r["线索编号"] for r in rows]
    expected = [
        f'error: {filled}:3: 审查结论 "作废" is not one of 待审查 / 确认 / 排除 / 已立案 / '
        "已制发检察建议 / 已起诉 / 已办结. Use one of these words exactly.",
        f"error: {filled}:4: clue {ids[2]}: 排除 needs a 排除理由. Write one of 数据错误 / "
        "冒名登记 / 已整改 / 不属本院管辖 / 重复线索 / 其他 in 排除理由 (more can be added in "
        "collide.yaml, review: exclusion_reasons).",
        f"error: {filled}:5: clue {ids[3]}: 已立案 needs a 案号. Write the case number in 案号.",
        f'error: {filled}:6: clue {ids[4]}: 制发日期 "三月一日" is not a date. Write it like '
        "2026-03-01 or 2026年3月1日.",
        f"error: {filled}:6: clue {ids[4]}: 已制发检察建议 needs a 检察建议文号. Write the "
        "document number in 检察建议文号.",
        f'error: {filled}:7: clue {ids[5]}: 排除理由 "不想查" is not one of 数据错误 / 冒名登记 / '
        "已整改 / 不属本院管辖 / 重复线索 / 其他. Use one of these words exactly, or add it to "
        "collide.yaml (review: exclusion_reasons).",
        f"error: {filled}:8: unknown clue XS0000000000. Import a file exported by this project.",
    ]
    assert lines == expected
    assert store_rows(project, "SELECT count(*) FROM reviews") == [(0,)]


def test_dispositions_are_kept_with_their_history(project: Path, cli) -> None:
    (project / "collide.yaml").write_text(
        "name: 测试项目\nreview:\n  exclusion_reasons: [已另案处理]\n  rectification_months: 3\n",
        encoding="utf-8",
    )
    # a model's own months win over collide.yaml's
    drain = project / "models" / "no_drain_permit.yaml"
    drain.write_text(drain.read_text(encoding="utf-8") + "rectification_months: 1\n", "utf-8")
    rows = first_run(project, cli)
    pension = by_model(rows, "pension_after_death")
    food = by_model(rows, "food_ban_holder")
    pension.update(审查结论="确认", 承办人="李检察官")
    food.update(审查结论="排除", 排除理由="已另案处理", 有效期至="2099/12/31")
    filled = write_rows(project / "first.csv", rows)
    assert cli("review", "import", str(filled), "--project", str(project))[0] == 0
    pension.update(审查结论="已立案", 案号="临检民公立〔2026〕5号")
    write_rows(project / "second.csv", rows)
    assert cli("review", "import", str(project / "second.csv"), "--project", str(project))[0] == 0
    pension.update(
        审查结论="已制发检察建议", 检察建议文号="临检民公建〔2026〕7号", 制发日期="2026年3月1日"
    )
    drain_row = by_model(rows, "no_drain_permit")
    drain_row.update(
        审查结论="已制发检察建议", 检察建议文号="临检行建〔2026〕8号", 制发日期="20260301"
    )
    code, out, err = cli(
        "review", "import", str(write_rows(project / "third.csv", rows)), "--project", str(project)
    )
    assert code == 0, err
    assert "2 reviews recorded, 1 unchanged." in out
    assert store_rows(
        project, f"SELECT rectify_by FROM clues WHERE clue_id = '{drain_row['线索编号']}'"
    ) == [(dt.date(2026, 4, 1),)]

    history = store_rows(
        project,
        f"SELECT decision, reviewer, source, source_row, assignee, case_no, recommendation_no, "
        f"issued_on, rectify_by, changes FROM reviews WHERE clue_id = '{pension['线索编号']}' "
        "ORDER BY reviewed_at, rowid",
    )
    assert [h[0] for h in history] == ["确认", "已立案", "已制发检察建议"]
    assert all("@" in h[1] for h in history)  # who: account@host
    assert [Path(h[2]).name for h in history] == ["first.csv", "second.csv", "third.csv"]
    assert {h[3] for h in history} == {rows.index(pension) + 2}
    assert history[-1][4:9] == (
        "李检察官",
        "临检民公立〔2026〕5号",
        "临检民公建〔2026〕7号",
        dt.date(2026, 3, 1),
        dt.date(2026, 6, 1),  # 制发日期 + rectification_months (3, from collide.yaml)
    )
    assert json.loads(history[1][9]) == {
        "审查结论": ["确认", "已立案"],
        "案号": [None, "临检民公立〔2026〕5号"],
    }
    excluded = store_rows(
        project,
        f"SELECT exclusion_reason, valid_until FROM clues WHERE clue_id = '{food['线索编号']}'",
    )
    assert excluded == [("已另案处理", dt.date(2099, 12, 31))]

    # the next hit list shows every disposition; the excluded clue stays out of it
    assert cli("run", "--project", str(project), "--no-ingest")[0] == 0
    again = {r["线索编号"]: r for r in read_rows(latest_run_dir(project) / "clues.csv")}
    assert food["线索编号"] not in again
    shown = again[pension["线索编号"]]
    assert (shown["审查结论"], shown["承办人"], shown["案号"], shown["检察建议文号"]) == (
        "已制发检察建议",
        "李检察官",
        "临检民公立〔2026〕5号",
        "临检民公建〔2026〕7号",
    )
    assert (shown["制发日期"], shown["整改期限"]) == ("2026-03-01", "2026-06-01")


def test_an_exclusion_that_expires_comes_back_for_review(project: Path, cli) -> None:
    rows = first_run(project, cli)
    food = by_model(rows, "food_ban_holder")
    food.update(
        审查结论="排除", 排除理由="已整改", 有效期至=f"{dt.date.today() - dt.timedelta(days=1)}"
    )
    assert (
        cli(
            "review", "import", str(write_rows(project / "r.csv", rows)), "--project", str(project)
        )[0]
        == 0
    )
    assert cli("run", "--project", str(project), "--no-ingest")[0] == 0
    back = {r["线索编号"]: r for r in read_rows(latest_run_dir(project) / "clues.csv")}
    assert back[food["线索编号"]]["审查结论"] == "待审查"
    assert back[food["线索编号"]]["审查意见"] == (
        f"排除有效期已于{dt.date.today() - dt.timedelta(days=1)}届满，请重新审查（原排除理由：已整改）"
    )
    history = store_rows(
        project,
        f"SELECT decision, reviewer FROM reviews WHERE clue_id = '{food['线索编号']}' "
        "ORDER BY reviewed_at, rowid",
    )
    assert history == [("排除", history[0][1]), ("待审查", "collide")]


def test_review_import_finds_the_latest_runs_file(project: Path, cli, monkeypatch) -> None:
    rows = first_run(project, cli)
    by_model(rows, "pension_after_death")["审查结论"] = "确认"
    run_dir = latest_run_dir(project)
    write_rows(run_dir / "clues.csv", rows)
    monkeypatch.chdir(project)
    code, out, err = cli("review", "import", "clues.csv")
    assert code == 0, err
    assert f"runs/{run_dir.name}/clues.csv: 1 reviews recorded, 0 unchanged." in out
    code, out, err = cli("review", "import", "elsewhere/clues.csv")
    assert code == 1
    assert (
        f"error: elsewhere/clues.csv: file not found. The latest run's hit list is "
        f"{run_dir / 'clues.csv'}: pass that path." in err
    )


def test_gbk_and_utf16_files_from_excel_are_read(project: Path, cli) -> None:
    rows = first_run(project, cli)
    by_model(rows, "pension_after_death").update(
        审查结论="排除", 排除理由="冒名登记", 审查意见="经核实"
    )
    filled = write_rows(project / "gbk.csv", rows, encoding="gb18030")
    code, out, err = cli("review", "import", str(filled), "--project", str(project))
    assert code == 0, err
    assert store_rows(project, "SELECT decision, exclusion_reason, note FROM reviews") == [
        ("排除", "冒名登记", "经核实")
    ]
    # Excel's "Unicode text" (UTF-16, tabs), with a retyped lower-case clue id
    target = by_model(rows, "food_ban_holder")
    target.update(审查结论="确认", 审查意见="第一行\r\n第二行", 线索编号=target["线索编号"].lower())
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), delimiter="\t")
    w.writeheader()
    w.writerows(rows)
    (project / "unicode.txt").write_bytes(buf.getvalue().encode("utf-16"))
    code, out, err = cli(
        "review", "import", str(project / "unicode.txt"), "--project", str(project)
    )
    assert code == 0, err
    assert "1 reviews recorded, 1 unchanged." in out
    assert store_rows(project, "SELECT decision, note FROM reviews WHERE decision = '确认'") == [
        ("确认", "第一行\r\n第二行")
    ]


def test_a_store_of_the_previous_release_upgrades_without_losing_a_decision(
    tmp_path: Path, cli
) -> None:
    """tests/fixtures/store_v2.duckdb.gz was written by the release before dispositions (schema
    version 2): the sample project run twice, with two review files imported."""
    root = tmp_path / "sample"
    root.mkdir()
    for name in ("collide.yaml", "connectors", "expectations", "models"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    (root / "output").mkdir()
    with gzip.open(REPO / "tests" / "fixtures" / "store_v2.duckdb.gz") as src_fh:
        (root / "output" / "collide.duckdb").write_bytes(src_fh.read())
    before = store_rows(
        root,
        "SELECT clue_id, review_status, review_note FROM clues WHERE review_status <> '待审查'",
    )
    assert len(before) == 5
    assert store_rows(root, "SELECT max(version) FROM schema_migrations") == [(2,)]

    code, out, err = cli("stats", "--format", "csv", "--project", str(root))
    assert code == 0, err
    total = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"), newline="")))[-1]
    assert (total["模型"], total["线索数"], total["已审查"], total["确认"], total["排除"]) == (
        "合计",
        "43",
        "5",
        "4",
        "1",
    )
    assert total["已立案"] == "2"
    after = store_rows(
        root,
        "SELECT clue_id, review_status, review_note FROM clues WHERE review_status <> '待审查'",
    )
    assert sorted(after) == sorted(before)
    assert store_rows(root, "SELECT max(version) FROM schema_migrations") == [(3,)]
    assert store_rows(root, "SELECT count(*) FROM reviews") == [(5,)]
    # the old exclusion's reason was free text: kept as the note, 排除理由 其他
    assert store_rows(
        root, "SELECT exclusion_reason, review_note FROM clues WHERE review_status = '排除'"
    ) == [("其他", "冒名登记，已核实身份")]
    # and the last run's hit list can be exported again with the new columns
    code, out, err = cli("export", "--format", "csv", "--project", str(root))
    assert code == 0, err
    rows = read_rows(latest_run_dir(root) / "clues.csv")
    assert {r["审查结论"] for r in rows} == {"待审查", "确认", "已立案"}
    assert "整改状态" in rows[0] and "排除理由" in rows[0]
