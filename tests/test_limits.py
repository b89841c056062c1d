"""Limits: a runaway model is stopped, reported with the limit it hit and how to raise it, and the
other models of the run still produce their clues. And the model connection's wall: only the
declared inputs' data files are readable, whatever gets past the static check."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import write_project

from collide.engine.backend import Limits, QueryError, backend

CONNECTOR = """
    id: people
    title: 人员名单
    agency: 民政局
    source: {type: csv, path: data/people.csv}
    columns:
      id_number: {from: 身份证号, type: cn_id, required: true}
      person_name: {from: 姓名, type: person_name}
"""

PEOPLE = """
    身份证号,姓名
    11010519491231002X,张三
    110105195001010012,李四
    110105198001011000,赵一
    110105198001011027,钱二
    110105198001011043,孙三
    11010519800101106X,周四
    110105198001011086,吴五
    not-an-id,王五
"""


def model_yaml(mid: str, limits: str = "", tests: str = "") -> str:
    return f"""
        id: {mid}
        title: 测试模型 {mid}
        domain: 测试
        description: 测试。
        severity: low
        inputs: [people]
        subject: {{type: person, id: id_number, name: person_name}}
        score: "1"
        reason: "{{person_name}}"
        evidence:
          - {{dataset: people, on: {{id_number: id_number}}}}
        {limits}
        {tests}
    """


# each stopped by a limit; none of them would end (or fit) on its own
RUNAWAY_SQL = {
    # a recursion without an end
    "recursion": """
        WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r)
        SELECT p.id_number, p.person_name, (SELECT count(*) FROM r) AS c FROM people p
    """,
    # a join of two ranges of a billion rows each (10^18 pairs)
    "cross_join": """
        SELECT p.id_number, p.person_name,
               (SELECT count(*) FROM range(1000000000) a JOIN range(1000000000) b
                  ON a.range + b.range = -1) AS c
        FROM people p
    """,
    # one list of 50 million numbers: an aggregate that cannot spill
    "hungry": """
        SELECT p.id_number, p.person_name,
               (SELECT len(list(range)) FROM range(50000000)) AS c
        FROM people p
    """,
}

OK_SQL = "SELECT id_number, person_name FROM people WHERE person_name = '张三'"


def limits_project(root: Path, extra: dict[str, str] | None = None) -> Path:
    files = {
        "collide.yaml": """
            name: 限额测试
            limits: {model_seconds: 2, model_memory: 1GB}
        """,
        "connectors/people.yaml": CONNECTOR,
        "data/people.csv": PEOPLE,
        "models/fine.yaml": model_yaml("fine"),
        "models/fine.sql": OK_SQL,
        # the model's own block overrides collide.yaml's time limit
        "models/recursion.yaml": model_yaml("recursion", "limits: {model_seconds: 1}"),
        "models/recursion.sql": RUNAWAY_SQL["recursion"],
        "models/cross_join.yaml": model_yaml("cross_join"),
        "models/cross_join.sql": RUNAWAY_SQL["cross_join"],
        # the model's own block overrides collide.yaml's memory limit
        "models/hungry.yaml": model_yaml("hungry", "limits: {model_memory: 64MB}"),
        "models/hungry.sql": RUNAWAY_SQL["hungry"],
    }
    return write_project(root, {**files, **(extra or {})})


def flat(text: str) -> str:
    return " ".join(text.split())


SECONDS_MSG = (
    "models/{m}.yaml: model stopped after {s} s (limits.model_seconds). Make the SQL cheaper or "
    "raise limits.model_seconds in models/{m}.yaml or collide.yaml"
)
MEMORY_MSG = (
    "models/hungry.yaml: model stopped: it needed more than 64MB of memory (limits.model_memory)."
)


def test_runaway_models_are_stopped_and_the_others_still_run(tmp_path: Path, cli) -> None:
    project = limits_project(tmp_path / "p")
    code, out, err = cli("run", "--keep-going", "--project", str(project))
    assert code == 1, out + err  # a partial run
    text = flat(out + err)
    assert "Traceback" not in text
    for m, seconds in (("recursion", 1), ("cross_join", 2)):
        assert f"model {m} failed: " + SECONDS_MSG.format(m=m, s=seconds) in text, text
    assert "model hungry failed: " + MEMORY_MSG in text, text
    assert "raise limits.model_memory in models/hungry.yaml or collide.yaml" in text
    assert "status partial" in text

    run_dir = sorted((project / "runs").iterdir())[-1]
    raw = (run_dir / "clues.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(raw.splitlines()))
    assert [(r["模型"], r["对象名称"]) for r in rows] == [("fine", "张三")]
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    models = manifest["models"] if "models" in manifest else manifest["summary"]["models"]
    assert models["fine"]["status"] == "ok"
    assert {m: models[m]["status"] for m in RUNAWAY_SQL} == dict.fromkeys(RUNAWAY_SQL, "failed")
    # each session's spill folder is removed with it
    assert list((project / "output" / "tmp").iterdir()) == []


def test_without_keep_going_the_run_stops_with_the_limit(tmp_path: Path, cli) -> None:
    project = limits_project(tmp_path / "p")
    code, out, err = cli("run", "-s", "recursion", "--project", str(project))
    assert code == 1
    assert "Traceback" not in out + err
    assert SECONDS_MSG.format(m="recursion", s=1) in flat(out + err)


SLOW_RULE = """
    import time

    import polars as pl


    def rule(inputs, params):
        # each batch waits: the rule's query is still running when its time is up
        slow = pl.col("id_number").map_batches(lambda s: (time.sleep(3), s)[1], return_dtype=pl.Utf8)
        return inputs["people"].select(slow, "person_name")
"""


def test_a_polars_rule_is_stopped_too(tmp_path: Path, cli) -> None:
    project = limits_project(
        tmp_path / "p",
        {
            "models/slow_rule.yaml": model_yaml("slow_rule", "limits: {model_seconds: 1}"),
            "models/slow_rule.py": SLOW_RULE,
        },
    )
    code, out, err = cli("run", "-s", "slow_rule", "--no-validate", "--project", str(project))
    assert code == 1
    assert "Traceback" not in out + err
    assert (
        "models/slow_rule.yaml: model stopped after 1 s (limits.model_seconds). Make the rule "
        "cheaper or raise limits.model_seconds in models/slow_rule.yaml or collide.yaml"
    ) in flat(out + err)


def test_model_unit_tests_run_under_the_limits(tmp_path: Path, cli) -> None:
    tests = """tests:
          - name: never ends
            given:
              people:
                - {id_number: "11010519491231002X", person_name: 张三}
            expect: [{id_number: "11010519491231002X"}]"""
    project = limits_project(
        tmp_path / "p", {"models/recursion.yaml": model_yaml("recursion", tests=tests)}
    )
    code, out, err = cli("test", "recursion", "--project", str(project))
    assert code == 1
    assert SECONDS_MSG.format(m="recursion", s=2) in flat(out + err)  # collide.yaml's
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("yaml", "message"),
    [
        (
            "limits: {model_memory: lots}",
            'model_memory "lots" is not a size such as 4GB or 512MB',
        ),
        ("limits: {model_seconds: 0}", "model_seconds"),
        ("limits: {model_minutes: 5}", "model_minutes"),
        ("engine: duckbd", 'unknown engine "duckbd". Did you mean "duckdb"?'),
    ],
)
def test_bad_limits_are_reported_at_their_file(tmp_path: Path, cli, yaml: str, message: str):
    project = limits_project(tmp_path / "p", {"collide.yaml": f"name: x\n{yaml}\n"})
    code, out, err = cli("check", "--project", str(project))
    assert code == 1
    assert "collide.yaml" in out + err and message in out + err
    assert "Traceback" not in out + err


# --------------------------------------------------------------------------- the wall


@pytest.fixture
def snapshot(tmp_path: Path, cli) -> Path:
    """A real snapshot folder: data.parquet with rejects.parquet and manifest.json beside it."""
    project = limits_project(tmp_path / "p")
    code, out, err = cli("ingest", "--project", str(project))
    assert code == 0, out + err
    (data,) = (project / "output" / "snapshots" / "people").glob("*/data.parquet")
    assert (data.parent / "rejects.parquet").exists()  # 王五's ID is rejected
    assert (data.parent / "manifest.json").exists()
    return data.parent


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_parquet('{dir}/rejects.parquet')",
        "SELECT * FROM '{dir}/rejects.parquet'",
        "SELECT * FROM '{dir}/../{name}/rejects.parquet'",
        "SELECT * FROM read_parquet('{dir}/*.parquet')",
        "SELECT * FROM read_json('{dir}/manifest.json')",
        "SELECT * FROM read_text('{dir}/manifest.json')",
        "SELECT * FROM read_csv('{dir}/manifest.json')",
        "SELECT * FROM glob('{dir}/*')",
        "SELECT * FROM read_text('{project}/collide.yaml')",
        "SELECT * FROM read_csv('{project}/data/people.csv')",
    ],
)
def test_the_connection_reads_only_the_inputs_data_files(snapshot: Path, sql: str) -> None:
    """Straight through the connection, bypassing the static check of model SQL."""
    project = snapshot.parents[3]
    spill = project / "output" / "tmp"
    with backend().open({"people": snapshot / "data.parquet"}, limits=Limits(spill_dir=spill)) as s:
        assert len(s.query("SELECT * FROM people")) == 7  # the input itself is readable
        with pytest.raises(QueryError) as exc:
            s.query(sql.format(dir=snapshot, name=snapshot.name, project=project))
        assert "disabled by configuration" in str(exc.value)
        assert "王五" not in str(exc.value)


def test_settings_do_not_name_the_snapshot_folder(snapshot: Path) -> None:
    with backend().open({"people": snapshot / "data.parquet"}) as s:
        dirs = s.query("SELECT current_setting('allowed_directories') AS d").column("d")
        paths = s.query("SELECT current_setting('allowed_paths') AS p").column("p")
        listed = [str(x) for x in dirs.to_pylist()[0] + paths.to_pylist()[0]]
    assert all(str(snapshot) not in d or d.endswith("data.parquet") for d in listed), listed
    assert not any(d.rstrip("/") == str(snapshot) for d in listed), listed
