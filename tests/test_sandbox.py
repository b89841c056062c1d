"""Model SQL can reach nothing but its declared inputs."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from collide.engine.duckdb import Sandbox
from collide.engine.sqlcheck import check_sql

FORBIDDEN = {
    "SELECT * FROM read_csv('/etc/passwd')": "m.sql:1: table function read_csv() is not allowed in model SQL. A model may read only "
    "its declared inputs, by name.",
    "COPY deaths TO '/tmp/out.csv'": "m.sql:1: COPY is not allowed in model SQL.",
    "ATTACH '/tmp/other.duckdb' AS other": "m.sql:1: ATTACH is not allowed in model SQL.",
    "INSTALL httpfs": "m.sql:1: INSTALL is not allowed in model SQL.",
    "LOAD httpfs": "m.sql:1: LOAD is not allowed in model SQL.",
    "SET threads = 1": "m.sql:1: SET is not allowed in model SQL.",
    "PRAGMA database_list": "m.sql:1: PRAGMA is not allowed in model SQL.",
    "SELECT * FROM '/etc/passwd'": 'm.sql:1: table "/etc/passwd" is not a declared input of this model.',
    "SELECT * FROM secrets": 'm.sql:1: table "secrets" is not a declared input of this model.',
    "SELECT 1; SELECT 2": "m.sql: the file holds 2 statements.",
}


@pytest.mark.parametrize("sql", list(FORBIDDEN))
def test_static_check_refuses(sql: str) -> None:
    _, problems = check_sql(sql, ["deaths"], "m.sql", [])
    assert problems, sql
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
