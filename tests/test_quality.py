"""The data-quality gate, with real Great Expectations on real Parquet snapshots (no mocks).

Each test builds a one-dataset project, writes a snapshot the way ingest does (the data columns plus
the provenance columns), corrupts it the way agency extracts break, and reads the QualityReport a
data clerk and the run report would get.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from stdnum.cn import ric

from collide.config.catalog import load_catalog
from collide.errors import Problem
from collide.quality import QualityReport, check_suites, status_zh, validate_dataset

RUN_DATE = dt.date(2024, 6, 30)
N = 1000

CONNECTOR = """\
id: death_registrations
title: 死亡登记
agency: 民政局
source: {type: csv, path: "data/death_*.csv"}
columns:
  id_number: {from: 身份证号, type: cn_id, required: true}
  person_name: {from: 姓名, type: person_name}
  death_date: {from: 死亡日期, type: date}
  status: {from: 状态, type: string}
keys: [id_number]
"""

SUITE = """\
dataset: death_registrations
expectations:
  - type: required_columns
    blocking: true
  - type: expect_column_values_to_not_be_null
    column: id_number
    blocking: true
  - type: expect_column_values_to_be_unique
    column: id_number
    blocking: true
  - type: valid_id_rate            # below 80 % the extract is broken: stop the models
    column: id_number
    mostly: 0.8
    blocking: true
  - type: valid_id_rate            # below 95 % warn the reviewers
    column: id_number
    mostly: 0.95
  - type: expect_column_values_to_match_regex
    column: id_number
    regex: "^[0-9]{17}[0-9X]$"
    mostly: 0.95
  - type: expect_column_values_to_be_in_set
    column: status
    value_set: [正常, 注销]
  - type: row_count_vs_previous
    min_ratio: 0.1
    blocking: true
  - type: freshness
    column: death_date
    max_age_days: 45
  - type: not_in_future
    column: death_date
"""


@dataclass
class Snap:
    """What collide.ingest hands over: the fields validate_dataset reads."""

    dataset_id: str
    snapshot_id: str
    dir: Path
    data_path: Path
    rejects_path: Path | None = None
    manifest: dict = field(default_factory=dict)
    schema: dict = field(default_factory=dict)


def valid_id(i: int) -> str:
    body = f"110105{dt.date(1940, 1, 1) + dt.timedelta(days=i):%Y%m%d}{i % 1000:03d}"
    return body + ric.calc_check_digit(body + "?")  # stdnum wants a placeholder check digit


def bad_checksum(id_number: str) -> str:
    last = "0" if id_number[-1] != "0" else "1"
    return id_number[:-1] + last


def rows(n: int = N) -> list[dict]:
    return [
        {
            "id_number": valid_id(i),
            "person_name": f"张{i}",
            "death_date": RUN_DATE - dt.timedelta(days=1 + i % 30),
            "status": "正常" if i % 2 else "注销",
            "_source_file": f"data/death_{1 + i // 500}.csv",
            "_source_sheet": None,
            "_source_row": i % 500 + 2,
        }
        for i in range(n)
    ]


def write_snapshot(root: Path, snapshot_id: str, data: list[dict]) -> Snap:
    folder = root / "output" / "snapshots" / "death_registrations" / snapshot_id
    folder.mkdir(parents=True)
    path = folder / "data.parquet"
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t (id_number VARCHAR, person_name VARCHAR, death_date DATE, status VARCHAR,"
        " _source_file VARCHAR, _source_sheet VARCHAR, _source_row BIGINT, _snapshot_id VARCHAR,"
        " _issues VARCHAR)"
    )
    con.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        [
            [
                r["id_number"],
                r["person_name"],
                r["death_date"],
                r["status"],
                r["_source_file"],
                r["_source_sheet"],
                r["_source_row"],
                snapshot_id,
            ]
            for r in data
        ],
    )
    con.execute(f"COPY t TO '{path}' (FORMAT parquet)")
    con.close()
    manifest = {"rows_read": len(data), "rows_loaded": len(data), "rows_rejected": 0}
    return Snap("death_registrations", snapshot_id, folder, path, manifest=manifest)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "collide.yaml").write_text("name: test\n", encoding="utf-8")
    (tmp_path / "connectors").mkdir()
    (tmp_path / "connectors" / "death_registrations.yaml").write_text(CONNECTOR, encoding="utf-8")
    (tmp_path / "expectations").mkdir()
    (tmp_path / "expectations" / "death_registrations.yaml").write_text(SUITE, encoding="utf-8")
    return tmp_path


def validate(root: Path, data: list[dict], previous_rows: int | None = N):
    cat = load_catalog(root)
    assert not cat.problems, cat.problems.items
    previous = write_snapshot(root, "prev", rows(previous_rows)) if previous_rows else None
    snap = write_snapshot(root, "cur", data)
    return validate_dataset(
        cat.connectors["death_registrations"],
        root / "expectations" / "death_registrations.yaml",
        snap,
        previous,
        RUN_DATE,
    )


def outcome(report, expectation: str, **kwargs):
    found = [
        o
        for o in report.outcomes
        if o.expectation == expectation and all(o.kwargs.get(k) == v for k, v in kwargs.items())
    ]
    assert len(found) == 1, [o.expectation for o in report.outcomes]
    return found[0]


# --------------------------------------------------------------------------- validate_dataset


def test_good_snapshot_passes_quietly(project: Path, monkeypatch, capfd, caplog) -> None:
    monkeypatch.chdir(project)
    cat = load_catalog(project)
    previous = write_snapshot(project, "prev", rows())
    snap = write_snapshot(project, "cur", rows())
    before = sorted(str(p) for p in project.rglob("*"))
    caplog.set_level("DEBUG")
    report = validate_dataset(
        cat.connectors["death_registrations"],
        project / "expectations" / "death_registrations.yaml",
        snap,
        previous,
        RUN_DATE,
    )
    assert report.status == "pass", [
        (o.expectation, o.observed) for o in report.outcomes if not o.success
    ]
    assert [o.expectation for o in report.outcomes] == [
        "required_columns",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_unique",
        "valid_id_rate",
        "valid_id_rate",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_be_in_set",
        "row_count_vs_previous",
        "freshness",
        "not_in_future",
    ]
    assert all(o.failing_rows == [] for o in report.outcomes)
    assert report.warnings_zh() == []
    assert report.suite == "expectations/death_registrations.yaml"
    rc = outcome(report, "row_count_vs_previous")
    assert rc.gx_type == "expect_table_row_count_to_be_between"
    assert rc.kwargs == {"min_value": 100}
    assert rc.observed == "1000 rows, 100.0% of the previous snapshot's 1000 (allowed 100+)"
    fresh = outcome(report, "freshness")
    assert fresh.gx_type == "expect_column_max_to_be_between"
    assert fresh.kwargs == {"column": "death_date", "min_value": "2024-05-16"}
    assert fresh.observed == "latest 2024-06-29 (must be on or after 2024-05-16)"
    json.dumps(report.to_dict(), ensure_ascii=False)  # quality.json must serialise
    # GX's noise stays out of the terminal and its context folders out of the project.
    out = capfd.readouterr()
    assert out.out == "" and out.err == ""
    assert caplog.records == []
    assert sorted(str(p) for p in project.rglob("*")) == before


def test_dropped_key_values_block_with_samples(project: Path) -> None:
    data = rows()
    for r in data[::4]:
        r["id_number"] = None
    report = validate(project, data)
    assert report.status == "fail"
    nn = outcome(report, "expect_column_values_to_not_be_null")
    assert (nn.blocking, nn.success) == (True, False)
    assert nn.observed == "25.0% null (250 of 1000)"
    assert nn.description_zh == "身份证号不应为空，实际空值25.0%（250行，共1000行）"
    assert len(nn.failing_rows) == 20
    assert nn.failing_rows[:2] == [
        {"_source_file": "data/death_1.csv", "_source_row": 2, "id_number": None},
        {"_source_file": "data/death_1.csv", "_source_row": 6, "id_number": None},
    ]
    assert report.failures_zh() == [nn.description_zh]


def test_inflated_invalid_ids_block_with_samples(project: Path) -> None:
    data = rows()
    for r in data[:400]:
        r["id_number"] = bad_checksum(r["id_number"])
    report = validate(project, data)
    assert report.status == "fail"
    hard = outcome(report, "valid_id_rate", mostly=0.8)
    assert (hard.blocking, hard.success) == (True, False)
    assert hard.gx_type == "expect_column_values_to_be_in_set"
    assert hard.column == "id_number"
    assert hard.observed == "40.0% invalid (400 of 1000)"
    assert (
        hard.description_zh == "身份证号校验有效比例应不低于80%，实际60.0%（无效400个，共1000个）"
    )
    assert hard.failing_rows[0] == {
        "_source_file": "data/death_1.csv",
        "_source_row": 2,
        "id_number": bad_checksum(valid_id(0)),
    }
    assert len(hard.failing_rows) == 20
    # The format is still fine: only the checksum tells these IDs are wrong.
    assert outcome(report, "expect_column_values_to_match_regex").success


def test_rows_cut_by_95_percent_blocks(project: Path) -> None:
    report = validate(project, rows(50), previous_rows=N)
    assert report.status == "fail"
    rc = outcome(report, "row_count_vs_previous")
    assert (rc.blocking, rc.success) == (True, False)
    assert rc.observed == "50 rows, 5.0% of the previous snapshot's 1000 (allowed 100+)"
    assert rc.description_zh == (
        "行数应不少于上期的10.0%（上期1000行，至少100行），实际50行（为上期的5.0%）"
    )
    assert rc.failing_rows == []  # a table-level check names no rows
    # Nothing else is wrong with the 50 rows that came.
    assert [o.expectation for o in report.outcomes if not o.success] == ["row_count_vs_previous"]


def test_first_snapshot_has_nothing_to_compare(project: Path) -> None:
    report = validate(project, rows(50), previous_rows=None)
    rc = outcome(report, "row_count_vs_previous")
    assert rc.success and rc.observed == "50 rows (no previous snapshot to compare)"
    assert report.status == "pass"


def test_warning_only_failures_give_warn_and_chinese_warnings(project: Path) -> None:
    data = rows()
    for r in data[:100]:
        r["id_number"] = bad_checksum(r["id_number"])
    for r in data[:30]:
        r["status"] = "迁出"
    for r in data:
        r["death_date"] = r["death_date"] - dt.timedelta(days=60)
    report = validate(project, data)
    assert report.status == "warn"
    assert report.failures_zh() == []
    assert report.warnings_zh() == [
        "身份证号校验有效比例应不低于95%，实际90.0%（无效100个，共1000个）",
        "状态应在（正常、注销）之内，实际不符合3.0%（30行，共1000行）",
        "死亡日期最新日期应在运行日前45天内（不早于2024-05-16），实际最新为2024-04-30",
    ]
    fresh = outcome(report, "freshness")
    assert not fresh.success and not fresh.blocking
    status = outcome(report, "expect_column_values_to_be_in_set", column="status")
    assert status.failing_rows[0] == {
        "_source_file": "data/death_1.csv",
        "_source_row": 2,
        "status": "迁出",
    }


def test_dates_in_the_future_are_named(project: Path) -> None:
    data = rows()
    data[999]["death_date"] = dt.date(2025, 1, 1)  # a typo from the future
    report = validate(project, data)
    assert report.status == "warn"
    assert report.warnings_zh() == ["死亡日期不应晚于运行日2024-06-30，实际1行晚于该日（0.1%）"]
    future = outcome(report, "not_in_future")
    assert future.failing_rows == [
        {"_source_file": "data/death_2.csv", "_source_row": 501, "death_date": "2025-01-01"}
    ]


def test_duplicate_keys_are_sampled_together(project: Path) -> None:
    data = rows()
    data[10]["id_number"] = data[3]["id_number"]
    report = validate(project, data)
    uq = outcome(report, "expect_column_values_to_be_unique")
    assert (uq.success, uq.blocking, report.status) == (False, True, "fail")
    assert uq.failing_rows == [
        {"_source_file": "data/death_1.csv", "_source_row": 5, "id_number": valid_id(3)},
        {"_source_file": "data/death_1.csv", "_source_row": 12, "id_number": valid_id(3)},
    ]


def test_without_a_suite_the_default_checks_columns_and_keys(project: Path) -> None:
    cat = load_catalog(project)
    data = rows()
    data[7]["id_number"] = None
    snap = write_snapshot(project, "cur", data)
    report = validate_dataset(cat.connectors["death_registrations"], None, snap, None, RUN_DATE)
    assert report.suite is None
    assert [(o.expectation, o.blocking, o.success) for o in report.outcomes] == [
        ("required_columns", True, True),
        ("rejected_share", True, True),
        ("expect_column_values_to_not_be_null", True, False),
    ]
    assert report.status == "fail"


def test_a_suite_with_mistakes_is_refused_at_validate_time(project: Path) -> None:
    from collide.errors import CollideError

    suite = project / "expectations" / "death_registrations.yaml"
    suite.write_text(
        "dataset: death_registrations\nexpectations:\n"
        "  - type: expect_column_values_to_not_be_null\n    column: id_numbr\n",
        encoding="utf-8",
    )
    with pytest.raises(CollideError) as err:
        validate(project, rows())
    assert err.value.problems == [
        Problem(
            "expectations/death_registrations.yaml",
            4,
            'column "id_numbr" is not in dataset "death_registrations"',
            'Did you mean "id_number"?',
        )
    ]


# --------------------------------------------------------------------------- check_suites


def check(root: Path, text: str) -> list[tuple]:
    """(line, message, fix) of each problem in a rewritten death_registrations suite."""
    suite = root / "expectations" / "death_registrations.yaml"
    suite.write_text(textwrap.dedent(text), encoding="utf-8")
    cat = load_catalog(root)
    problems = check_suites(root, root / "expectations", cat.connectors)
    assert {p.path for p in problems} <= {"expectations/death_registrations.yaml"}
    return [(p.line, p.message, p.fix) for p in problems]


def test_shipped_style_suite_checks_clean(project: Path) -> None:
    cat = load_catalog(project)
    assert check_suites(project, project / "expectations", cat.connectors) == []


def test_check_reports_unknown_type_and_column_at_their_lines(project: Path) -> None:
    problems = check(
        project,
        """\
        dataset: death_registrations
        expectations:
          - type: expect_column_values_to_not_be_nul
            column: id_number
          - type: expect_column_values_to_be_unique
            column: id_numbr
            blocking: true
          - type: valid_id_rate
            column: person_name
          - type: freshnes
            column: death_date
        """,
    )
    assert problems == [
        (
            3,
            'unknown expectation type "expect_column_values_to_not_be_nul"',
            'Did you mean "expect_column_values_to_not_be_null"?',
        ),
        (
            6,
            'column "id_numbr" is not in dataset "death_registrations"',
            'Did you mean "id_number"?',
        ),
        (
            9,
            'valid_id_rate needs an ID column, "person_name" is not cn_id or cn_uscc',
            "Set kind: cn_id or kind: cn_uscc, or pick the ID column",
        ),
        (10, 'unknown expectation type "freshnes"', 'Did you mean "freshness"?'),
    ]


def test_check_reports_bad_arguments(project: Path) -> None:
    problems = check(
        project,
        """\
        dataset: death_registrations
        expectations:
          - type: expect_column_values_to_match_regex
            column: id_number
            regex: "^[0-9]{17}[0-9X]$"
            mostly: 2
          - type: expect_column_values_to_be_in_set
            column: status
            values: [正常]
          - type: row_count_vs_previous
            min_ratio: -1
          - type: freshness
            column: status
            max_age_days: 30
          - type: not_in_future
            blocking: yes please
            column: death_date
        """,
    )
    assert problems == [
        (
            6,
            "mostly: ensure this value is less than or equal to 1.0",
            "See the GX documentation of expect_column_values_to_match_regex",
        ),
        (
            9,
            'unknown key "values" for expect_column_values_to_be_in_set',
            'Did you mean "value_set"?',
        ),
        (11, "min_ratio must be a number at least 0", "Got -1"),
        (
            13,
            'freshness needs a date column, "status" is VARCHAR',
            "Pick a column of type date or datetime in the connector",
        ),
        (
            16,
            "`blocking` must be true or false",
            "Write blocking: true (stop the models) or blocking: false (warn)",
        ),
    ]


def test_check_reports_unknown_dataset_and_bad_yaml(project: Path) -> None:
    (project / "expectations" / "death_registration.yaml").write_text(
        "dataset: death_registration\nexpectations: []\n", encoding="utf-8"
    )
    (project / "expectations" / "pension_payments.yaml").write_text(
        "dataset: pension_payments\nexpectations:\n  - type: [\n", encoding="utf-8"
    )
    cat = load_catalog(project)
    problems = check_suites(project, project / "expectations", cat.connectors)
    assert problems[0] == Problem(
        "expectations/death_registration.yaml",
        1,
        'suite for unknown dataset "death_registration"',
        'Did you mean "death_registrations"?',
    )
    assert (problems[1].path, problems[1].line) == ("expectations/pension_payments.yaml", 3)
    assert problems[1].message == 'the "[" opened on this line is never closed'
    assert len(problems) == 2


def _with_check_digit(body: str) -> str:
    return body + ric.calc_check_digit(body + "?")


def _observed_counts(observed: str) -> tuple[int, int]:
    """(invalid, counted) from "40.0% invalid (400 of 1000)"."""
    m = re.fullmatch(r"[\d.]+% invalid \((\d+) of (\d+)\)", observed)
    assert m, observed
    return int(m.group(1)), int(m.group(2))


def test_gate_counts_the_ids_that_id_valid_counts(project: Path) -> None:
    """The gate's valid-ID and valid-USCC rates are those of the model SQL functions, computed by
    hand in DuckDB on the same values: bad birth dates with a correct check digit, bad check
    digits, odd area codes, 15-digit IDs, lower-case x, empty and missing values."""
    from stdnum.cn import uscc

    from collide.engine.duckdb import register_functions

    ids = [valid_id(i) for i in range(0, 600, 3)]
    ids += [bad_checksum(x) for x in ids[:40]]
    ids += [_with_check_digit(f"110105{y}{md}123") for y in (1990, 2023) for md in BAD_DAYS]
    ids += [_with_check_digit(f"{area}19800101123") for area in ("000000", "999999", "110000")]
    ids += ["110105491231002", "11010519491231002x", "11010519491231002X", "", None, None]
    bodies = ["91110000600037341", "91310000MA1FL8NQ7", "12100000400000624", "52440300MA5G0XXQ1"]
    bodies += ["91000000600037341", "9199999960003734A", "Y1110000600037341"]
    codes = [b + uscc.calc_check_digit(b) for b in bodies]
    codes += [c[:-1] + ("0" if c[-1] != "0" else "1") for c in codes] + ["9111000060003734IL"]
    codes += [None] * (len(ids) - len(codes))
    data = rows(len(ids))
    for r, idn, code in zip(data, ids, codes):
        r["id_number"], r["status"] = idn, code
    suite = project / "expectations" / "death_registrations.yaml"
    suite.write_text(
        "dataset: death_registrations\nexpectations:\n"
        "  - type: valid_id_rate\n    column: id_number\n"
        "  - type: valid_id_rate\n    column: status\n    kind: cn_uscc\n",
        encoding="utf-8",
    )
    report = validate(project, data)
    con = duckdb.connect()
    register_functions(con)
    for column, values, fn in (("id_number", ids, "id_valid"), ("status", codes, "uscc_valid")):
        got = outcome(report, "valid_id_rate", column=f"_valid_{column}")
        invalid, counted = _observed_counts(got.observed)
        by_hand = con.execute(
            f"SELECT avg({fn}(x)::INT), count({fn}(x)), count(*) FILTER (NOT {fn}(x)) "
            "FROM unnest(?::VARCHAR[]) t(x)",
            [values],
        ).fetchone()
        assert (invalid, counted) == (by_hand[2], by_hand[1]), column
        assert 1 - invalid / counted == pytest.approx(by_hand[0], abs=1e-12), column
        assert invalid > 0 and not got.success
        # the failing rows are the ones the function refuses
        refused = {x for x in values if x and not con.execute(f"SELECT {fn}(?)", [x]).fetchone()[0]}
        assert got.failing_rows and {r[column] for r in got.failing_rows} <= refused
    # The birth dates count: an ID with a correct check digit on 2023-02-29 is not valid.
    bad_birth = _with_check_digit("11010520230229123")
    assert not con.execute("SELECT id_valid(?)", [bad_birth]).fetchone()[0]
    assert bad_birth in ids


BAD_DAYS = ("0229", "1301", "0000", "0431", "0230")


def test_importing_collide_does_not_import_gx() -> None:
    code = (
        "import sys, collide, collide.quality; "
        "print('great_expectations' in sys.modules, 'duckdb' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# --------------------------------------------------------------------------- failing rows from GX

ROW_RULES = """\
dataset: death_registrations
expectations:
  - type: expect_column_values_to_be_between
    column: death_date
    min_value: 2024-06-10
  - type: expect_column_value_lengths_to_be_between
    column: person_name
    min_value: 3
  - type: expect_column_values_to_not_be_in_set
    column: status
    value_set: [注销]
  - type: expect_column_pair_values_a_to_be_greater_than_b
    column_A: death_date
    column_B: death_date
    or_equal: false
    mostly: 0.5
  - type: expect_compound_columns_to_be_unique
    column_list: [person_name, status]
  - type: expect_column_values_to_match_regex
    column: person_name
    regex: "^张[0-9]+$"
"""


def test_failing_rows_are_the_rows_gx_counts(project: Path) -> None:
    """For each row-level rule: as many failing rows as GX counted (up to 20), each one breaking
    the rule (checked here in Python), the first ones in the agency's file order."""
    (project / "expectations" / "death_registrations.yaml").write_text(ROW_RULES, "utf-8")
    data = rows()
    for i in (7, 8, 600):
        data[i]["person_name"] = data[5]["person_name"]  # 张5 ×4, status differs for some
        data[i]["status"] = data[5]["status"]
    data[900]["person_name"] = "李·四"
    report = validate(project, data)
    by_type = {o.gx_type: o for o in report.outcomes}
    located = [(r["_source_file"], r["_source_row"]) for r in rows()]

    def check(gx_type: str, breaks, count: int | None = None) -> list[dict]:
        o = by_type[gx_type]
        assert not o.success, gx_type
        expected = [
            {"_source_file": f, "_source_row": n, **{k: v for k, v in r.items() if k in keys}}
            for (f, n), r in zip(located, data)
            for keys in [list(o.failing_rows[0])[2:]]
            if breaks(r)
        ]
        for r in expected:
            for k, v in r.items():
                if isinstance(v, dt.date):
                    r[k] = v.isoformat()
        expected.sort(key=lambda r: (r["_source_file"], r["_source_row"]))
        assert o.failing_rows == expected[:20], gx_type
        if count is not None:
            assert len(expected) == count
        return o.failing_rows

    check("expect_column_values_to_be_between", lambda r: r["death_date"] < dt.date(2024, 6, 10))
    check("expect_column_value_lengths_to_be_between", lambda r: len(r["person_name"]) < 3)
    check("expect_column_values_to_not_be_in_set", lambda r: r["status"] == "注销")
    pair = check("expect_column_pair_values_a_to_be_greater_than_b", lambda r: True)
    assert list(pair[0]) == ["_source_file", "_source_row", "death_date"]
    dup = check(
        "expect_compound_columns_to_be_unique",
        lambda r: r["person_name"] == data[5]["person_name"],
        count=4,
    )
    assert [r["_source_row"] for r in dup] == [7, 9, 10, 102]
    check(
        "expect_column_values_to_match_regex",
        lambda r: not re.fullmatch(r"张[0-9]+", r["person_name"]),
        count=1,
    )


def test_a_row_condition_shows_no_rows_rather_than_wrong_ones(project: Path) -> None:
    suite = project / "expectations" / "death_registrations.yaml"
    suite.write_text(
        "dataset: death_registrations\nexpectations:\n"
        "  - type: expect_column_values_to_not_be_in_set\n    column: status\n"
        "    value_set: [正常]\n    row_condition: 'col(\"_source_row\")<5'\n"
        "    condition_parser: great_expectations\n",
        "utf-8",
    )
    report = validate(project, rows())
    (o,) = report.outcomes
    assert (o.success, o.observed) == (False, "33.3% unexpected (2 of 6)")
    assert o.failing_rows == []
    # A condition GX cannot parse is the clerk's mistake, at its line.
    suite.write_text(suite.read_text("utf-8").replace("<5", "=="), "utf-8")
    problems = check_suites(project, project / "expectations", load_catalog(project).connectors)
    assert [(p.line, p.message[:32]) for p in problems] == [(3, 'unable to parse condition: col("')]


# --------------------------------------------------------------------------- suite mistakes


def test_check_reports_mistakes_in_collide_checks(project: Path) -> None:
    problems = check(
        project,
        """\
        dataset: death_registrations
        expectation: []
        expectations:
          - type: row_count_vs_previous
            max_ratio: -2
          - type: freshness
            column: death_date
            max_age: 30
          - type: freshness
            column: death_date
            max_age_days: 2.5
          - type: not_in_future
            column: death_date
            mostly: plenty
          - type: valid_id_rate
            column: id_number
            kind: cn_passport
          - type: required_columns
            columns: id_number
          - blocking: true
          - type: rejected_share
            max_share: 0.3
            description: 拒收
        """,
    )
    assert problems == [
        (2, 'unknown key "expectation"', 'Did you mean "expectations"?'),
        (5, "max_ratio must be a number at least 0", "Got -2"),
        (8, 'unknown key "max_age" for freshness', 'Did you mean "max_age_days"?'),
        (6, 'freshness needs "max_age_days"', "Add `max_age_days:`"),
        (11, "max_age_days must be a whole number at least 0", "Got 2.5"),
        (14, "mostly must be a number between 0 and 1", "Got 'plenty'"),
        (
            17,
            "kind must be one of cn_id, cn_uscc",
            "Use cn_id for resident IDs, cn_uscc for credit codes",
        ),
        (19, "columns must be a list of names", "Write columns: [id_number, person_name]"),
        (20, "expectation 7 has no `type`", "Start each check with `- type: expect_...`"),
    ]


def test_check_reports_a_suite_without_its_keys(project: Path) -> None:
    assert check(project, "description: 死亡登记\n") == [
        (1, 'missing required key "dataset"', "Add `dataset: death_registrations`"),
        (
            1,
            "`expectations` must be a list of checks, each starting with `- type:`",
            "See docs/quality.md for the suite format",
        ),
    ]
    assert check(project, "dataset: death_registrations\nexpectations: {}\n") == [
        (
            2,
            "`expectations` must be a list of checks, each starting with `- type:`",
            "See docs/quality.md for the suite format",
        )
    ]
    assert check(project, "- type: freshness\n") == [
        (
            1,
            "expected a mapping with `dataset` and `expectations`",
            "See docs/quality.md for the suite format",
        )
    ]


# --------------------------------------------------------------------------- reports


def test_report_speaks_chinese_and_names_the_dataset_by_title(project: Path) -> None:
    data = rows()
    for r in data[::4]:
        r["id_number"] = None
    report = validate(project, data)
    assert (report.status, report.status_zh()) == ("fail", "阻断")
    assert report.heading_zh() == "死亡登记：阻断"
    lines = report.lines_zh(rows=2)
    assert lines[:2] == [
        "- 通过 字段齐全",
        "- 未通过（阻断） 身份证号不应为空，实际空值25.0%（250行，共1000行）",
    ]
    assert lines[2:4] == [
        '  - data/death_1.csv 第 2 行：{"_source_file": "data/death_1.csv", "_source_row": 2, '
        '"id_number": null}',
        '  - data/death_1.csv 第 6 行：{"_source_file": "data/death_1.csv", "_source_row": 6, '
        '"id_number": null}',
    ]
    words = " ".join(lines)
    for english in ("pass", "warn", "fail", "blocking", "rows,", "null ("):
        assert english not in words.replace('"id_number": null', "")
    # What is stored reads back to the same words (quality.json, the cache).
    again = QualityReport.from_dict(json.loads(json.dumps(report.to_dict(), ensure_ascii=False)))
    assert (again.heading_zh(), again.lines_zh(rows=2)) == (report.heading_zh(), lines)
    assert [status_zh(s) for s in ("pass", "warn", "fail")] == ["通过", "警告", "阻断"]
    # A report stored before it had a title reads with the dataset id instead.
    old = {k: v for k, v in report.to_dict().items() if k != "title"}
    assert QualityReport.from_dict(old).heading_zh() == "death_registrations：阻断"


def test_one_json_conversion_for_clues_and_quality() -> None:
    import decimal
    import uuid

    from collide.clues import build
    from collide.jsonutil import jsonable

    assert build.jsonable is jsonable
    value = {
        "amount": decimal.Decimal("1234.50"),
        "on": dt.date(2024, 3, 1),
        "at": dt.datetime(2024, 3, 1, 8, 30),
        "raw": b"\x01\xff",
        "many": (1, 2.5, None, True),
        "kinds": {"b", "a"},
        "id": uuid.UUID(int=1),
        dt.date(2024, 1, 1): "dated key",
    }
    text = json.dumps(jsonable(value), ensure_ascii=False)
    assert text == (
        '{"amount": "1234.50", "on": "2024-03-01", "at": "2024-03-01T08:30:00", "raw": "01ff", '
        '"many": [1, 2.5, null, true], "kinds": ["a", "b"], '
        '"id": "00000000-0000-0000-0000-000000000001", "2024-01-01": "dated key"}'
    )


def test_only_the_gx_adapter_imports_gx_sqlalchemy_and_duckdb_engine() -> None:
    import ast

    src = Path(__file__).resolve().parents[1] / "src" / "collide"
    importers: dict[str, set[str]] = {}
    for path in src.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in ("great_expectations", "sqlalchemy", "duckdb_engine"):
                    importers.setdefault(top, set()).add(str(path.relative_to(src)))
    assert importers == {
        "great_expectations": {"quality/gx.py"},
        "sqlalchemy": {"quality/gx.py"},
        "duckdb_engine": {"quality/gx.py"},
    }


def test_a_column_missing_from_the_snapshot_fails_its_checks_not_the_gate(project: Path) -> None:
    cat = load_catalog(project)
    snap = write_snapshot(project, "cur", rows())
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * EXCLUDE (id_number) FROM read_parquet('{snap.data_path}')) "
        f"TO '{snap.data_path}.tmp' (FORMAT parquet)"
    )
    con.close()
    Path(f"{snap.data_path}.tmp").replace(snap.data_path)
    report = validate_dataset(
        cat.connectors["death_registrations"],
        project / "expectations" / "death_registrations.yaml",
        snap,
        None,
        RUN_DATE,
    )
    assert report.status == "fail"
    columns = outcome(report, "required_columns")
    assert columns.description_zh == "缺少字段：身份证号"
    for o in report.outcomes:
        if o.expectation == "valid_id_rate":
            assert not o.success and o.observed.startswith("error: ")
            assert o.description_zh.startswith("身份证号无法执行：")
