"""The store's bulk inserts build an Arrow table from Python lists: DuckDB builds a small one,
polars a large one (collide.store.db.arrow_table). Either way a table inserted into the store
reads back the same, on generated values of each column type the store has — texts with
quotes and any characters, numbers, flags, dates and times, nulls, empty lists."""

from __future__ import annotations

import datetime as dt

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from collide.store import db

KINDS = {
    "VARCHAR": st.one_of(st.text(max_size=12), st.sampled_from(['a"b', "", "é\x00x"])),
    "DOUBLE": st.one_of(st.floats(allow_nan=False, width=64), st.integers(-(10**9), 10**9)),
    "INTEGER": st.integers(-(2**31), 2**31 - 1),
    "BIGINT": st.integers(-(2**63), 2**63 - 1),
    "BOOLEAN": st.booleans(),
    "DATE": st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
    "TIMESTAMP": st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1)),
}
NAMES = ["clue_id", 'odd "name"', "评分", "x"]


@st.composite
def tables(draw: st.DrawFn) -> tuple[dict[str, list], dict[str, str]]:
    n = draw(st.integers(0, 8))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    types = {name: draw(st.sampled_from(sorted(KINDS))) for name in names}
    columns = {
        name: [draw(st.one_of(st.none(), KINDS[types[name]])) for _ in range(n)] for name in names
    }
    return columns, types


def stored(columns: dict[str, list], types: dict[str, str], table: object) -> list[tuple]:
    con = duckdb.connect()
    cols = ", ".join(f'"{n.replace(chr(34), chr(34) * 2)}" {types[n]}' for n in columns)
    con.execute(f"CREATE TABLE t ({cols})")
    con.register("b", table)
    con.execute("INSERT INTO t SELECT * FROM b")
    return con.execute("SELECT * FROM t").fetchall()


@settings(max_examples=150, deadline=None)
@given(table=tables())
def test_small_and_large_tables_store_the_same_rows(table: tuple) -> None:
    columns, types = table
    small = stored(columns, types, db._duckdb_table(duckdb.connect(), columns, types))
    large = stored(columns, types, db._polars_table(columns, types))
    assert small == large
    assert small == [tuple(row) for row in zip(*columns.values())]  # what was given
