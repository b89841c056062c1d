"""The Great Expectations adapter, and the DuckDB connection it validates on.

This is the only module in collide that imports great_expectations, sqlalchemy and duckdb_engine,
and it does so inside functions, so `import collide` stays light. Everything else in the quality
room sees plain data: expectation types and their fields, `GxResult`s, rows.

Validation runs where the data is: GX's SQL execution engine on an in-memory DuckDB connection that
holds one view over the snapshot's Parquet file, so ten million rows never enter pandas. collide's
SQL functions (`id_valid()`, `uscc_valid()`, …) are registered on that connection, so a check the
gate computes in SQL is the very function model SQL calls. GX runs with an ephemeral context (no
`gx/` folder), its progress bars and loggers silenced.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Flag",
    "GxCheck",
    "GxResult",
    "INTERNAL_FIELDS",
    "Session",
    "arg_errors",
    "count_rows",
    "expectation_fields",
    "expectation_types",
    "quote",
]

VIEW = "snapshot"
# Columns that place a row in the agency's file: every failing-row query GX writes selects them.
LOCATION = ("_source_file", "_source_row")


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --------------------------------------------------------------------------- quiet GX

_QUIET_LOCK = threading.Lock()
_quiet_state: dict[str, Any] = {"depth": 0, "saved": []}
_QUIET_LOGGERS = ("great_expectations", "duckdb_engine", "sqlalchemy")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """GX's warnings and log lines stay out of the user's terminal.

    Some GX modules set their own logger level (INFO), so lowering the parent's level is not
    enough: the parents swallow what their children propagate, and pass nothing up to root.
    Counted, so that validations running in parallel threads restore the loggers only once.
    """
    with _QUIET_LOCK:
        if _quiet_state["depth"] == 0:
            sink = logging.NullHandler()
            saved = []
            for name in _QUIET_LOGGERS:
                lg = logging.getLogger(name)
                saved.append((lg, lg.level, lg.propagate, sink))
                lg.setLevel(logging.CRITICAL)
                lg.propagate = False
                lg.addHandler(sink)
            _quiet_state["saved"] = saved
        _quiet_state["depth"] += 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        with _QUIET_LOCK:
            _quiet_state["depth"] -= 1
            if _quiet_state["depth"] == 0:
                for lg, level, propagate, sink in _quiet_state["saved"]:
                    lg.setLevel(level)
                    lg.propagate = propagate
                    lg.removeHandler(sink)
                _quiet_state["saved"] = []


# --------------------------------------------------------------------------- expectation types

_GX_TYPES: frozenset[str] | None = None

# Fields every GX expectation has that are GX's or collide's business, not a suite argument.
INTERNAL_FIELDS = frozenset(
    {
        "id",
        "meta",
        "notes",
        "result_format",
        "catch_exceptions",
        "rendered_content",
        "severity",
        "windows",
        "batch_id",
        "description",
    }
)


def expectation_types() -> frozenset[str]:
    """Every expectation type GX registers (what a suite may name besides collide's checks)."""
    global _GX_TYPES
    if _GX_TYPES is None:
        with _quiet():
            import great_expectations  # noqa: F401  (registers the core expectations)
            from great_expectations.expectations.registry import (
                list_registered_expectation_implementations,
            )

            _GX_TYPES = frozenset(list_registered_expectation_implementations())
    return _GX_TYPES


def _gx_class(etype: str) -> Any:
    with _quiet():
        from great_expectations.expectations.registry import get_expectation_impl

        return get_expectation_impl(etype)


def expectation_fields(etype: str) -> list[str]:
    """The arguments a suite may give a GX expectation type."""
    cls = _gx_class(etype)
    return [f for f in getattr(cls, "__fields__", {}) if f not in INTERNAL_FIELDS]


@dataclass(frozen=True)
class GxCheck:
    """One expectation to run: GX type and kwargs, and what collide needs to find its result."""

    index: int  # the suite entry's index: results come back keyed by it
    gx_type: str
    kwargs: dict[str, Any]
    blocking: bool
    description: str
    collide_type: str


def _expectation(check: GxCheck) -> Any:
    """The GX expectation object (raises GX's validation error on bad kwargs)."""
    cls = _gx_class(check.gx_type)
    meta = {
        "blocking": check.blocking,
        "collide_index": check.index,
        "collide_type": check.collide_type,
    }
    with _quiet():
        return cls(
            **check.kwargs,
            meta=meta,
            severity="critical" if check.blocking else "warning",
            **({"description": check.description} if check.description else {}),
        )


@dataclass(frozen=True)
class ArgError:
    """One problem GX found with an expectation's arguments."""

    key: str  # the argument ("" when GX names none)
    kind: str  # "unknown" | "missing" | "invalid"
    message: str


def arg_errors(etype: str, kwargs: dict[str, Any]) -> list[ArgError]:
    """What GX's own model of `etype` refuses in `kwargs` (one error per argument)."""
    from great_expectations.exceptions import GreatExpectationsError

    check = GxCheck(0, etype, dict(kwargs), False, "", etype)
    try:
        _expectation(check)
    except (ValueError, TypeError) as exc:  # GX's pydantic (v1) ValidationError is a ValueError
        errors = exc.errors() if hasattr(exc, "errors") else [{"loc": (), "msg": str(exc)}]
    except GreatExpectationsError as exc:  # e.g. a row_condition GX cannot parse
        errors = [{"loc": (), "msg": str(exc)}]
    else:
        return []
    out, seen = [], set()
    for err in errors:
        loc = tuple(err.get("loc") or ())
        if loc in seen:
            continue  # a union field reports one error per member; the first is the useful one
        seen.add(loc)
        kind = {"value_error.extra": "unknown", "value_error.missing": "missing"}.get(
            str(err.get("type")), "invalid"
        )
        out.append(ArgError(str(loc[0]) if loc else "", kind, str(err.get("msg", "invalid value"))))
    return out


# --------------------------------------------------------------------------- results


@dataclass
class GxResult:
    """What GX said about one expectation, as plain data."""

    success: bool
    result: dict[str, Any]  # GX's result dict (element_count, unexpected_count, observed_value…)
    error: str | None = None  # GX could not run it: the first line of its message
    # GX's own SQL for every row that breaks the expectation (map expectations only; selects
    # LOCATION, the extra columns asked for, and the expectation's columns)
    unexpected_query: str | None = None


def _errored(res: Any) -> bool:
    info = res.exception_info or {}
    if info.get("raised_exception"):
        return True
    return any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())


def _error_message(res: Any) -> str:
    info = res.exception_info or {}
    if info.get("exception_message"):
        return str(info["exception_message"])
    for v in info.values():
        if isinstance(v, dict) and v.get("exception_message"):
            return str(v["exception_message"])
    return "unknown error"


def _plain(res: Any) -> GxResult:
    if _errored(res):
        lines = _error_message(res).strip().splitlines() or ["unknown error"]
        return GxResult(False, {}, lines[0][:300])
    result = dict(res.result or {})
    query = result.pop("unexpected_index_query", None)
    query = query.strip().rstrip(";") if isinstance(query, str) and query.strip() else None
    return GxResult(bool(res.success), result, None, query)


# --------------------------------------------------------------------------- the session


@dataclass(frozen=True)
class Flag:
    """A computed column of the view: `function(column)` for one of collide's SQL functions."""

    function: str  # e.g. "id_valid" (collide.engine.functions)
    column: str


class Session:
    """One DuckDB connection with the snapshot view, shared by GX (via SQLAlchemy) and collide.

    `flags` adds computed columns to the view (name → Flag). collide's functions are Python UDFs,
    which cost about as much per DuckDB vector (2,048 rows) whatever its content, so each flag is
    computed once per distinct value, in full vectors, into a lookup table; the view column looks
    its value up, and only the queries that read the column pay for the lookup."""

    def __init__(self, data_path: Path, flags: dict[str, Flag]):
        import duckdb

        from collide.engine.duckdb import register_functions

        self.tmp = Path(tempfile.mkdtemp(prefix="collide-quality-"))
        # memory_limit keeps a 10M-row GROUP BY (uniqueness) under the 2 GB target; spills go to a
        # temp folder of ours, never next to the project (DuckDB's default is ./.tmp).
        self.con = duckdb.connect(
            config={"memory_limit": "1GB", "temp_directory": str(self.tmp / "spill")}
        )
        register_functions(self.con)
        source = _scan(data_path)
        present = {r[0] for r in self.con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        extra = ""
        for i, (name, flag) in enumerate(flags.items()):
            if flag.column not in present:
                continue  # no flag column: GX reports the expectation as not run, with why
            col, values, table = quote(flag.column), quote(f"__values_{i}"), quote(f"__flag_{i}")
            self.con.execute(
                f"CREATE TEMP TABLE {values} AS SELECT DISTINCT {col}::VARCHAR AS v "
                f"FROM {source} WHERE {col} IS NOT NULL"
            )
            self.con.execute(
                f"CREATE TEMP TABLE {table} AS SELECT v, {flag.function}(v) AS ok FROM {values}"
            )
            self.con.execute(f"DROP TABLE {values}")
            extra += f", (SELECT f.ok FROM {table} f WHERE f.v = {col}::VARCHAR) AS {quote(name)}"
        self.con.execute(f"CREATE VIEW {VIEW} AS SELECT *{extra} FROM {source}")
        self.columns = [r[0] for r in self.con.execute(f"DESCRIBE {VIEW}").fetchall()]
        self._gx_batch: Any = None

    def validate(
        self, checks: list[GxCheck], row_columns: list[str], partial: int = 0
    ) -> dict[int, GxResult]:
        """Run `checks` as one GX suite; results keyed by the check's index.

        Each map expectation's result carries GX's query for its failing rows, selecting
        LOCATION and `row_columns` (those the view has) besides the expectation's own columns.
        `partial` > 0 also asks GX for that many unexpected values (`partial_unexpected_list`)."""
        index_cols = list(dict.fromkeys(c for c in [*LOCATION, *row_columns] if c in self.columns))
        with _quiet():
            import great_expectations as gx

            suite = gx.ExpectationSuite(
                name="collide", expectations=[_expectation(c) for c in checks]
            )
            result = self._batch().validate(
                suite,
                result_format={
                    "result_format": "BASIC",
                    "partial_unexpected_count": partial,
                    "return_unexpected_index_query": True,
                    "unexpected_index_column_names": index_cols,
                },
            )
        out = {}
        for r in result.results:
            idx = (r.expectation_config.meta or {}).get("collide_index")
            if idx is not None:
                out[int(idx)] = _plain(r)
        return out

    def rows(self, sql: str, params: list[Any] | None = None) -> tuple[list[str], list[tuple]]:
        """(column names, rows) of a query on the view; ([], []) when DuckDB refuses it."""
        import duckdb

        try:
            cur = self.con.execute(sql, params or [])
            return [d[0] for d in cur.description], cur.fetchall()
        except duckdb.Error:
            return [], []

    def _batch(self) -> Any:
        """The GX batch over the view, made once per session (a GX context costs a second)."""
        if self._gx_batch is None:
            self._gx_batch = self._new_batch()
        return self._gx_batch

    def _new_batch(self) -> Any:
        import duckdb_engine
        import sqlalchemy.dialects.postgresql as pg
        from sqlalchemy.pool import StaticPool

        with _quiet():
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            class _ReadOnly(duckdb_engine.ConnectionWrapper):
                # GX reads a query's rows after closing its SQLAlchemy connection; duckdb-engine
                # would roll back its explicit transaction there and lose them (GX issues #10738,
                # #11579). Validation only reads, so DuckDB's autocommit is all we need.
                def begin(self) -> None:
                    pass

                def commit(self) -> None:
                    pass

                def rollback(self) -> None:
                    pass

                def close(self) -> None:
                    pass  # the session owns the connection; GX disposing its engine leaves it open

            ctx = gx.get_context(mode="ephemeral")
            ctx.variables.progress_bars = ProgressBarsConfig(
                globally=False, metric_calculations=False
            )
            con = self.con
            ds = ctx.data_sources.add_sql(
                name="collide",
                connection_string="duckdb:///:memory:",
                kwargs={"creator": lambda: _ReadOnly(con), "poolclass": StaticPool},
            )
            # GX knows no DuckDB dialect; DuckDB speaks PostgreSQL's regex (`~`) and types, and
            # duckdb-engine's dialect is a PostgreSQL one, so GX's PostgreSQL paths apply.
            ds.get_execution_engine().dialect_module = pg
            asset = ds.add_table_asset(name=VIEW, table_name=VIEW)
            return asset.add_batch_definition_whole_table("whole").get_batch()

    def close(self) -> None:
        import duckdb

        with contextlib.suppress(duckdb.Error):
            self.con.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _scan(data_path: Path) -> str:
    """DuckDB's read of a snapshot's data: one file, or the part files the cluster wrote."""
    from collide.snapshot_files import parquet_files

    files = ", ".join(_literal(str(p)) for p in parquet_files(data_path))
    return f"read_parquet([{files}])"


def count_rows(data_path: Path) -> int:
    """Rows of a snapshot's Parquet file (for a previous snapshot whose manifest lacks them)."""
    import duckdb

    with duckdb.connect() as con:
        return con.execute(f"SELECT count(*) FROM {_scan(data_path)}").fetchone()[0]
