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
        "models/no_drain_permit.yaml:2: this line is indented deeper than the one above, so YAML "
        'reads it as part of the value of "id". Line it up with the line above; or, if it belongs '
        "under it, end the line above with the colon (nothing after it).",
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
        "evidence, labels, tests, network, enabled, tags, limits, line, assignee, rectification_months, origin, partition_by.",
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
        'models/no_drain_permit.sql:2: reads "deaths", which is not an input of this model. '
        "To fix this, read only the datasets listed in inputs: (licences).",
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
    assert (
        code == 1 and "models/broken.yaml:2: this line is indented deeper" in err
    )  # strict: refuses
    code, out, err = cli("run", "--keep-going", "--project", str(root))
    assert code == 1
    assert "not loaded: models/broken.yaml:2: this line is indented deeper" in out
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


YAML_MISTAKES = [
    (
        "id: m\n  title: 测试\n",
        "m.yaml:2: this line is indented deeper than the one above, so YAML reads it as part of the "
        'value of "id". Line it up with the line above; or, if it belongs under it, end the line '
        "above with the colon (nothing after it).",
    ),
    (
        "id: m\nsubject:\n\tid: id_number\n",
        "m.yaml:3: this line has a tab character; YAML indents with spaces only. Replace the tab "
        "with spaces.",
    ),
    (
        "id: m\nsubject:\n  type: person\n  id id_number\nseverity: low\n",
        'm.yaml:4: "id id_number" has no colon, so YAML cannot tell the key from the value. Write '
        "it as key: value (a colon and a space after the key).",
    ),
    (
        'id: m\ntitle: "死亡人员\nseverity: low\n',
        'm.yaml:2: the quote " opened on this line is never closed. Add the closing " at the end '
        "of the value.",
    ),
    (
        "id: m\n- deaths\n",
        'm.yaml:2: this list item ("- …") stands where a key is expected. Indent it like the other '
        "items of its list, under the key it belongs to.",
    ),
    (
        "inputs:\n  - deaths\n - payments\n",
        'm.yaml:3: this list item ("- …") stands where a key is expected. Indent it like the other '
        "items of its list, under the key it belongs to.",
    ),
    (
        "inputs:\n  - deaths\n  severity: low\n",
        'm.yaml:3: "severity: low" is a key inside a list of "- " items. Start it with "- " if it '
        "is a new item, or indent it under the item it belongs to.",
    ),
    (
        "id: m\ninputs: [deaths, payments\nseverity: low\n",
        'm.yaml:2: the "[" opened on this line is never closed. Close it with "]" on the same line, '
        "or put the value in quotes.",
    ),
    (
        "id: m\nexpectations:\n  - type: [\n",
        'm.yaml:3: the "[" opened on this line is never closed. Close it with "]" on the same line, '
        "or put the value in quotes.",
    ),
    (
        "subject:\n    type: person\n  id: id_number\n",
        "m.yaml:3: this line is indented less than the one above but deeper than the key it "
        "belongs to, so YAML cannot tell where it belongs. Line it up with the other keys at its "
        "level.",
    ),
    (
        "reason: {person_name}于{death_date}死亡\n",
        'm.yaml:1: the value of "reason" starts with "{", which YAML reads as the start of a list '
        'or group, and there is text after its end. Put the value in quotes: reason: "…".',
    ),
    (
        "title: 说明: 死亡后发放\n",
        'm.yaml:1: the value of "title" contains ": ", which YAML reads as a second key. Put the '
        'value in quotes: title: "…".',
    ),
    (
        "title: @张三\n",
        'm.yaml:1: a value starts with "@", which YAML keeps for itself. Put the value in quotes: '
        'title: "…".',
    ),
]


@pytest.mark.parametrize("text,message", YAML_MISTAKES, ids=[m[1][:40] for m in YAML_MISTAKES])
def test_yaml_syntax_errors_in_words_a_clerk_knows(tmp_path: Path, text: str, message: str) -> None:
    """Issue 11 §6: no parser jargon ("expected <block end>, but found …"), the line to change."""
    from collide.config.yamlio import load_yaml
    from collide.errors import CollideError

    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CollideError) as err:
        load_yaml(path, "m.yaml")
    assert str(err.value) == message
    assert "<" not in message and "but found" not in message


def test_yaml_mistake_reported_by_check_with_its_line(tmp_path: Path, cli) -> None:
    files = dict(PENSION_FILES)
    files["models/no_drain_permit.yaml"] = files["models/no_drain_permit.yaml"].replace(
        "severity: low", "severity low"
    )
    root = write_project(tmp_path / "p", files)
    code, out, err = cli("check", "--project", str(root))
    assert code == 1
    assert any(
        ln.startswith("models/no_drain_permit.yaml:") and '"severity low" has no colon' in ln
        for ln in out.splitlines()
    ), out
