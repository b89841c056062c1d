"""PostgreSQL and MariaDB sources against the real servers on 127.0.0.1.

Outside CI a test skips (with the reason) when its server cannot be reached; under CI=true it
fails instead, so a server that did not start is never mistaken for a pass.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from collide.config.catalog import load_catalog
from collide.errors import CollideError
from collide.ingest import ingest_dataset

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
MY_DSN = "mysql://root:@127.0.0.1:3306/test"

ROWS = [
    ("11010519491231002X", "张三", "2023-05-01", "1234.50"),
    ("110105194912310021", "李四", "2023-05-02", "88"),  # bad checksum: kept, issue recorded
    (None, "王五", "2023-05-03", "1"),  # no ID: rejected
]


def _unreachable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must have the database servers running)")
    pytest.skip(reason)


@pytest.fixture
def pg_table():
    try:
        import psycopg

        con = psycopg.connect(PG_DSN, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "no server"
        _unreachable(f"PostgreSQL not reachable at 127.0.0.1:5432 ({exc})")
    name = f"deaths_{uuid.uuid4().hex[:10]}"
    con.execute(f"CREATE TABLE {name} (id_card text, name text, died date, paid numeric(12,2))")
    with con.cursor() as cur:
        cur.executemany(f"INSERT INTO {name} VALUES (%s, %s, %s, %s)", ROWS)
    yield name
    con.execute(f"DROP TABLE IF EXISTS {name}")
    con.close()


@pytest.fixture
def my_table():
    try:
        import pymysql

        con = pymysql.connect(
            host="127.0.0.1",
            port=3306,
            user="root",
            password="",
            database="test",
            connect_timeout=3,
            autocommit=True,
        )
    except Exception as exc:  # noqa: BLE001
        _unreachable(f"MariaDB not reachable at 127.0.0.1:3306 ({exc})")
    name = f"deaths_{uuid.uuid4().hex[:10]}"
    with con.cursor() as cur:
        cur.execute(
            f"CREATE TABLE {name} (id_card varchar(20), name varchar(20) CHARACTER SET utf8mb4, "
            "died date, paid decimal(12,2))"
        )
        cur.executemany(f"INSERT INTO {name} VALUES (%s, %s, %s, %s)", ROWS)
    yield name
    with con.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {name}")
    con.close()


def _project(tmp_path: Path, kind: str, source: str) -> Path:
    (tmp_path / "connectors").mkdir()
    (tmp_path / "collide.yaml").write_text("name: db\n", encoding="utf-8")
    (tmp_path / "connectors" / "deaths.yaml").write_text(
        f"""\
id: deaths
title: 死亡登记
source:
  type: {kind}
  dsn_env: DEATHS_DSN
{source}
columns:
  id_number: {{from: id_card, type: cn_id, required: true}}
  person_name: {{from: name, type: person_name}}
  death_date: {{from: died, type: date}}
  amount: {{from: paid, type: money}}
keys: [id_number]
""",
        encoding="utf-8",
    )
    return tmp_path


def _ingest(root: Path):
    conn = load_catalog(root).connectors["deaths"]
    return ingest_dataset(conn, root, root / "snapshots")


@pytest.mark.parametrize("kind", ["postgres", "mysql"])
def test_database_table_is_ingested(kind: str, request, tmp_path: Path, monkeypatch) -> None:
    import polars as pl

    table = request.getfixturevalue("pg_table" if kind == "postgres" else "my_table")
    monkeypatch.setenv("DEATHS_DSN", PG_DSN if kind == "postgres" else MY_DSN)
    root = _project(tmp_path, kind, f"  table: {table}")
    rep = _ingest(root)
    assert (rep.rows_read, rep.rows_loaded, rep.rows_rejected) == (3, 2, 1)
    assert rep.issues_by_kind == {
        "id_number: invalid ID checksum": 1,
        "rejected: id_number: missing required value": 1,
    }
    df = pl.read_parquet(rep.snapshot_dir / "data.parquet")
    assert df["person_name"].to_list() == ["张三", "李四"]
    assert df["death_date"].to_list()[0].isoformat() == "2023-05-01"
    assert str(df["amount"][0]) == "1234.50"
    assert df["_source_file"].to_list() == [f"{kind}:{table}"] * 2
    assert df["_source_row"].to_list() == [1, 2]
    rej = pl.read_parquet(rep.snapshot_dir / "rejects.parquet")
    assert rej["_source_row"].to_list() == [3]
    # same data → same snapshot, nothing rewritten
    again = _ingest(root)
    assert (again.snapshot_id, again.new) == (rep.snapshot_id, False)


@pytest.mark.parametrize("kind", ["postgres", "mysql"])
def test_query_source(kind: str, request, tmp_path: Path, monkeypatch) -> None:
    table = request.getfixturevalue("pg_table" if kind == "postgres" else "my_table")
    monkeypatch.setenv("DEATHS_DSN", PG_DSN if kind == "postgres" else MY_DSN)
    root = _project(tmp_path, kind, f"  query: SELECT * FROM {table} WHERE name <> '王五'")
    rep = _ingest(root)
    assert (rep.rows_loaded, rep.rows_rejected) == (2, 0)


@pytest.mark.parametrize("kind", ["postgres", "mysql"])
def test_missing_table_is_one_clear_line(kind: str, request, tmp_path: Path, monkeypatch) -> None:
    request.getfixturevalue("pg_table" if kind == "postgres" else "my_table")  # server is up
    monkeypatch.setenv("DEATHS_DSN", PG_DSN if kind == "postgres" else MY_DSN)
    root = _project(tmp_path, kind, "  table: no_such_table_x")
    with pytest.raises(CollideError) as info:
        _ingest(root)
    assert str(info.value) == (
        f'connectors/deaths.yaml:6: table "no_such_table_x" does not exist in the {kind} '
        "database. Check the table name (and schema) with the agency's DBA."
    )


@pytest.mark.parametrize("kind", ["postgres", "mysql"])
def test_wrong_password_is_one_clear_line(kind: str, request, tmp_path: Path, monkeypatch) -> None:
    request.getfixturevalue("pg_table" if kind == "postgres" else "my_table")
    if kind == "postgres":
        # trust auth accepts any password; an unknown user is refused the same way
        dsn = "postgresql://no_such_user:wrong@127.0.0.1:5432/test"
    else:
        dsn = "mysql://root:wrong-password@127.0.0.1:3306/test"
    monkeypatch.setenv("DEATHS_DSN", dsn)
    root = _project(tmp_path, kind, "  table: whatever")
    with pytest.raises(CollideError) as info:
        _ingest(root)
    text = str(info.value)
    assert text.startswith(f"connectors/deaths.yaml:5: {kind} refused the login (")
    assert text.endswith("Check the user and password in the environment variable DEATHS_DSN.")
    assert "\n" not in text


def test_missing_environment_variable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DEATHS_DSN", raising=False)
    root = _project(tmp_path, "postgres", "  table: t")
    with pytest.raises(CollideError) as info:
        _ingest(root)
    assert str(info.value) == (
        "connectors/deaths.yaml:5: environment variable DEATHS_DSN is not set (it should hold "
        "the postgres connection string). Set it before running, e.g. export "
        "DEATHS_DSN=postgresql://user@host:5432/db."
    )


@pytest.mark.parametrize("kind", ["postgres", "mysql"])
def test_check_reads_the_columns_of_a_table(
    kind: str, request, tmp_path: Path, monkeypatch
) -> None:
    """`collide check` asks the server for the table's columns (no rows): a column renamed in
    the database is reported like a renamed header (optional: warning; required: error)."""
    from collide.project import Project

    table = request.getfixturevalue("pg_table" if kind == "postgres" else "my_table")
    monkeypatch.setenv("DEATHS_DSN", PG_DSN if kind == "postgres" else MY_DSN)
    root = _project(tmp_path, kind, f"  table: {table}")
    conn_yaml = root / "connectors" / "deaths.yaml"
    conn_yaml.write_text(
        conn_yaml.read_text(encoding="utf-8").replace("from: paid", "from: paid_amount"), "utf-8"
    )
    problems = [p for p in Project(root).check() if "deaths.yaml" in (p.path or "")]
    assert [(p.severity, p.line) for p in problems] == [("warning", 11)]
    assert f'column "amount" (aliases: paid_amount) not found in {kind}:{table}' in str(problems[0])
    assert "Headers found: id_card, name, died, paid" in str(problems[0])
    assert 'Did you mean "paid"?' in str(problems[0])
    # a query source too, and a required column
    (tmp_path / "q").mkdir()
    root2 = _project(tmp_path / "q", kind, f"  query: SELECT name, died FROM {table}")
    problems = [p for p in Project(root2).check() if "deaths.yaml" in (p.path or "")]
    assert ("error", 'column "id_number"') == (
        problems[0].severity,
        problems[0].message[: len('column "id_number"')],
    )


def test_check_warns_when_the_server_does_not_answer(tmp_path: Path, monkeypatch) -> None:
    from collide.project import Project

    monkeypatch.setenv("DEATHS_DSN", "postgresql://postgres@127.0.0.1:1/test")
    root = _project(tmp_path, "postgres", "  table: deaths")
    problems = [p for p in Project(root).check() if "deaths.yaml" in (p.path or "")]
    assert [p.severity for p in problems] == ["warning"]
    assert "the columns of postgres:deaths could not be checked (cannot connect" in str(problems[0])
