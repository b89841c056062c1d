"""Working days: weekends, statutory holidays and exchanged weekend working days (调休)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from collide.config.catalog import load_config
from collide.engine.duckdb import Sandbox
from collide.engine.workdays import BUILTIN, builtin, calendar, parse_entries
from collide.errors import CollideError


def add(day: str, n: int, cal=None) -> str | None:
    out, ok = (cal or builtin()).add(np.array([np.datetime64(day)]), np.array([n]))
    return str(out[0]) if ok[0] else None


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        ("2024-03-04", 20, "2024-04-01"),  # no holiday in between: four weeks
        ("2024-06-03", 20, "2024-07-02"),  # 端午 Monday 10 June off
        ("2024-09-20", 20, "2024-10-23"),  # 国庆 1–7 Oct off, Sun 29 Sep and Sat 12 Oct worked
        ("2024-09-27", 1, "2024-09-29"),  # the exchanged Sunday is a working day
        ("2024-09-30", 1, "2024-10-08"),
        ("2025-01-24", 1, "2025-01-26"),  # 春节 2025: Sunday 26 January worked
        ("2025-01-27", 1, "2025-02-05"),  # 28 Jan – 4 Feb off
        ("2023-11-18", 20, "2023-12-15"),  # from a Saturday
        ("2024-10-08", -1, "2024-09-30"),
        ("2024-10-05", 0, "2024-10-05"),
        ("2027-03-01", 5, "2027-03-08"),  # a year not covered: weekends only
    ],
)
def test_add_workdays(day: str, n: int, expected: str) -> None:
    assert add(day, n) == expected


def test_every_built_in_year_is_well_formed() -> None:
    cal = builtin()
    for year in BUILTIN:
        y = cal.years[year]
        assert y.off and all(d.year == year for d in y.off | y.work)
        # exchanged working days are weekend days, and a day is never both off and worked
        assert all(d.weekday() >= 5 for d in y.work), year
        assert not (y.off & y.work)
        # New Year's Day is always off; National Day always is
        assert dt.date(year, 1, 1) in y.off and dt.date(year, 10, 1) in y.off
    assert cal.is_workday(dt.date(2024, 10, 12)) and not cal.is_workday(dt.date(2024, 10, 13))


def test_out_of_range_is_null() -> None:
    assert add("2079-12-30", 5) is None
    assert add("1900-01-01", 1) is None


def test_project_year_replaces_the_built_in_one() -> None:
    off, bad = parse_entries(["2024-06-10", "2024-06-11..2024-06-12"], 2024)
    assert not bad
    y = builtin().years[2024]
    from collide.engine.workdays import Year

    cal = calendar({2024: Year(frozenset(off), y.work)})
    assert add("2024-06-07", 1, cal) == "2024-06-13"
    assert add("2024-06-07", 1) == "2024-06-11"


def test_add_workdays_in_model_sql() -> None:
    with Sandbox({}) as box:
        rows = box.con.execute(
            "SELECT add_workdays(d, 20), add_workdays(d, NULL) "
            "FROM (VALUES (DATE '2024-06-03'), (NULL)) t(d)"
        ).fetchall()
    assert rows == [(dt.date(2024, 7, 2), None), (None, None)]


def test_holidays_in_collide_yaml(tmp_path: Path) -> None:
    cfg_path = tmp_path / "collide.yaml"
    base = "name: test\ntimezone: Asia/Shanghai\n"
    cfg_path.write_text(
        base + "\nholidays:\n  2027:\n    source: test\n"
        "    off: [2027-01-01, 2027-02-06..2027-02-12]\n    work: [2027-02-14]\n",
        encoding="utf-8",
    )
    cal = load_config(tmp_path).workdays()
    assert 2027 in cal.covered and 2024 in cal.covered
    assert add("2027-02-05", 1, cal) == "2027-02-14"
    lines = base.count("\n") + 1
    # an impossible date: refused where YAML reads it
    cfg_path.write_text(base + "\nholidays:\n  2027:\n    off: [2027-02-30]\n", encoding="utf-8")
    with pytest.raises(CollideError) as err:
        load_config(tmp_path)
    assert str(err.value).startswith(f'collide.yaml:{lines + 3}: "2027-02-30" is not a date')
    # text that is no date, and a date of another year: both reported, at the line
    cfg_path.write_text(
        base + '\nholidays:\n  2027:\n    off: ["春节", 2026-10-01]\n', encoding="utf-8"
    )
    with pytest.raises(CollideError) as err:
        load_config(tmp_path)
    text = str(err.value)
    assert f'collide.yaml:{lines + 3}: holidays 2027 off: "春节" is not a date' in text
    assert f'collide.yaml:{lines + 3}: holidays 2027 off: "2026-10-01" is not within 2027' in text


def test_a_year_without_calendar_is_reported() -> None:
    with Sandbox({}) as box:
        box.con.execute("SELECT add_workdays(DATE '2024-06-03', 20)").fetchall()
        assert box.uncovered_years == set()
        box.con.execute(
            "SELECT add_workdays(d, 20) FROM (VALUES (DATE '2026-12-20'), (NULL)) t(d)"
        ).fetchall()
        assert box.uncovered_years == {2027}
        box.con.execute("SELECT add_workdays(DATE '2019-12-31', -3)").fetchall()
        assert box.uncovered_years == {2019, 2027}


PERMITS = {
    "connectors/permits.yaml": """
        id: permits
        title: 施工许可
        source: {type: csv, path: data/permits.csv}
        columns:
          project_code: {from: 项目编号, type: string, required: true}
          issued_on: {from: 发证日期, type: date, required: true}
        keys: [project_code]
    """,
    "data/permits.csv": """
        项目编号,发证日期
        P1,2024-06-03
        P2,2026-12-21
    """,
    "models/due.yaml": """
        id: due
        title: 到期
        domain: 测试
        description: 发证后第 20 个工作日。
        legal_basis: 测试
        severity: low
        inputs: [permits]
        subject: {type: project, id: project_code, name: project_code}
        score: "1"
        reason: "{project_code}应于{deadline}前存储"
    """,
    "models/due.sql": """
        SELECT project_code, add_workdays(issued_on, 20) AS deadline FROM permits
    """,
}


def test_a_clue_whose_deadline_runs_into_an_uncovered_year_says_so(tmp_path: Path, cli) -> None:
    import csv

    from conftest import write_project

    root = write_project(tmp_path / "p", PERMITS)
    code, out, err = cli("--project", str(root), "run", "--no-validate")
    assert code == 0, out + err
    run_dir = sorted(p for p in (root / "runs").iterdir() if not p.name.startswith("."))[-1]
    text = (run_dir / "clues.csv").read_bytes().decode("utf-8-sig")
    rows = {r["对象证件号"]: r for r in csv.DictReader(text.splitlines())}
    assert "2024-07-02" in rows["P1"]["线索说明"]
    assert not rows["P1"]["数据质量提示"]
    # 2027 has no calendar: its deadline counts weekends only, and the clue says so
    assert "2027年的法定节假日未配置" in rows["P2"]["数据质量提示"]
    report = (run_dir / "report.md").read_text(encoding="utf-8")
    assert "add_workdays）涉及2027年，该年法定节假日未配置" in report
