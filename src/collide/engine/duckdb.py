"""The DuckDB backend: a locked-down connection per model run (`DuckDBSession`).

Each declared input is a view over its snapshot's data file (or an in-memory Arrow table in
model unit tests, or an empty typed table when binding). After the views exist, external access
is disabled except for exactly those data files (`allowed_paths`: not the snapshot folders, whose
rejects.parquet and manifest.json hold rows and names the model was not given) and the
configuration is locked, so model SQL can reach nothing but its inputs. The session's memory
limit, spill folder and watchdog are set before the lock.

This is the only module that imports duckdb for model work (the store has its own adapter).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collide.engine.backend import (
    SUBJECT_COL,
    Backend,
    InputData,
    LimitExceeded,
    Limits,
    QueryError,
    Session,
    quote_ident,
)
from collide.errors import Problem, did_you_mean

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from collide.engine.workdays import Calendar

__all__ = [
    "BACKEND",
    "DuckDBBackend",
    "DuckDBQueryError",
    "DuckDBSession",
    "duckdb_problem",
    "evidence_sql",
    "fetch_arrow",
    "params_for",
    "register_functions",
]


_quote = quote_ident


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBQueryError(QueryError):
    """DuckDB refused or failed on a query; read as a Problem at the line DuckDB points at."""

    def problem(self, display: str, fix: str = "", line_offset: int = 0) -> Problem:
        return duckdb_problem(self, display, fix, line_offset)


class DuckDBSession(Session):
    """A DuckDB connection that sees only the given inputs and collide's functions."""

    def __init__(
        self,
        inputs: Mapping[str, InputData],
        *,
        limits: Limits | None = None,
        threads: int | None = None,
        workdays: Calendar | None = None,
    ):
        import duckdb

        self.limits = limits or Limits()
        self._expired = False
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._spill: Path | None = None
        self.uncovered_years: set[int] = set()
        self.con = duckdb.connect(":memory:")
        try:
            self._lock_down(inputs, threads, workdays)
        except BaseException:
            self.close()  # no connection or spill folder left behind by a half-made session
            raise

    def _lock_down(
        self, inputs: Mapping[str, InputData], threads: int | None, workdays: Calendar | None
    ) -> None:
        """Inputs, functions and limits in place, then the door shut: external access off except
        for the inputs' data files, the configuration locked, the watchdog started."""
        import pyarrow as pa

        con = self.con
        if threads:
            con.execute(f"SET threads={int(threads)}")
        con.execute("SET autoinstall_known_extensions=false")
        con.execute("SET autoload_known_extensions=false")
        con.execute("SET python_enable_replacements=false")  # no Python variable is a table
        if self.limits.memory:
            con.execute(f"SET memory_limit={_literal(self.limits.memory)}")
        if self.limits.spill_dir is not None:
            self.limits.spill_dir.mkdir(parents=True, exist_ok=True)
            self._spill = Path(tempfile.mkdtemp(prefix="session-", dir=self.limits.spill_dir))
            con.execute(f"SET temp_directory={_literal(str(self._spill))}")
        files: set[str] = set()
        for name, src in inputs.items():
            if isinstance(src, Path):
                from collide.snapshot_files import parquet_files

                paths = [str(p.resolve()) for p in parquet_files(src)]
                scan = f"read_parquet([{', '.join(_literal(p) for p in paths)}])"
                con.execute(f"CREATE VIEW {_quote(name)} AS SELECT * FROM {scan}")
                files.update(paths)
            elif isinstance(src, pa.Table):
                con.register(f"__input_{name}", src)
                con.execute(
                    f"CREATE VIEW {_quote(name)} AS SELECT * FROM {_quote('__input_' + name)}"
                )
            else:
                self.create_table(name, src)
        register_functions(con, workdays, self.uncovered_years)
        if files:
            listed = ", ".join(_literal(f) for f in sorted(files))
            con.execute(f"SET allowed_paths=[{listed}]")
        con.execute("SET enable_external_access=false")
        con.execute("SET lock_configuration=true")
        if self.limits.seconds:
            self._timer = threading.Timer(self.limits.seconds, self._expire)
            self._timer.daemon = True
            self._timer.start()

    # ------------------------------------------------------------------ limits

    def _expire(self) -> None:
        """The watchdog: past the time limit, stop what runs and refuse what comes."""
        with self._lock:
            self._expired = True
            if self.con is not None:
                self.con.interrupt()

    def _seconds(self) -> LimitExceeded:
        return LimitExceeded("model_seconds", f"{self.limits.seconds:g}")

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """DuckDB's errors in the terms of the seam: limits, the SQL's fault, or a bug."""
        import duckdb

        if self._expired:
            raise self._seconds()
        try:
            yield
        except duckdb.InterruptException:
            if self._expired:
                raise self._seconds() from None
            raise
        except duckdb.OutOfMemoryException:
            raise LimitExceeded("model_memory", self.limits.memory or "DuckDB's default") from None
        except (duckdb.InternalException, duckdb.FatalException):
            raise  # a bug in DuckDB: not the user's to fix
        except duckdb.Error as exc:
            if "Python exception occurred while executing the UDF" in str(exc):
                raise  # a bug in one of collide's functions, not in the model's SQL
            if self._expired:  # stopped mid-way, whatever DuckDB made of the interrupt
                raise self._seconds() from None
            raise DuckDBQueryError(str(exc)) from exc

    # ------------------------------------------------------------------ the seam

    def describe(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
        with self._guard():
            rows = self.con.execute("DESCRIBE " + sql, dict(params or {})).fetchall()
        return [(r[0], r[1]) for r in rows]

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        with self._guard():
            return fetch_arrow(self.con, sql, dict(params) if params else None)

    arrow = query  # the name Sandbox had

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def create_table(self, name: str, schema: Mapping[str, str]) -> None:
        cols = ", ".join(f"{_quote(c)} {t}" for c, t in schema.items())
        with self._guard():
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {_quote(name)} ({cols})")

    def evidence(
        self,
        hits: str,
        dataset: str,
        on: Mapping[str, str],
        subject: str,
        limit: int,
        content_columns: list[str],
        mark: str | None = None,
    ) -> pa.Table:
        return self.query(evidence_sql(hits, dataset, on, subject, limit, content_columns, mark))

    def interrupt(self) -> None:
        with self._lock:
            if self.con is not None:
                self.con.interrupt()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            if self.con is not None:
                self.con.close()
                self.con = None  # type: ignore[assignment]
        if self._spill is not None:
            shutil.rmtree(self._spill, ignore_errors=True)
            self._spill = None

    def __enter__(self) -> DuckDBSession:
        return self


# kept while tests and `check_model` in other rooms still say Sandbox; use backend().open()
Sandbox = DuckDBSession


class DuckDBBackend(Backend):
    name = "duckdb"

    def open(
        self,
        inputs: Mapping[str, InputData],
        *,
        limits: Limits | None = None,
        threads: int | None = None,
        workdays: Calendar | None = None,
    ) -> DuckDBSession:
        return DuckDBSession(inputs, limits=limits, threads=threads, workdays=workdays)

    def typed_table(self, rows: list[dict[str, Any]], schema: Mapping[str, str]) -> pa.Table:
        import duckdb
        import pyarrow as pa

        raw = pa.table(
            {
                c: pa.array(
                    [None if r.get(c) is None else str(r.get(c)) for r in rows], pa.string()
                )
                for c in schema
            }
        )
        con = duckdb.connect()
        try:
            con.register("__given", raw)
            cols = ", ".join(
                f"TRY_CAST({_quote(c)} AS {t}) AS {_quote(c)}" if t != "VARCHAR" else _quote(c)
                for c, t in schema.items()
            )
            return fetch_arrow(con, f"SELECT {cols} FROM __given")
        finally:
            con.close()


BACKEND = DuckDBBackend()


def register_functions(
    con: duckdb.DuckDBPyConnection,
    workdays: Calendar | None = None,
    uncovered: set[int] | None = None,
) -> None:
    """Register collide's SQL functions on `con` (call before locking the configuration; they
    keep working afterwards since they touch no files).

    `workdays` is the project's working-day calendar (default: the built-in years); years an
    `add_workdays` call spans without a calendar are added to `uncovered`."""
    from collide.engine.functions import sql_functions

    for fn in sql_functions(workdays, uncovered):
        con.create_function(
            # name_sim's body answers behind a macro (below) under another name
            _NAME_SIM_UDF if fn.name == "name_sim" else fn.name,
            fn.body,
            list(fn.args),
            fn.returns,
            type="arrow",
            null_handling="special",
            side_effects=fn.volatile,  # evaluated once where written: see functions.py
        )
    con.execute(_name_sim_macro())


_NAME_SIM_UDF = "__name_sim_udf"


# name_sim on two names of Han characters alone — nearly every pair a fuzzy join scores — is
# DuckDB's own levenshtein (it counts characters, and the normaliser leaves such names as they
# are, unless a character folds from traditional to simplified: those names go to the UDF), 1 -
# distance / longer length exactly as rapidfuzz's normalized_similarity; any other pair goes to
# the UDF. The Python UDF holds the GIL, so this keeps a join's hot path in C++ on both cores.
# CASE hands the UDF only the rows of its branch.
def _name_sim_macro() -> str:
    from collide.engine.functions import plain_han_regex

    plain = plain_han_regex()
    return (
        "CREATE MACRO name_sim(a, b) AS CASE "
        f"WHEN regexp_full_match(a, '{plain}') AND regexp_full_match(b, '{plain}') "
        "THEN 1.0 - levenshtein(a, b) / greatest(length(a), length(b)) "
        f"ELSE {_NAME_SIM_UDF}(a, b) END"
    )


def fetch_arrow(con: Any, sql: str, params: dict[str, Any] | None = None) -> pa.Table:  # noqa: F821
    """Run `sql` and return an Arrow table without an extra copy of the rows."""
    rel = con.sql(sql, params=params or None)
    if rel is None:
        raise ValueError("statement returned no rows")
    if hasattr(rel, "to_arrow_table"):  # DuckDB >= 1.4
        return rel.to_arrow_table()
    return rel.arrow()


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


def evidence_sql(
    hits: str,
    dataset: str,
    on: Mapping[str, str],
    subject: str,
    limit: int,
    content_columns: list[str] | None = None,
    mark: str | None = None,
) -> str:
    """Evidence rows per subject, as JSON text plus a hash of their content (not provenance),
    computed inside DuckDB so that thousands of clues cost no Python loop per row. Without
    `content_columns`: the rows themselves (for binding the join in `collide check`). Every name
    is quoted: a `"` in a YAML column name cannot become SQL. `mark` (the model's evidence
    `mark:`, a condition over the dataset row `d` and the clue's output row `hit`) adds
    `"_hit": true` to the JSON of the rows that made the hit; the hash does not change."""
    q = _quote
    cond = " AND ".join(f"d.{q(dcol)} = hit.{q(ocol)}" for dcol, ocol in on.items())
    if content_columns is None:
        select = "d.*" + (f", coalesce(({mark}), false) AS __hit_row" if mark else "")
    else:
        packed = ", ".join(f"{q(c)} := d.{q(c)}" for c in content_columns) or "x := NULL"
        row_json = "to_json(d)"
        if mark:
            row_json = (
                f"CASE WHEN coalesce(({mark}), false) "
                f"""THEN json_merge_patch(to_json(d), '{{"_hit":true}}') ELSE to_json(d) END"""
            )
        select = f"{row_json} AS row_json, md5(to_json(struct_pack({packed}))) AS row_hash"
    return (
        f"SELECT CAST(hit.{q(subject)} AS VARCHAR) AS {SUBJECT_COL}, {select} FROM {hits} hit "
        f"JOIN {q(dataset)} d ON {cond} "
        f"QUALIFY row_number() OVER (PARTITION BY hit.{q(subject)} "
        f"ORDER BY d._source_file, d._source_row) <= {int(limit)} "
        f"ORDER BY {SUBJECT_COL}, d._source_file, d._source_row"
    )


# ---------------------------------------------------------------------------- parsing only

_PARSER_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _parser() -> Any:
    """A DuckDB connection used only to parse (`engine.sqlcheck`): it holds no data and can open
    no file."""
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET autoinstall_known_extensions=false")
    con.execute("SET autoload_known_extensions=false")
    con.execute("SET enable_external_access=false")
    con.execute("SET lock_configuration=true")
    return con


def parse_statements(sql: str) -> list[str]:
    """The type of each statement DuckDB reads in `sql` (e.g. "StatementType.SELECT_STATEMENT");
    a syntax error is a `DuckDBQueryError`."""
    import duckdb

    try:
        with _PARSER_LOCK:
            return [str(s.type) for s in _parser().extract_statements(sql)]
    except duckdb.Error as exc:
        raise DuckDBQueryError(str(exc)) from exc


def serialize_sql(sql: str) -> dict[str, Any]:
    """DuckDB's own parse tree of `sql` (`json_serialize_sql`), as a dict."""
    import json

    with _PARSER_LOCK:
        text = _parser().execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0]
    return json.loads(text)


def plain_connection() -> Any:
    """A new in-memory DuckDB connection (for `python -m collide.engine.sqlcheck`, which lists
    DuckDB's functions)."""
    import duckdb

    return duckdb.connect()


def evidence_from_rows(rows: pa.Table, columns: list[str], content_columns: list[str]) -> pa.Table:  # noqa: F821
    """`Session.evidence()`'s JSON and hash for evidence rows another engine fetched: `rows` has
    the subject column, then the dataset's `columns` with the snapshot's types. DuckDB writes the
    JSON, as it does for its own evidence, so the text and hashes are byte-identical whichever
    engine found the rows."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.execute("SET enable_external_access=false")
        con.register("__found", rows)
        row = ", ".join(f"{_quote(c)} := d.{_quote(c)}" for c in columns)
        packed = ", ".join(f"{_quote(c)} := d.{_quote(c)}" for c in content_columns) or "x := NULL"
        row_json = f"to_json(struct_pack({row}))"
        if "__hit_row" in rows.column_names:  # the model's evidence mark: (see evidence_sql)
            row_json = (
                f"CASE WHEN d.__hit_row THEN json_merge_patch({row_json}, "
                f"""'{{"_hit":true}}') ELSE {row_json} END"""
            )
        return fetch_arrow(
            con,
            f"SELECT {SUBJECT_COL}, {row_json} AS row_json, "
            f"md5(to_json(struct_pack({packed}))) AS row_hash FROM __found d "
            f"ORDER BY {SUBJECT_COL}, d._source_file, d._source_row",
        )
    finally:
        con.close()
