"""Bad input gets one clear line (file, line, what to do), exit 1, and loses nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import write_project
from pension_project import PENSION_FILES


def _tree_digest(root: Path) -> str:
    """Hash of the store and every run folder: proves a failed run changed no recorded state.

    (Snapshots are content-addressed copies of input; a new input may add one.)"""
    h = hashlib.sha256((root / "output" / "collide.duckdb").read_bytes())
    for p in sorted((root / "runs").rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    root = write_project(tmp_path_factory.mktemp("err") / "p", PENSION_FILES)
    from collide.cli.main import main

    main(["run", "--project", str(root)])  # returns normally on success
    assert (root / "runs").is_dir()
    return root


def _copy(baseline: Path, tmp_path: Path) -> Path:
    import shutil

    dest = tmp_path / "p"
    shutil.copytree(baseline, dest)
    return dest


CASES = [
    (
        "malformed YAML",
        {"models/no_drain_permit.yaml": "id: no_drain_permit\n  title: [\n"},
        [],
        "models/no_drain_permit.yaml:2: YAML syntax error: mapping values are not allowed here. "
        "Check indentation and quoting; strings with ':' or '{' need quotes.",
    ),
    (
        "unknown key",
        {
            "models/no_drain_permit.yaml": PENSION_FILES["models/no_drain_permit.yaml"].replace(
                "severity: low", "severity: low\n        owner: 张检"
            )
        },
        [],
        'models/no_drain_permit.yaml:6: unknown key "owner". Remove it; allowed keys: id, title, '
        "domain, description, legal_basis, severity, inputs, params, subject, score, reason, "
        "evidence, labels, tests, enabled, tags, limits.",
    ),
    (
        "SQL syntax error",
        {
            "models/no_drain_permit.sql": "SELECT licence_no\nFROM licences\n"
            "WHERE WHERE waste_contract IS NULL\n"
        },
        [],
        "models/no_drain_permit.sql:3: SQL syntax error:",
    ),
    (
        "undeclared table",
        {
            "models/no_drain_permit.sql": "SELECT licence_no, org_name\n"
            "FROM licences JOIN deaths ON true\n"
        },
        [],
        'models/no_drain_permit.sql:2: table "deaths" is not a declared input of this model. '
        "Add it to `inputs:` in the YAML or read a declared input.",
    ),
    (
        "param of the wrong type",
        {},
        ["--param", "min_amount=abc"],
        'error: --param: param min_amount expects a number (default 0), got "abc". '
        "Pass a number, e.g. --param min_amount=0.",
    ),
    (
        "empty dataset",
        {"data/deaths.csv": "身份证号,姓名,死亡日期\n"},
        [],
        'error: connectors/deaths.yaml: dataset "deaths" is empty: no rows loaded from '
        "data/deaths.csv. Check the agency file (rejected rows are in the snapshot's "
        "rejects.parquet) or fix the connector.",
    ),
]


@pytest.mark.parametrize("name,files,args,message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_one_line_exit_1_nothing_touched(
    baseline: Path, tmp_path: Path, cli, name, files, args, message
) -> None:
    root = _copy(baseline, tmp_path)
    before = _tree_digest(root)
    write_project(root, files)
    code, out, err = cli("run", "--project", str(root), *args)
    assert code == 1
    text = (out + err).strip()
    assert "Traceback" not in text
    assert len(text.splitlines()) == 1, text
    assert message.removeprefix("error: ") in text, text
    assert _tree_digest(root) == before


def test_missing_input_file(baseline: Path, tmp_path: Path, cli) -> None:
    root = _copy(baseline, tmp_path)
    before = _tree_digest(root)
    (root / "data" / "deaths.csv").unlink()
    code, out, err = cli("run", "--project", str(root))
    assert code == 1
    assert err.strip() == (
        f'error: connectors/deaths.yaml:4: no file matches "data/deaths.csv" (looked in {root}). '
        "Check the path (relative to the project folder) or put the agency file there."
    )
    assert _tree_digest(root) == before


def test_keep_going_records_a_partial_run(baseline: Path, tmp_path: Path, cli) -> None:
    root = _copy(baseline, tmp_path)
    (root / "data" / "deaths.csv").unlink()
    code, out, err = cli("run", "--keep-going", "--project", str(root))
    assert code == 1  # partial runs exit 1 so the operator notices
    assert "pension_after_death │ skipped" in out or "skipped" in out
    assert "status partial" in out
    runs = sorted(p for p in (root / "runs").iterdir() if not p.name.startswith("."))
    latest = (runs[-1] / "clues.csv").read_text(encoding="utf-8-sig")
    assert "food_ban_holder" in latest and "pension_after_death" not in latest


def test_second_concurrent_run_refuses(baseline: Path, tmp_path: Path, cli) -> None:
    from collide.store.db import RunLock

    root = _copy(baseline, tmp_path)
    lock = RunLock(root / "output" / "collide.duckdb.lock")
    lock.acquire()
    try:
        code, out, err = cli("run", "--project", str(root))
    finally:
        lock.release()
    assert code == 1
    assert "another collide run is in progress (pid" in err
    assert "Wait for it to finish, or pass --wait SECONDS to queue behind it." in err


def test_model_tests_pass_and_fail(baseline: Path, tmp_path: Path, cli) -> None:
    root = _copy(baseline, tmp_path)
    code, out, _ = cli("test", "--project", str(root))
    assert code == 0
    assert (
        "PASS pension_after_death: paid after death is flagged, paid one day before is not" in out
    )
    assert out.strip().endswith("3 passed, 0 failed")
    sql = root / "models" / "pension_after_death.sql"
    sql.write_text(
        sql.read_text(encoding="utf-8").replace(
            "p.paid_on > d.death_date", "p.paid_on >= d.death_date - 1"
        ),
        encoding="utf-8",
    )
    code, out, _ = cli("test", "pension_after_death", "--project", str(root))
    assert code == 1
    assert "FAIL pension_after_death: paid after death is flagged" in out
    assert "found but not expected: {id_number=110105195001010012}" in out


def test_keep_going_runs_the_models_whose_files_load(baseline: Path, tmp_path: Path, cli) -> None:
    """The nightly run must not lose the night to one model someone broke in the afternoon."""
    root = _copy(baseline, tmp_path)
    write_project(
        root, {"models/broken.yaml": "id: broken\n  title: [\n", "models/broken.sql": "x"}
    )
    code, out, err = cli("run", "--project", str(root))
    assert code == 1 and "models/broken.yaml:2: YAML syntax error" in err  # strict: refuses
    code, out, err = cli("run", "--keep-going", "--project", str(root))
    assert code == 1
    assert "not loaded: models/broken.yaml:2: YAML syntax error" in out
    assert "status partial" in out
    run_dir = sorted(p for p in (root / "runs").iterdir() if not p.name.startswith("."))[-1]
    assert "pension_after_death" in (run_dir / "clues.csv").read_text(encoding="utf-8-sig")
    assert "## 未能加载的文件" in (run_dir / "report.md").read_text(encoding="utf-8")


def test_a_failing_polars_rule_points_at_its_line(tmp_path: Path, cli) -> None:
    files = {
        **PENSION_FILES,
        "models/rule_model.yaml": """
            id: rule_model
            title: 规则模型
            domain: 测试
            description: 测试。
            severity: low
            inputs: [deaths]
            subject: {type: person, id: id_number}
            score: "1"
            reason: x
        """,
        "models/rule_model.py": """
            import polars as pl


            def rule(inputs, params):
                deaths = inputs["deaths"]
                return deaths.select("id_number", (pl.col("person_name") + 1).alias("bad"))
        """,
    }
    root = write_project(tmp_path / "p", files)
    code, out, err = cli("run", "--select", "rule_model", "--project", str(root))
    assert code == 1
    assert err.startswith("error: models/rule_model.py:")
    assert "polars rule failed:" in err and "collide test rule_model" in err
    assert "Traceback" not in out + err
