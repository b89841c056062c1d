"""The DuckDB adapter: a locked-down connection per model run.

Each declared input is a view over its snapshot's Parquet file (or an in-memory Arrow table in
model unit tests, or an empty typed table when binding). After the views exist, external access
is disabled except for the inputs' own data files (not the snapshot folders around them, which
hold rejected rows and manifests), Python replacement scans are off and the configuration is
locked, so model SQL can reach nothing but its inputs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Union

from collide.errors import Problem, did_you_mean

InputData = Union[Path, "pa.Table", dict]  # noqa: F821  (parquet file, Arrow table, or schema)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Sandbox:
    """A DuckDB connection that sees only the given inputs and the engine's functions."""

    def __init__(self, inputs: dict[str, Any], *, threads: int | None = None, workdays: Any = None):
        import duckdb
        import pyarrow as pa

        self.con = duckdb.connect(":memory:")
        if threads:
            self.con.execute(f"SET threads={int(threads)}")
        self.con.execute("SET autoinstall_known_extensions=false")
        self.con.execute("SET autoload_known_extensions=false")
        dirs: set[str] = set()
        for name, src in inputs.items():
            if isinstance(src, Path):
                source = f"read_parquet({_literal(str(src))})"
                self.con.execute(f"CREATE VIEW {_quote(name)} AS SELECT * FROM {source}")
                dirs.add(str(src.resolve()))  # the data file only, not its snapshot folder
            elif isinstance(src, pa.Table):
                self.con.register(f"__input_{name}", src)
                self.con.execute(
                    f"CREATE VIEW {_quote(name)} AS SELECT * FROM {_quote('__input_' + name)}"
                )
            else:
                cols = ", ".join(f"{_quote(c)} {t}" for c, t in src.items())
                self.con.execute(f"CREATE TABLE {_quote(name)} ({cols})")
        from collide.engine.functions import register_functions

        # years an add_workdays() call spanned that the holiday calendar does not cover
        self.uncovered_years: set[int] = set()
        register_functions(self.con, workdays, self.uncovered_years)
        if dirs:
            listed = ", ".join(_literal(d) for d in sorted(dirs))
            self.con.execute(f"SET allowed_paths=[{listed}]")
        # no name in model SQL may turn into a Python variable of the calling code
        self.con.execute("SET python_enable_replacements=false")
        self.con.execute("SET enable_external_access=false")
        self.con.execute("SET lock_configuration=true")

    def describe(self, sql: str, params: dict[str, Any]) -> list[tuple[str, str]]:
        rows = self.con.execute("DESCRIBE " + sql, params).fetchall()
        return [(r[0], r[1]) for r in rows]

    def arrow(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table:  # noqa: F821
        return fetch_arrow(self.con, sql, params)

    def register(self, name: str, table: Any) -> None:
        self.con.register(name, table)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def fetch_arrow(con: Any, sql: str, params: dict[str, Any] | None = None) -> pa.Table:  # noqa: F821
    """Run `sql` and return an Arrow table without an extra copy of the rows."""
    rel = con.sql(sql, params=params or None)
    if rel is None:
        raise ValueError("statement returned no rows")
    if hasattr(rel, "to_arrow_table"):  # DuckDB >= 1.4
        return rel.to_arrow_table()
    return rel.arrow()


def one(result: Any) -> tuple | None:
    """First row of a result, reading it to the end (DuckDB 2 refuses new work on a connection
    while a result is only partly fetched)."""
    rows = result.fetchall()
    return rows[0] if rows else None


_LINE_RE = re.compile(r"LINE (\d+):")


def duckdb_problem(exc: Exception, display: str, fix: str = "", line_offset: int = 0) -> Problem:
    """A DuckDB error as one Problem at the SQL line DuckDB points at."""
    text = str(exc)
    m = _LINE_RE.search(text)
    line = int(m.group(1)) - line_offset if m else None
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    main = lines[0] if lines else text
    main = re.sub(r"^[A-Za-z ]*Error: ", "", main)
    where = line if line and line > 0 else None
    col = re.match(r'Referenced column "([^"]+)" not found', main)
    if col:
        cands = re.findall(r'"([^"]+)"', " ".join(ln for ln in lines if ln.startswith("Candidate")))
        hint = did_you_mean(col.group(1), [c.split(".")[-1] for c in cands])
        return Problem(
            display,
            where,
            f'unknown column "{col.group(1)}"',
            (hint + " " if hint.startswith("Did") else "") + fix,
        )
    fn = re.match(r'(?:Scalar|Table|Aggregate) Function with name "?([\w]+)"? does not exist', main)
    if fn:
        from collide.engine.functions import FUNCTIONS

        m = re.search(r'Did you mean "([^"]+)"', text)
        ours = did_you_mean(fn.group(1), [f[0] for f in FUNCTIONS])
        hint = ours if ours.startswith("Did") else (f'Did you mean "{m.group(1)}"?' if m else "")
        return Problem(
            display,
            where,
            f'unknown function "{fn.group(1)}"',
            (hint + " " if hint else "") + "See the function list in the README",
        )
    extra = [ln for ln in lines[1:] if ln.startswith("Candidate") or ln.startswith("Did you mean")]
    if extra:
        main += " " + " ".join(extra)
    return Problem(display, where, main.rstrip("!. "), fix)


def params_for(sql_params: list[str], values: dict[str, Any]) -> dict[str, Any]:
    """Only the params the SQL actually uses (DuckDB refuses extra ones)."""
    return {p: values.get(p) for p in sql_params}
