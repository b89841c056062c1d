"""回头看 on every run: one clue of the sample project walked from 待审查 to 整改后复发."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
from conftest import REPO, write_project
from pension_project import PENSION_FILES
from test_reviews import latest_run_dir, read_rows, write_rows

from collide.clues.dispositions import add_months


def sample_project(tmp_path: Path) -> Path:
    root = tmp_path / "sample"
    root.mkdir()
    for name in ("collide.yaml", "connectors", "expectations", "models", "sample_data"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    return root


def subject_id(project: Path, clue_id: str) -> str:
    con = duckdb.connect(str(project / "output" / "collide.duckdb"), read_only=True)
    try:
        return con.execute("SELECT subject_id FROM clues WHERE clue_id = ?", [clue_id]).fetchone()[
            0
        ]
    finally:
        con.close()


def review(project: Path, cli, name: str, clue_id: str, **cells: str) -> None:
    rows = read_rows(latest_run_dir(project) / "clues.csv")
    row = next(r for r in rows if r["线索编号"] == clue_id)
    row.update(cells)
    path = write_rows(project / name, rows)
    code, out, err = cli("review", "import", str(path), "--project", str(project))
    assert code == 0, err
    assert "1 reviews recorded" in out


def test_one_clue_from_review_to_recurrence(tmp_path: Path, cli) -> None:
    project = sample_project(tmp_path)
    code, out, err = cli("run", "--project", str(project))
    assert code == 0, out + err
    rows = read_rows(latest_run_dir(project) / "clues.csv")
    # the pension clue ranked lowest: nothing but the follow-up could bring it to the top
    pension = [r for r in rows if r["模型"] == "pension_after_death"]
    target = max(pension, key=lambda r: int(r["排名"]))
    cid = target["线索编号"]
    assert int(target["排名"]) > 5
    assert (target["审查结论"], target["整改状态"]) == ("待审查", "")

    review(project, cli, "r1.csv", cid, 审查结论="确认", 审查意见="已走访人社局核实")
    # the run judges the data on the project's run date (the sample's extracts are dated)
    from collide.project import Project

    today = Project.load(project).run_date()
    issued = add_months(today, -3)
    deadline = add_months(issued, 2)
    review(
        project,
        cli,
        "r2.csv",
        cid,
        审查结论="已制发检察建议",
        检察建议文号="临检行公建〔2026〕9号",
        制发日期=issued.strftime("%Y年%m月%d日"),
    )

    # the violation is still in the data after the deadline: 逾期未整改, first on the list
    code, out, err = cli("run", "--project", str(project), "--no-ingest")
    assert code == 0, out + err
    rows = read_rows(latest_run_dir(project) / "clues.csv")
    days = (today - deadline).days
    assert rows[0]["线索编号"] == cid and rows[0]["排名"] == "1"
    assert rows[0]["整改状态"] == f"逾期未整改（逾期{days}天）"
    assert rows[0]["线索说明"].startswith(
        f"【逾期未整改】检察建议临检行公建〔2026〕9号整改期限{deadline}已届满，逾期{days}天仍被模型命中。"
    )
    assert (rows[0]["整改期限"], rows[0]["审查结论"]) == (deadline.isoformat(), "已制发检察建议")
    assert all(r["整改状态"] == "" for r in rows[1:])

    # the agency fixes its file (the death is registered, no pension paid after it): 已整改
    payments = project / "sample_data" / "hrss" / "pension_payments.csv"
    original = payments.read_bytes()
    person = subject_id(project, cid)
    lines = original.decode("utf-8-sig").splitlines(keepends=True)
    kept = [line for line in lines if person not in line]
    assert len(kept) < len(lines)
    payments.write_text("".join(kept), encoding="utf-8")
    code, out, err = cli("run", "--project", str(project))
    assert code == 0, out + err
    rows = read_rows(latest_run_dir(project) / "clues.csv")
    gone = next(r for r in rows if r["线索编号"] == cid)
    assert gone["状态"] == "已消失"
    assert gone["整改状态"] == f"已整改（{today}起未再命中）"
    assert rows[0]["整改状态"] == ""  # nothing overdue any more

    # the violation comes back: 整改后复发
    payments.write_bytes(original)
    code, out, err = cli("run", "--project", str(project))
    assert code == 0, out + err
    rows = read_rows(latest_run_dir(project) / "clues.csv")
    back = next(r for r in rows if r["线索编号"] == cid)
    assert back["整改状态"] == f"整改后复发（{today}再次命中）"
    assert back["线索说明"].startswith(
        f"【整改后复发】检察建议临检行公建〔2026〕9号整改后{today}再次命中。"
    )

    # stored per run, one row each
    con = duckdb.connect(str(project / "output" / "collide.duckdb"), read_only=True)
    try:
        states = con.execute(
            "SELECT f.status FROM followups f JOIN runs r USING (run_id) WHERE clue_id = ? "
            "ORDER BY r.started_at",
            [cid],
        ).fetchall()
    finally:
        con.close()
    assert [s[0] for s in states] == ["逾期未整改", "已整改", "整改后复发"]


def test_in_term_and_a_closed_clue_hit_again(tmp_path: Path, cli) -> None:
    project = write_project(tmp_path / "p", PENSION_FILES)
    assert cli("run", "--project", str(project))[0] == 0
    rows = read_rows(latest_run_dir(project) / "clues.csv")
    cid = next(r for r in rows if r["模型"] == "pension_after_death" and r["对象名称"] == "张三")[
        "线索编号"
    ]
    review(
        project,
        cli,
        "a.csv",
        cid,
        审查结论="已制发检察建议",
        检察建议文号="临检民公建〔2026〕1号",
        制发日期=dt.date.today().isoformat(),
        整改期限=(dt.date.today() + dt.timedelta(days=15)).isoformat(),  # an emergency: 15 days
    )
    assert cli("run", "--project", str(project), "--no-ingest")[0] == 0
    row = next(r for r in read_rows(latest_run_dir(project) / "clues.csv") if r["线索编号"] == cid)
    assert row["整改状态"] == "整改期内"
    assert row["整改期限"] == (dt.date.today() + dt.timedelta(days=15)).isoformat()
    review(project, cli, "b.csv", cid, 审查结论="已办结")
    assert cli("run", "--project", str(project), "--no-ingest")[0] == 0
    row = next(r for r in read_rows(latest_run_dir(project) / "clues.csv") if r["线索编号"] == cid)
    assert row["整改状态"] == f"整改后复发（{dt.date.today()}再次命中）"


def test_status_follows_the_runs_since_the_recommendation() -> None:
    from collide.clues.followup import Observation, Tracked, status_of

    d = dt.date
    t = Tracked("XS1", "临检建〔2026〕1号", d(2026, 1, 10), d(2026, 3, 10), None)

    def runs(*days_hits: tuple[dt.date, bool]) -> list[Observation]:
        return [
            Observation(dt.datetime.combine(day, dt.time()), day, hit) for day, hit in days_hits
        ]

    # runs before the recommendation do not count; none since: 整改期内
    assert status_of(t, runs((d(2026, 1, 1), False))).status == "整改期内"
    assert (
        status_of(t, runs((d(2026, 3, 10), True))).status == "整改期内"
    )  # the deadline day itself
    late = status_of(t, runs((d(2026, 2, 1), True), (d(2026, 3, 20), True)))
    assert (late.status, late.days_overdue) == ("逾期未整改", 10)
    fixed = status_of(
        t, runs((d(2026, 2, 1), True), (d(2026, 2, 5), False), (d(2026, 2, 6), False))
    )
    assert (fixed.status, fixed.since) == ("已整改", d(2026, 2, 5))
    back = runs((d(2026, 2, 1), False), (d(2026, 4, 1), True))
    assert (status_of(t, back).status, status_of(t, back).since) == ("整改后复发", d(2026, 4, 1))
    # gone again after coming back: 已整改 from the latest disappearance
    again = status_of(t, [*back, *runs((d(2026, 5, 1), False))])
    assert (again.status, again.since) == ("已整改", d(2026, 5, 1))
    # a closed clue with no 检察建议: nothing to say until it is seen after closing
    closed = Tracked("XS2", None, None, None, dt.datetime(2026, 6, 1, 12))
    assert status_of(closed, runs((d(2026, 5, 1), True))) is None
    assert status_of(closed, runs((d(2026, 6, 2), True))).status == "整改后复发"
    assert status_of(closed, runs((d(2026, 6, 2), False))).status == "已整改"


def test_month_arithmetic_of_the_deadline() -> None:
    d = dt.date
    assert add_months(d(2026, 3, 1), 2) == d(2026, 5, 1)
    assert add_months(d(2026, 12, 31), 2) == d(2027, 2, 28)
    assert add_months(d(2028, 12, 31), 2) == d(2029, 2, 28)
    assert add_months(d(2027, 12, 31), 2) == d(2028, 2, 29)
    assert add_months(d(2026, 1, 31), -3) == d(2025, 10, 31)
