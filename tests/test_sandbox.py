"""Model SQL can reach nothing but its declared inputs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from collide.engine.duckdb import Sandbox
from collide.engine.sqlcheck import (
    _FORBIDDEN_WORDS,
    ALLOWED_TABLE_FUNCTIONS,
    allowed_functions,
    check_sql,
    function_refused,
    refused_functions,
)

READS = "which is not an input of this model. To fix this, read only the datasets listed in inputs: (deaths)."
FORBIDDEN = {
    "SELECT * FROM read_csv('/etc/passwd')": f'm.sql:1: reads "read_csv()", {READS}',
    "COPY deaths TO '/tmp/out.csv'": "m.sql:1: COPY is not allowed in model SQL.",
    "ATTACH '/tmp/other.duckdb' AS other": "m.sql:1: ATTACH is not allowed in model SQL.",
    "INSTALL httpfs": "m.sql:1: INSTALL is not allowed in model SQL.",
    "LOAD httpfs": "m.sql:1: LOAD is not allowed in model SQL.",
    "SET threads = 1": "m.sql:1: SET is not allowed in model SQL.",
    "PRAGMA database_list": "m.sql:1: PRAGMA is not allowed in model SQL.",
    "SELECT * FROM '/etc/passwd'": f'm.sql:1: reads "/etc/passwd", {READS}',
    "SELECT * FROM secrets": f'm.sql:1: reads "secrets", {READS}',
    "SELECT 1; SELECT 2": "m.sql: the file holds 2 statements.",
    "SELECT *\nFROM deaths,\n  (SELECT current_setting('allowed_directories') AS d)": (
        f'm.sql:3: reads "current_setting()", {READS}'
    ),
    "SELECT n FROM deaths\nWHERE n IN (SELECT * FROM (DESCRIBE deaths))": (
        f'm.sql:2: reads "DESCRIBE", {READS}'
    ),
    "SELECT * FROM deaths,\n(SUMMARIZE deaths)": f'm.sql:2: reads "SUMMARIZE", {READS}',
    "SELECT * FROM memory.main.deaths": f'm.sql:1: reads "memory.main.deaths", {READS}',
    "SELECT nmae_sim(a, b) FROM deaths": 'm.sql:1: unknown function "nmae_sim". Did you mean '
    '"name_sim"? See the function list in the README.',
}


@pytest.mark.parametrize("sql", list(FORBIDDEN))
def test_static_check_refuses(sql: str) -> None:
    _, problems = check_sql(sql, ["deaths"], "m.sql", [])
    assert len(problems) == 1, problems
    assert str(problems[0]).startswith(FORBIDDEN[sql].rstrip(".")), str(problems[0])


def test_allowed_query_passes_and_reports_params() -> None:
    shape, problems = check_sql(
        "WITH x AS (SELECT * FROM deaths WHERE n > $min_n) SELECT * FROM x",
        ["deaths"],
        "m.sql",
        ["min_n"],
    )
    assert problems == []
    assert shape.params == ["min_n"] and shape.tables == ["deaths"]


def test_undeclared_param_is_reported_with_line() -> None:
    _, problems = check_sql(
        "SELECT *\nFROM deaths\nWHERE n > $min_amout", ["deaths"], "m.sql", ["min_amount"]
    )
    assert [str(p) for p in problems] == [
        'm.sql:3: param $min_amout is used but not declared. Did you mean "min_amount"? Declare '
        "it under `params:` in the YAML, e.g. params: {min_amout: 0}."
    ]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        "COPY (SELECT 1) TO '/tmp/collide_escape.csv'",
        "ATTACH '/tmp/collide_escape.duckdb'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET threads = 1",
        "SET enable_external_access = true",
        "SELECT * FROM read_parquet('/tmp/collide_other/*.parquet')",
    ],
)
def test_connection_refuses_even_without_static_check(sql: str, tmp_path: Path) -> None:
    """The second wall: the DuckDB connection itself refuses files, extensions and settings."""
    snap = tmp_path / "snap"
    snap.mkdir()
    pq.write_table(pa.table({"n": [1, 2]}), snap / "data.parquet")
    with Sandbox({"deaths": snap / "data.parquet"}) as box:
        assert box.arrow("SELECT sum(n) AS s FROM deaths").to_pylist() == [{"s": 3}]
        with pytest.raises(Exception) as err:
            box.arrow(sql)
        assert any(w in str(err.value) for w in ("disabled", "locked", "Permission")), err.value
    assert not Path("/tmp/collide_escape.csv").exists()


def test_connection_opens_the_input_data_file_and_nothing_beside_it(tmp_path: Path) -> None:
    """Issue 11: the allowed paths are the inputs' data files, not their snapshot folders (the
    rejected rows and the manifest live next to data.parquet)."""
    snap = tmp_path / "snap"
    snap.mkdir()
    pq.write_table(pa.table({"n": [1, 2]}), snap / "data.parquet")
    pq.write_table(pa.table({"secret": ["机密"]}), snap / "rejects.parquet")
    (snap / "manifest.json").write_text('{"secret": "机密"}', encoding="utf-8")
    with Sandbox({"deaths": snap / "data.parquet"}) as box:
        assert box.arrow("SELECT sum(n) AS s FROM deaths").to_pylist() == [{"s": 3}]
        for sql in (
            f"SELECT * FROM '{snap / 'rejects.parquet'}'",
            f"SELECT * FROM read_json_auto('{snap / 'manifest.json'}')",
            f"SELECT * FROM glob('{snap}/*')",
        ):
            with pytest.raises(Exception) as err:
                box.arrow(sql).to_pylist()
            assert "机密" not in str(err.value)
            assert any(w in str(err.value) for w in ("disabled", "Permission")), err.value


def test_cte_named_like_a_file_in_one_subselect_does_not_open_it_elsewhere() -> None:
    """Issue 11: the input check matched CTE names anywhere in the query, ignoring scope."""
    sql = (
        "SELECT d.n,\n"
        "  (SELECT string_agg(CAST(r AS VARCHAR), ' | ') FROM \"/snap/rejects.parquet\" r) AS leak\n"
        "FROM deaths d,\n"
        '     (WITH "/snap/rejects.parquet" AS (SELECT 1) SELECT 1) z\n'
    )
    _, problems = check_sql(sql, ["deaths"], "m.sql", [])
    assert [str(p) for p in problems] == [f'm.sql:2: reads "/snap/rejects.parquet", {READS}']
    # the same CTE read where it is visible is fine
    ok = 'WITH "x.parquet" AS (SELECT n FROM deaths) SELECT * FROM "x.parquet"'
    assert check_sql(ok, ["deaths"], "m.sql", [])[1] == []


def _models_and_readme_sql() -> list[tuple[str, str]]:
    root = Path(__file__).resolve().parents[1]
    out = [(p.name, p.read_text(encoding="utf-8")) for p in sorted((root / "models").glob("*.sql"))]
    readme = (root / "README.md").read_text(encoding="utf-8")
    for i, block in enumerate(re.findall(r"```sql\n(.*?)```", readme, flags=re.S)):
        out.append((f"README.md sql block {i + 1}", block))
    # README function examples: `name(args)` → value
    for i, call in enumerate(re.findall(r"`((?:[a-z_]+)\([^`]*\))` → ", readme)):
        out.append((f"README.md example {i + 1}", f"SELECT {call}"))
    return out


def _function_names(sql: str) -> set[str]:
    import json

    import duckdb

    con = duckdb.connect()
    tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    con.close()
    assert not tree.get("error"), tree
    names: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            if "function_name" in node:
                names.add(str(node["function_name"]).lower())
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(tree)
    return names


def test_every_function_of_the_shipped_models_and_the_readme_is_allowed() -> None:
    sources = _models_and_readme_sql()
    assert len(sources) >= 12, sources  # nine model SQL files, README blocks and examples
    used: set[str] = set()
    for where, sql in sources:
        names = _function_names(sql)
        # the row generators (range, generate_series, unnest) are allowed by their own rule
        missing = names - allowed_functions() - ALLOWED_TABLE_FUNCTIONS
        assert not missing, f"{where}: {sorted(missing)}"
        used |= names
    assert {"name_sim", "add_workdays", "string_agg", "count_star"} <= used


@pytest.mark.parametrize(
    "pattern",
    [
        r"^read_",
        r"^glob$",
        r"^current_setting$",
        r"getenv",
        r"^duckdb_",
        r"^pragma_",
        r"^query",
        r"^sniff_csv$",
        r"^parquet_",
        r"iceberg",
        r"delta",
        r"http",
        r"^s3",
    ],
)
def test_no_function_that_reads_files_settings_or_the_catalog_is_allowed(pattern: str) -> None:
    assert not [n for n in allowed_functions() if re.search(pattern, n)]


def test_the_checked_in_list_obeys_its_written_rules() -> None:
    """Every allowed name passes the exclusion rules; the refused list holds the real readers."""
    assert not [n for n in allowed_functions() if function_refused(n)]
    assert {"read_parquet", "read_csv", "glob", "query_table", "current_setting"} <= (
        refused_functions()
    )
    assert len(allowed_functions()) > 500  # DuckDB's scalar, aggregate and window functions


def test_an_unknown_function_is_offered_only_allowed_names() -> None:
    _, problems = check_sql("SELECT current_settng('x') FROM deaths", ["deaths"], "m.sql", [])
    assert len(problems) == 1
    text = str(problems[0])
    assert text.startswith('m.sql:1: unknown function "current_settng".'), text
    assert '"current_setting"' not in text, text
    _, problems = check_sql("SELECT org_simm(a, b) FROM deaths", ["deaths"], "m.sql", [])
    assert [str(p) for p in problems] == [
        'm.sql:1: unknown function "org_simm". Did you mean "org_sim"? See the function list in '
        "the README."
    ]


# --------------------------------------------------------------------------- attack corpus

ATTACKS = Path(__file__).with_name("attacks")
SECRET_REJECT = "机密拒收甲乙丙"  # a person name on a rejected row: only in rejects.parquet
SECRET_ID = "SECRETID4471"  # its mangled resident ID
SECRET_MANIFEST = "SECRET-MANIFEST-5521"  # planted in every snapshot's manifest.json
SECRETS = (SECRET_REJECT, SECRET_ID, SECRET_MANIFEST)
# the words every refusal starts with (after "models/<id>.sql[:line]: ")
REFUSALS = (
    "reads ",
    "uses ",
    "the file holds ",
    "unknown function ",
) + tuple(f"{w} is not allowed in model SQL" for w in sorted(_FORBIDDEN_WORDS))

ATTACK_YAML = """\
id: {id}
title: 攻击测试
domain: 测试
description: 一个试图越过沙箱的模型。
severity: low
inputs: [deaths, payments]
subject: {{type: person, id: id_number}}
score: "1"
reason: "泄露：{{leak}}"
evidence:
  - {{dataset: deaths, on: {{id_number: id_number}}}}
"""


def _collide(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("collide")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "collide.cli.main"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    # the timeout is a hang guard (an attack must not hang the nightly run), not a timing check
    return subprocess.run(
        [*cmd, *args, "--project", str(root)],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def attacked(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A project whose snapshots hold known secrets, with one model per attack file."""
    from conftest import write_project
    from pension_project import PENSION_FILES

    root = tmp_path_factory.mktemp("attack") / "p"
    files = {
        k: v for k, v in PENSION_FILES.items() if k.startswith(("connectors/d", "connectors/p"))
    }
    more = ["110105197001010011", "110105197002020027", "110105197003030032", "110105197004040048"]
    files["data/deaths.csv"] = (
        PENSION_FILES["data/deaths.csv"].rstrip()
        + "".join(f"\n        {i},赵{n},2024-05-01" for n, i in enumerate(more))
        # one rejected row (its ID is not an ID) out of eight: below the gate's 20 %
        + f"\n        {SECRET_ID},{SECRET_REJECT},2024-03-01\n"
    )
    files["data/payments.csv"] = PENSION_FILES["data/payments.csv"]
    write_project(root, files)
    done = _collide(root, "ingest")
    assert done.returncode == 0, done.stdout + done.stderr
    snaps = {}
    for ds in ("deaths", "payments"):
        (snap,) = [p for p in (root / "output" / "snapshots" / ds).iterdir() if p.is_dir()]
        manifest = json.loads((snap / "manifest.json").read_text(encoding="utf-8"))
        manifest["note"] = SECRET_MANIFEST
        (snap / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        snaps[ds] = snap
    snap = snaps["deaths"]
    # the targets are real: the secrets are there for anyone who may open the files
    rejects = pq.read_table(snap / "rejects.parquet").to_pylist()
    assert any(SECRET_REJECT in json.dumps(r, ensure_ascii=False) for r in rejects), rejects
    places = {
        "{REJECTS}": str(snap / "rejects.parquet"),
        "{MANIFEST}": str(snap / "manifest.json"),
        "{SNAPDIR}": str(snap),
        "{DATA}": str(snap / "data.parquet"),
    }
    sqls = {}
    for path in sorted(ATTACKS.glob("*.sql")):
        sql = path.read_bytes().decode("utf-8")  # as written: a lone \r stays a \r
        for key, value in places.items():
            sql = sql.replace(key, value)
        sqls[path.stem] = sql
        (root / "models" / f"{path.stem}.sql").parent.mkdir(exist_ok=True)
        (root / "models" / f"{path.stem}.sql").write_bytes(sql.encode("utf-8"))
        (root / "models" / f"{path.stem}.yaml").write_text(
            ATTACK_YAML.format(id=path.stem), encoding="utf-8"
        )
    return root, sqls


def test_the_corpus_is_large_and_says_what_each_attack_tries() -> None:
    files = sorted(ATTACKS.glob("*.sql"))
    assert len(files) >= 50
    for path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("-- attempts: ") and len(first) > 25, path.name


def _refusals(text: str, stem: str) -> list[str]:
    head = f"models/{stem}.sql"
    return [ln.strip() for ln in text.splitlines() if f"{head}:" in ln or f"{head} " in ln]


def test_check_refuses_every_attack_with_one_clear_message(attacked) -> None:
    root, sqls = attacked
    done = _collide(root, "check")
    out = done.stdout + done.stderr
    assert done.returncode == 1
    assert "Traceback" not in out and "internal error" not in out
    for stem in sqls:
        lines = _refusals(out, stem)
        assert len(lines) == 1, (stem, lines)
        text = re.sub(rf"^.*?models/{stem}\.sql(:\d+)?: ", "", lines[0])
        assert text.startswith(REFUSALS), (stem, lines[0])
        assert not any(s in lines[0] for s in SECRETS)
    assert not any(s in out for s in SECRETS)
    # every attack model is reported; nothing else is
    assert len([ln for ln in done.stdout.splitlines() if ln.strip()]) == len(sqls) + 1, out


def test_run_refuses_every_attack_and_leaks_nothing(attacked) -> None:
    root, sqls = attacked
    done = _collide(root, "run", "--keep-going")
    out = done.stdout + done.stderr
    assert "Traceback" not in out and "internal error" not in out, out
    for stem in sqls:
        assert _refusals(out, stem), (stem, out[-3000:])
    assert not any(s in out for s in SECRETS), out
    leaked = []
    for path in root.rglob("*"):
        if (
            not path.is_file()
            or "snapshots" in path.parts
            or path.suffix == ".csv"
            and (path.parent.name == "data")
        ):
            continue
        data = path.read_bytes()
        for s in SECRETS:
            if s.encode("utf-8") in data or s.encode("utf-16-le") in data:
                leaked.append((str(path.relative_to(root)), s))
    assert not leaked, leaked
    assert not Path("/tmp/collide_attack_copy.csv").exists()
    assert not Path("/tmp/collide_attack.duckdb").exists()
