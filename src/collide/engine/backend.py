"""The engine seam: everything that runs model SQL goes through one `Backend`.

A backend opens a `Session` over one model's inputs (snapshot Parquet files, Arrow tables in model
unit tests, or bare schemas when `collide check` binds a model), with collide's SQL functions
registered and the model's limits applied. The model runner (`collide.modelrun.execute`) talks to
the session only; it never imports an engine library. DuckDB (`engine/duckdb.py`) is the default
and today the only backend; a second one (Spark) is one new module plus one line in `BACKENDS`.

SQL handed to a session is DuckDB SQL (the dialect model authors write); a backend for another
engine translates it, or refuses what it cannot translate faithfully.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from collide.errors import CollideError, Problem, did_you_mean

if TYPE_CHECKING:
    import pyarrow as pa

    from collide.engine.workdays import Calendar

# one input of a session: a snapshot's data file, an Arrow table (model unit tests), or a schema
# {column: DuckDB type} for binding without data
InputData = Union[Path, "pa.Table", dict[str, str]]

# name in collide.yaml (`engine:`) → the module whose `BACKEND` implements it
BACKENDS: dict[str, str] = {
    "duckdb": "collide.engine.duckdb",
    "spark": "collide.engine.spark",  # pip install "collide[spark]"
}
DEFAULT = "duckdb"

SUBJECT_COL = "__subject_id"  # the subject column of `Session.evidence()`
SCORE_COL = "__score"  # the score column of a model's output (modelrun, clues)


def quote_ident(name: str) -> str:
    """A name as an identifier of the SQL every session reads (DuckDB's dialect)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Limits:
    """What one model may use: wall-clock seconds for the whole session (model SQL, evidence,
    unit tests alike), the engine's memory limit (a size such as "4GB"), and the folder where
    the engine may spill below that limit. None: no limit / the engine's default."""

    seconds: float | None = None
    memory: str | None = None
    spill_dir: Path | None = None


class QueryError(Exception):
    """The engine refused or failed on a query — a mistake in the SQL (or in the data it meets),
    not a bug in collide. Each backend raises its own subclass that knows how to read its
    engine's messages."""

    def problem(self, display: str, fix: str = "", line_offset: int = 0) -> Problem:
        """The error as one Problem at `display` (the model's file)."""
        first = (str(self).strip().splitlines() or [""])[0]
        return Problem(display, None, first.rstrip("!. "), fix)


class LimitExceeded(Exception):
    """A session stopped a query past one of its limits."""

    def __init__(self, limit: str, value: str):
        self.limit = limit  # the setting's name: "model_seconds" | "model_memory"
        self.value = value  # the limit as the user wrote it: "900", "4GB"
        super().__init__(f"{limit} {value}")


class Session(ABC):
    """One model's view of its inputs. Every method may raise `QueryError` (the SQL's fault) or
    `LimitExceeded`; anything else is a bug."""

    # years an add_workdays() call spanned that the holiday calendar does not cover
    uncovered_years: set[int]

    @abstractmethod
    def describe(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
        """Bind `sql` without running it: its output columns and their (DuckDB) type names."""

    @abstractmethod
    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Run `sql` (with named params bound, never pasted in) and return its rows as Arrow."""

    @abstractmethod
    def register(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table readable by later queries under `name`."""

    @abstractmethod
    def create_table(self, name: str, schema: Mapping[str, str]) -> None:
        """An empty table of the given {column: type}, for binding queries over results."""

    @abstractmethod
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
        """The evidence rows of each hit: columns `__subject_id`, `row_json` (the row as JSON) and
        `row_hash` (md5 of the JSON of `content_columns`), at most `limit` rows per subject in
        (_source_file, _source_row) order. JSON text and hash must be byte-identical across
        backends: reviews are carried over by them. `mark`: a SQL condition over the dataset row
        `d` and the hit `hit` (the model's evidence `mark:`); the rows where it holds get
        `"_hit": true` in their JSON (last key), their hash unchanged."""

    @abstractmethod
    def interrupt(self) -> None:
        """Stop the running query (from another thread)."""

    @abstractmethod
    def close(self) -> None:
        """Release the session (its spill folder included)."""

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Backend(ABC):
    """An engine collide can run models on."""

    name: str

    @abstractmethod
    def open(
        self,
        inputs: Mapping[str, InputData],
        *,
        limits: Limits | None = None,
        threads: int | None = None,
        workdays: Calendar | None = None,
    ) -> Session:
        """A session that reads only `inputs` (each under its dataset name), with collide's SQL
        functions registered (`engine.functions.sql_functions()` and add_workdays over
        `workdays`) and `limits` in force from the moment it opens."""

    @abstractmethod
    def typed_table(self, rows: list[dict[str, Any]], schema: Mapping[str, str]) -> pa.Table:
        """Rows of YAML values → an Arrow table with the schema's types (model unit tests; no
        rows: an empty frame for binding a polars rule). A value that does not convert is NULL."""


def backend(name: str = DEFAULT) -> Backend:
    """The backend called `name` (collide.yaml `engine:`)."""
    if name not in BACKENDS:
        raise CollideError(
            Problem(
                "collide.yaml",
                None,
                f'unknown engine "{name}"',
                did_you_mean(name, BACKENDS) or f"Use one of: {', '.join(BACKENDS)}",
            )
        )
    try:
        return importlib.import_module(BACKENDS[name]).BACKEND
    except ModuleNotFoundError as exc:
        if exc.name != "pyspark":
            raise
        raise CollideError(
            Problem(
                "collide.yaml",
                None,
                f'engine "{name}" needs pyspark, which is not installed',
                'Install it with `pip install "collide[spark]"` (Java 17 must be on the machine)',
            )
        ) from None
