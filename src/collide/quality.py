"""Data-quality gate: check a dataset's snapshot against its expectation suite before models run.

A suite is `expectations/<dataset>.yaml`, a list of Great Expectations (GX Core 1.x) expectations a
data clerk can write by hand, plus a few collide checks that need context GX does not have (the
previous snapshot, the run date, the ID checksums). Every check — collide's too — runs through GX:
the collide checks are translated into GX expectations with bounds computed at run time.

Validation runs where the data is: GX's SQL execution engine on an in-memory DuckDB connection that
holds one view over the snapshot's Parquet file, so ten million rows never enter pandas. GX is used
with an ephemeral context (no `gx/` folder), its progress bars and loggers silenced; the results are
turned into `QualityReport`s written by us. Failing-row samples (with `_source_file`/`_source_row`,
so the clerk can send them back to the agency) come from our own DuckDB query on the same view.

This is the only module that imports great_expectations, and only inside functions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import difflib
import logging
import math
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collide.config.yamlio import LocatedYaml, load_yaml
from collide.errors import CollideError, Problem, Problems, did_you_mean

if TYPE_CHECKING:
    from collide.config.catalog import Connector

__all__ = [
    "COLLIDE_TYPES",
    "ExpectationOutcome",
    "QualityReport",
    "check_suites",
    "load_suite",
    "validate_dataset",
]

SAMPLE_ROWS = 20
VIEW = "snapshot"

# --------------------------------------------------------------------------- results


@dataclass
class ExpectationOutcome:
    expectation: str  # suite type as written, e.g. "expect_column_values_to_not_be_null"
    column: str | None
    kwargs: dict  # the GX kwargs that ran (collide checks: with their computed bounds)
    blocking: bool
    success: bool
    observed: str  # "12.0% invalid (120 of 1000)"
    description_zh: str  # "身份证号校验有效比例应不低于95%，实际88.0%"
    failing_rows: list[dict] = field(default_factory=list)  # ≤ 20, with _source_file/_source_row
    gx_type: str = ""  # the GX expectation that ran (differs from `expectation` for collide checks)
    line: int | None = None  # line of the entry in the suite file


@dataclass
class QualityReport:
    dataset_id: str
    snapshot_id: str
    status: str  # "pass" | "warn" | "fail" (fail = a blocking expectation failed)
    outcomes: list[ExpectationOutcome]
    seconds: float
    suite: str | None = None  # project-relative suite file, None when the default suite ran

    def warnings_zh(self) -> list[str]:
        """Failed warning-level expectations, in Chinese, for the clues built on this dataset."""
        return [o.description_zh for o in self.outcomes if not o.success and not o.blocking]

    def failures_zh(self) -> list[str]:
        """Failed blocking expectations, in Chinese (why the dataset's models were skipped)."""
        return [o.description_zh for o in self.outcomes if not o.success and o.blocking]

    def to_dict(self) -> dict:
        return _jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> QualityReport:
        """The inverse of to_dict (dates in kwargs stay ISO text: they are only shown)."""
        outcomes = [ExpectationOutcome(**o) for o in data["outcomes"]]
        return cls(**{**data, "outcomes": outcomes})


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


# --------------------------------------------------------------------------- suite files

# collide's own checks: type → (allowed keys, required keys, does it take a column)
COLLIDE_TYPES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "row_count_vs_previous": (frozenset({"min_ratio", "max_ratio"}), frozenset()),
    "freshness": (frozenset({"column", "max_age_days"}), frozenset({"column", "max_age_days"})),
    "not_in_future": (frozenset({"column", "mostly"}), frozenset({"column"})),
    "valid_id_rate": (frozenset({"column", "mostly", "kind"}), frozenset({"column"})),
    "required_columns": (frozenset({"columns"}), frozenset()),
    "rejected_share": (frozenset({"max_share"}), frozenset()),
}
# keys of a suite entry that are collide's, not the expectation's
ENTRY_KEYS = ("type", "blocking", "description")
TOP_KEYS = ("dataset", "description", "expectations")
DATE_TYPES = ("DATE", "TIMESTAMP")
ID_KINDS = ("cn_id", "cn_uscc")


@dataclass
class SuiteEntry:
    """One expectation of a suite file, checked against GX and the dataset's columns."""

    index: int
    type: str
    args: dict[str, Any]  # everything but type/blocking/description
    blocking: bool
    description: str
    line: int

    @property
    def column(self) -> str | None:
        col = self.args.get("column")
        return col if isinstance(col, str) else None


@dataclass
class Suite:
    dataset: str
    display: str | None
    entries: list[SuiteEntry]


def default_suite(connector: Connector) -> Suite:
    """What runs when a dataset has no suite file: its columns exist and its keys are filled."""
    spec = connector.spec
    entries = [
        SuiteEntry(0, "required_columns", {}, True, "", 0),
        SuiteEntry(1, "rejected_share", {"max_share": 0.2}, True, "", 0),
    ]
    for k in spec.keys:
        entries.append(
            SuiteEntry(
                len(entries), "expect_column_values_to_not_be_null", {"column": k}, True, "", 0
            )
        )
    return Suite(spec.id, None, entries)


def load_suite(
    path: Path,
    display: str,
    connector: Connector | None,
    connectors: dict[str, Connector] | None = None,
) -> tuple[Suite | None, list[Problem]]:
    """Parse and check one suite file; every problem is returned with its line, none raised."""
    problems = Problems()
    try:
        doc = load_yaml(path, display)
    except CollideError as exc:
        return None, list(exc.problems)
    data = doc.data
    if not isinstance(data, dict):
        problems.add(
            display,
            1,
            "expected a mapping with `dataset` and `expectations`",
            "See docs/quality.md for the suite format",
        )
        return None, problems.items
    for key in data:
        if key not in TOP_KEYS:
            problems.add(
                display,
                doc.line_of((key,)),
                f'unknown key "{key}"',
                did_you_mean(str(key), TOP_KEYS) or "Remove it",
            )
    dataset = data.get("dataset")
    if not isinstance(dataset, str) or not dataset:
        problems.add(
            display,
            doc.line_of(("dataset",)),
            'missing required key "dataset"',
            f"Add `dataset: {path.stem}`",
        )
        return None, problems.items
    if dataset != path.stem:
        problems.add(
            display,
            doc.line_of(("dataset",)),
            f'dataset "{dataset}" differs from the file name "{path.stem}"',
            f"Rename the file to {dataset}.yaml or set dataset: {path.stem}",
        )
    if connector is None and connectors is not None:
        connector = connectors.get(dataset)
        if connector is None:
            problems.add(
                display,
                doc.line_of(("dataset",)),
                f'suite for unknown dataset "{dataset}"',
                did_you_mean(dataset, connectors) or f"Add connectors/{dataset}.yaml",
            )
    exps = data.get("expectations")
    if not isinstance(exps, list):
        problems.add(
            display,
            doc.line_of(("expectations",)),
            "`expectations` must be a list of checks, each starting with `- type:`",
            "See docs/quality.md for the suite format",
        )
        return None, problems.items
    entries = []
    for i, raw in enumerate(exps):
        entry = _entry(i, raw, doc, display, connector, problems)
        if entry is not None:
            entries.append(entry)
    return Suite(dataset, display, entries), problems.items


def _entry(
    i: int,
    raw: Any,
    doc: LocatedYaml,
    display: str,
    connector: Connector | None,
    problems: Problems,
) -> SuiteEntry | None:
    at = ("expectations", i)
    line = doc.line_of(at)
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        problems.add(
            display,
            line,
            f"expectation {i + 1} has no `type`",
            "Start each check with `- type: expect_...`",
        )
        return None
    etype = raw["type"]
    blocking = raw.get("blocking", False)
    if not isinstance(blocking, bool):
        problems.add(
            display,
            doc.line_of(at + ("blocking",)),
            "`blocking` must be true or false",
            "Write blocking: true (stop the models) or blocking: false (warn)",
        )
        blocking = False
    description = raw.get("description") or ""
    args = {k: v for k, v in raw.items() if k not in ENTRY_KEYS}
    entry = SuiteEntry(i, etype, args, blocking, str(description), doc.line_of(at + ("type",)))
    known = _gx_types()
    if etype in COLLIDE_TYPES:
        ok = _check_collide_args(entry, doc, display, connector, problems)
    elif etype in known:
        ok = _check_gx_args(entry, doc, display, problems)
    else:
        problems.add(
            display,
            entry.line,
            f'unknown expectation type "{etype}"',
            did_you_mean(etype, [*known, *COLLIDE_TYPES]) or "See docs/quality.md for the list",
        )
        return None
    if connector is not None:
        ok = _check_columns(entry, doc, display, connector, problems) and ok
    return entry if ok else None


def _check_collide_args(
    entry: SuiteEntry,
    doc: LocatedYaml,
    display: str,
    connector: Connector | None,
    problems: Problems,
) -> bool:
    at = ("expectations", entry.index)
    allowed, required = COLLIDE_TYPES[entry.type]
    ok = True
    for key in entry.args:
        if key not in allowed:
            problems.add(
                display,
                doc.line_of(at + (key,)),
                f'unknown key "{key}" for {entry.type}',
                did_you_mean(key, [*allowed, *ENTRY_KEYS]) or "Remove it",
            )
            ok = False
    for key in sorted(required - entry.args.keys()):
        problems.add(display, entry.line, f'{entry.type} needs "{key}"', f"Add `{key}:`")
        ok = False

    def number(key: str, lo: float, hi: float | None, integer: bool = False) -> None:
        nonlocal ok
        if key not in entry.args:
            return
        v = entry.args[key]
        good = isinstance(v, int if integer else (int, float)) and not isinstance(v, bool)
        if not good or v < lo or (hi is not None and v > hi):
            rng = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
            kind = "a whole number" if integer else "a number"
            problems.add(
                display, doc.line_of(at + (key,)), f"{key} must be {kind} {rng}", f"Got {v!r}"
            )
            ok = False

    number("max_share", 0, 1)
    number("min_ratio", 0, None)
    number("max_ratio", 0, None)
    number("mostly", 0, 1)
    number("max_age_days", 0, None, integer=True)
    if "kind" in entry.args and entry.args["kind"] not in ID_KINDS:
        problems.add(
            display,
            doc.line_of(at + ("kind",)),
            f"kind must be one of {', '.join(ID_KINDS)}",
            "Use cn_id for resident IDs, cn_uscc for credit codes",
        )
        ok = False
    cols = entry.args.get("columns")
    if cols is not None and not (isinstance(cols, list) and all(isinstance(c, str) for c in cols)):
        problems.add(
            display,
            doc.line_of(at + ("columns",)),
            "columns must be a list of names",
            "Write columns: [id_number, person_name]",
        )
        ok = False
    if ok and connector is not None and entry.column in connector.spec.schema():
        col, schema = entry.column, connector.spec.schema()
        if entry.type in ("freshness", "not_in_future") and schema[col] not in DATE_TYPES:
            problems.add(
                display,
                doc.line_of(at + ("column",)),
                f'{entry.type} needs a date column, "{col}" is {schema[col]}',
                "Pick a column of type date or datetime in the connector",
            )
            ok = False
        if entry.type == "valid_id_rate" and "kind" not in entry.args:
            spec = connector.spec.columns.get(col)
            if spec is None or spec.type not in ID_KINDS:
                problems.add(
                    display,
                    doc.line_of(at + ("column",)),
                    f'valid_id_rate needs an ID column, "{col}" is not cn_id or cn_uscc',
                    "Set kind: cn_id or kind: cn_uscc, or pick the ID column",
                )
                ok = False
    return ok


def _check_gx_args(entry: SuiteEntry, doc: LocatedYaml, display: str, problems: Problems) -> bool:
    try:
        _gx_expectation(entry, entry.type, entry.args)
    except (ValueError, TypeError) as exc:  # GX's pydantic (v1) ValidationError is a ValueError
        errors = exc.errors() if hasattr(exc, "errors") else [{"loc": (), "msg": str(exc)}]
        extras = [
            str(e["loc"][0])
            for e in errors
            if e.get("type") == "value_error.extra" and e.get("loc")
        ]
        seen = set()
        for err in errors:
            loc = tuple(err.get("loc") or ())
            if loc in seen:
                continue  # a union field reports one error per member; the first is the useful one
            seen.add(loc)
            key = str(loc[0]) if loc else ""
            line = doc.line_of(("expectations", entry.index, key)) if key else entry.line
            if err.get("type") == "value_error.extra":
                fields = _gx_fields(entry.type)
                problems.add(
                    display,
                    line,
                    f'unknown key "{key}" for {entry.type}',
                    did_you_mean(key, [*fields, *ENTRY_KEYS]) or "Remove it",
                )
            elif err.get("type") == "value_error.missing":
                if difflib.get_close_matches(key, extras, n=1, cutoff=0.6):
                    continue  # the misspelt key is reported as unknown, with this name suggested
                problems.add(display, entry.line, f'{entry.type} needs "{key}"', f"Add `{key}:`")
            else:
                what = f"{key}: " if key else ""
                problems.add(
                    display,
                    line,
                    f"{what}{err.get('msg', 'invalid value')}",
                    f"See the GX documentation of {entry.type}",
                )
        return False
    return True


def _entry_columns(entry: SuiteEntry) -> list[tuple[tuple[Any, ...], str]]:
    """(key path inside the entry, column name) for every column the entry names."""
    out = []
    for key in ("column", "column_A", "column_B"):
        if isinstance(entry.args.get(key), str):
            out.append(((key,), entry.args[key]))
    for key in ("column_list", "columns", "column_set"):
        vals = entry.args.get(key)
        if isinstance(vals, list):
            out.extend(((key, j), c) for j, c in enumerate(vals) if isinstance(c, str))
    return out


def _check_columns(
    entry: SuiteEntry, doc: LocatedYaml, display: str, connector: Connector, problems: Problems
) -> bool:
    schema = connector.spec.schema()
    ok = True
    for key, col in _entry_columns(entry):
        if col not in schema:
            problems.add(
                display,
                doc.line_of(("expectations", entry.index, *key)),
                f'column "{col}" is not in dataset "{connector.spec.id}"',
                did_you_mean(col, schema),
            )
            ok = False
    return ok


def check_suites(
    root: Path, expectations_dir: Path, connectors: dict[str, Connector]
) -> list[Problem]:
    """Problems in every suite file (`collide check`), each at its file and line."""
    if not expectations_dir.is_dir():
        return []
    out: list[Problem] = []
    for path in sorted(expectations_dir.glob("*.y*ml")):
        display = _rel(root, path)
        _, problems = load_suite(path, display, None, connectors)
        out.extend(problems)
    others = sorted(p for p in expectations_dir.glob("*.json"))
    for path in others:
        out.append(
            Problem(
                _rel(root, path),
                None,
                "suites are written in YAML",
                f"Rewrite it as {path.stem}.yaml (see docs/quality.md)",
            )
        )
    return out


def _rel(root: Path, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- GX adapter


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


_GX_TYPES: frozenset[str] | None = None


def _gx_types() -> frozenset[str]:
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


def _gx_fields(etype: str) -> list[str]:
    cls = _gx_class(etype)
    internal = {
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
    return [f for f in getattr(cls, "__fields__", {}) if f not in internal]


def _gx_expectation(entry: SuiteEntry, gx_type: str, kwargs: dict[str, Any]) -> Any:
    """The GX expectation object for `entry` (raises GX's validation error on bad kwargs)."""
    cls = _gx_class(gx_type)
    meta = {"blocking": entry.blocking, "collide_index": entry.index, "collide_type": entry.type}
    with _quiet():
        return cls(
            **kwargs,
            meta=meta,
            severity="critical" if entry.blocking else "warning",
            **({"description": entry.description} if entry.description else {}),
        )


class _Session:
    """One DuckDB connection with the snapshot view, shared by GX (via SQLAlchemy) and us."""

    def __init__(self, data_path: Path, derived: dict[str, str]):
        import duckdb

        self.tmp = Path(tempfile.mkdtemp(prefix="collide-quality-"))
        # memory_limit keeps a 10M-row GROUP BY (uniqueness) under the 2 GB target; spills go to a
        # temp folder of ours, never next to the project (DuckDB's default is ./.tmp).
        self.con = duckdb.connect(
            config={"memory_limit": "1GB", "temp_directory": str(self.tmp / "spill")}
        )
        self.con.execute(_ID_MACROS)
        extra = "".join(f", {expr} AS {_q(name)}" for name, expr in derived.items())
        self.con.execute(
            f"CREATE VIEW {VIEW} AS SELECT *{extra} FROM read_parquet({_lit(str(data_path))})"
        )

    def batch(self) -> Any:
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
        with contextlib.suppress(Exception):
            self.con.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_ID_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_USCC_W = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Checksums as DuckDB macros: the snapshot keeps IDs normalised (18 characters, upper case), so the
# rate of valid IDs is a scan, not a Python loop. Same rules as collide.ingest.semantic
# (GB 11643 MOD 11-2, GB 32100 MOD 31), without the birth-date check.
_ID_MACROS = (
    "CREATE MACRO collide_cn_id_valid(s) AS (regexp_full_match(s, '[0-9]{17}[0-9X]') AND "
    "substr('10X98765432', (("
    + " + ".join(f"(ascii(s[{i + 1}]) - 48) * {w}" for i, w in enumerate(_ID_W))
    + ") % 11)::INTEGER + 1, 1) = s[18]);\n"
    "CREATE MACRO collide_uscc_valid(s) AS (regexp_full_match(s, '[0-9A-HJ-NPQRTUWXY]{18}') AND "
    f"substr('{_USCC_ALPHABET}', ((31 - ("
    + " + ".join(
        f"(instr('{_USCC_ALPHABET}', s[{i + 1}]) - 1) * {w}" for i, w in enumerate(_USCC_W)
    )
    + ") % 31) % 31)::INTEGER + 1, 1) = s[18]);"
)


# --------------------------------------------------------------------------- validation


@dataclass
class _Planned:
    entry: SuiteEntry
    gx_type: str
    kwargs: dict[str, Any]  # GX kwargs that run
    context: dict[str, Any]  # numbers for the observed text and the Chinese line


def validate_dataset(
    connector: Connector,
    suite_path: Path | None,
    snapshot: Any,
    previous: Any | None,
    run_date: dt.date,
) -> QualityReport:
    """Validate `snapshot` against the dataset's suite (or the default suite when there is none)."""
    t0 = time.perf_counter()
    if suite_path is not None:
        display = _display(connector, suite_path)
        suite, problems = load_suite(suite_path, display, connector)
        if problems:
            raise CollideError(problems)
        assert suite is not None
    else:
        suite = default_suite(connector)
    data_path = Path(snapshot.data_path)
    if not data_path.is_file():
        raise CollideError(
            Problem(
                str(data_path),
                None,
                "snapshot data file is missing",
                f"Run `collide ingest {connector.spec.id}` again",
            )
        )
    plans, derived = _plan(suite, connector, previous, run_date, snapshot)
    session = _Session(data_path, derived)
    try:
        results = _run_gx(session, plans)
        outcomes = []
        for plan in plans:
            res = results.get(plan.entry.index)
            outcome = _outcome(plan, res, connector)
            if not outcome.success and res is not None and not _errored(res):
                outcome.failing_rows = (
                    _reject_samples(session, snapshot)
                    if plan.entry.type == "rejected_share"
                    else _samples(session, plan)
                )
            outcomes.append(outcome)
    finally:
        session.close()
    if any(not o.success and o.blocking for o in outcomes):
        status = "fail"
    elif any(not o.success for o in outcomes):
        status = "warn"
    else:
        status = "pass"
    return QualityReport(
        connector.spec.id,
        str(snapshot.snapshot_id),
        status,
        outcomes,
        round(time.perf_counter() - t0, 3),
        suite.display,
    )


def _display(connector: Connector, suite_path: Path) -> str:
    # `connector.display` is relative to the project root: climb that many folders.
    depth = len(Path(connector.display).parts)
    root = Path(connector.path).resolve().parents[depth - 1]
    return _rel(root, suite_path)


def _rows(snapshot: Any) -> int:
    manifest = getattr(snapshot, "manifest", None) or {}
    if isinstance(manifest.get("rows_loaded"), int):
        return manifest["rows_loaded"]
    import duckdb

    with duckdb.connect() as con:
        return con.execute(
            f"SELECT count(*) FROM read_parquet({_lit(str(snapshot.data_path))})"
        ).fetchone()[0]


def _plan(
    suite: Suite,
    connector: Connector,
    previous: Any | None,
    run_date: dt.date,
    snapshot: Any = None,
) -> tuple[list[_Planned], dict[str, str]]:
    """Translate suite entries into GX expectations, with run-time bounds for collide's checks."""
    schema = connector.spec.schema()
    plans: list[_Planned] = []
    derived: dict[str, str] = {}
    for e in suite.entries:
        a, ctx = dict(e.args), {}
        if e.type == "row_count_vs_previous":
            min_ratio, max_ratio = a.get("min_ratio", 0.1), a.get("max_ratio")
            if previous is None:
                kw = {"min_value": 0}
                ctx = {"previous": None}
            else:
                prev = _rows(previous)
                kw = {"min_value": math.ceil(prev * min_ratio)}
                if max_ratio is not None:
                    kw["max_value"] = math.floor(prev * max_ratio)
                ctx = {
                    "previous": prev,
                    "previous_snapshot": str(previous.snapshot_id),
                    "min_ratio": min_ratio,
                    "max_ratio": max_ratio,
                }
            plans.append(_Planned(e, "expect_table_row_count_to_be_between", kw, ctx))
        elif e.type == "freshness":
            col, days = a["column"], a["max_age_days"]
            since: dt.date | dt.datetime = run_date - dt.timedelta(days=days)
            if schema.get(col) == "TIMESTAMP":
                since = dt.datetime.combine(since, dt.time())
            plans.append(
                _Planned(
                    e,
                    "expect_column_max_to_be_between",
                    {"column": col, "min_value": since},
                    {"days": days, "since": since, "run_date": run_date},
                )
            )
        elif e.type == "not_in_future":
            col = a["column"]
            until: dt.date | dt.datetime = run_date
            if schema.get(col) == "TIMESTAMP":
                until = dt.datetime.combine(run_date, dt.time.max)
            kw = {"column": col, "max_value": until}
            if "mostly" in a:
                kw["mostly"] = a["mostly"]
            plans.append(
                _Planned(e, "expect_column_values_to_be_between", kw, {"run_date": run_date})
            )
        elif e.type == "valid_id_rate":
            col = a["column"]
            spec = connector.spec.columns.get(col)
            kind = a.get("kind") or (spec.type if spec is not None else "cn_id")
            flag = f"_valid_{col}"
            fn = "collide_cn_id_valid" if kind == "cn_id" else "collide_uscc_valid"
            derived[flag] = f"{fn}({_q(col)}::VARCHAR)"
            kw = {"column": flag, "value_set": [True], "mostly": a.get("mostly", 1.0)}
            plans.append(
                _Planned(e, "expect_column_values_to_be_in_set", kw, {"kind": kind, "flag": flag})
            )
        elif e.type == "rejected_share":
            # Rows rejected at ingest (a required or key value missing or unusable) never reach
            # the snapshot, so a column check cannot see them: bound the loaded rows instead.
            man = getattr(snapshot, "manifest", None) or {}
            read = int(man.get("rows_read") or 0)
            max_share = a.get("max_share", 0.05)
            kw = {"min_value": math.ceil(read * (1 - max_share))}
            ctx = {
                "rows_read": read,
                "rows_rejected": int(man.get("rows_rejected") or 0),
                "max_share": max_share,
            }
            plans.append(_Planned(e, "expect_table_row_count_to_be_between", kw, ctx))
        elif e.type == "required_columns":
            cols = a.get("columns") or list(connector.spec.columns)
            plans.append(
                _Planned(
                    e,
                    "expect_table_columns_to_match_set",
                    {"column_set": list(cols), "exact_match": False},
                    {},
                )
            )
        else:
            plans.append(_Planned(e, e.type, a, {}))
    return plans, derived


def _run_gx(session: _Session, plans: list[_Planned]) -> dict[int, Any]:
    """Run all expectations as one GX suite; results keyed by the entry's index."""
    with _quiet():
        import great_expectations as gx

        expectations = [_gx_expectation(p.entry, p.gx_type, dict(p.kwargs)) for p in plans]
        suite = gx.ExpectationSuite(name="collide", expectations=expectations)
        batch = session.batch()
        result = batch.validate(
            suite, result_format={"result_format": "BASIC", "partial_unexpected_count": 0}
        )
    out = {}
    for r in result.results:
        idx = (r.expectation_config.meta or {}).get("collide_index")
        if idx is not None:
            out[int(idx)] = r
    return out


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


# --------------------------------------------------------------------------- wording


def _pct(x: float) -> str:
    return f"{x:.1f}%"


def _label(connector: Connector, col: str | None) -> str:
    """The agency's own header for a column (what a reviewer recognises), else its name."""
    if col is None:
        return ""
    spec = connector.spec.columns.get(col)
    if spec is not None and spec.from_:
        return spec.from_[0]
    return col


def _outcome(plan: _Planned, res: Any, connector: Connector) -> ExpectationOutcome:
    e = plan.entry
    column = e.column
    base = {
        "expectation": e.type,
        "column": column,
        "kwargs": _jsonable(plan.kwargs),
        "blocking": e.blocking,
        "gx_type": plan.gx_type,
        "line": e.line or None,
    }
    if res is None or _errored(res):
        msg = _error_message(res) if res is not None else "not run"
        short = msg.splitlines()[0][:300]
        zh = f"{_prefix(e, connector)}无法执行：{short}"
        return ExpectationOutcome(
            **base, success=False, observed=f"error: {short}", description_zh=zh
        )
    r = dict(res.result or {})
    observed, zh = _words(plan, r, bool(res.success), connector)
    return ExpectationOutcome(
        **base, success=bool(res.success), observed=observed, description_zh=zh
    )


def _prefix(e: SuiteEntry, connector: Connector) -> str:
    return (
        f"{e.description}："
        if e.description
        else (f"{_label(connector, e.column)}" if e.column else "")
    )


def _words(plan: _Planned, r: dict, success: bool, connector: Connector) -> tuple[str, str]:
    """(observed, description_zh) for one result."""
    e, kw, ctx = plan.entry, plan.kwargs, plan.context
    label = _label(connector, e.column)
    lead = f"{e.description}：" if e.description else ""
    n = r.get("element_count")
    u = r.get("unexpected_count")
    missing = r.get("missing_count") or 0
    mostly = kw.get("mostly")
    strict = mostly is None or mostly >= 1
    need = "为100%" if strict else f"不低于{mostly * 100:g}%"
    if e.type == "row_count_vs_previous":
        rows = r.get("observed_value")
        prev = ctx.get("previous")
        if prev is None:
            return (
                f"{rows} rows (no previous snapshot to compare)",
                f"{lead}本期{rows}行（无上期快照，未比较行数）",
            )
        lo = kw.get("min_value")
        hi = kw.get("max_value")
        ratio = f"{rows / prev * 100:.1f}%" if prev else "—"
        bound = f"至少{lo}行" + (f"、至多{hi}行" if hi is not None else "")
        return (
            (
                f"{rows} rows, {ratio} of the previous snapshot's {prev} "
                f"(allowed {lo}{'–' + str(hi) if hi is not None else '+'})"
            ),
            (
                f"{lead}行数应不少于上期的{_pct(ctx['min_ratio'] * 100)}（上期{prev}行，{bound}），"
                f"实际{rows}行（为上期的{ratio}）"
            ),
        )
    if e.type == "rejected_share":
        read, rej, share = ctx["rows_read"], ctx["rows_rejected"], ctx["max_share"]
        pct = rej / read * 100 if read else 0.0
        return (
            f"{rej} of {read} rows rejected at ingest ({_pct(pct)}; allowed {_pct(share * 100)})",
            f"{lead}入库时被拒收的行应不超过{_pct(share * 100)}，"
            f"实际拒收{rej}行（{_pct(pct)}，共读入{read}行）",
        )
    if e.type == "freshness":
        latest = r.get("observed_value")
        since = ctx["since"]
        return (
            f"latest {_fmt(latest)} (must be on or after {_fmt(since)})",
            (
                f"{lead}{label}最新日期应在运行日前{ctx['days']}天内（不早于{_fmt(since)}），"
                f"实际最新为{_fmt(latest) if latest is not None else '空'}"
            ),
        )
    if n is not None and u is not None:
        nonmissing = n - missing
        if e.type == "expect_column_values_to_not_be_null":
            pct = u / n * 100 if n else 0.0
            rule = "不应为空" if strict else f"非空比例应{need}"
            return (
                f"{_pct(pct)} null ({u} of {n})",
                f"{lead}{label}{rule}，实际空值{_pct(pct)}（{u}行，共{n}行）",
            )
        pct = u / nonmissing * 100 if nonmissing else 0.0
        if e.type == "valid_id_rate":
            return (
                f"{_pct(pct)} invalid ({u} of {nonmissing})",
                f"{lead}{label}校验有效比例应{need}，实际{_pct(100 - pct)}"
                + f"（无效{u}个，共{nonmissing}个）",
            )
        if e.type == "expect_column_values_to_be_unique":
            return (
                f"{u} duplicated of {nonmissing} ({_pct(pct)})",
                f"{lead}{label}应唯一，实际{u}行重复（{_pct(pct)}）",
            )
        if e.type == "expect_compound_columns_to_be_unique":
            cols = "、".join(_label(connector, c) for c in kw.get("column_list", []))
            return (
                f"{u} duplicated of {nonmissing} ({_pct(pct)})",
                f"{lead}{cols}组合应唯一，实际{u}行重复（{_pct(pct)}）",
            )
        if e.type == "expect_column_pair_values_a_to_be_greater_than_b":
            a, b = _label(connector, kw.get("column_A")), _label(connector, kw.get("column_B"))
            rel = "不早于" if kw.get("or_equal") else "晚于"
            rule = f"应{rel}{b}" if strict else f"{rel}{b}的比例应{need}"
            return (
                f"{_pct(pct)} unexpected ({u} of {nonmissing})",
                f"{lead}{a}{rule}，实际不符合{_pct(pct)}（{u}行）",
            )
        if e.type == "not_in_future":
            return (
                f"{_pct(pct)} after the run date {_fmt(ctx['run_date'])} ({u} of {nonmissing})",
                (
                    f"{lead}{label}不应晚于运行日{_fmt(ctx['run_date'])}，实际{u}行晚于该日"
                    f"（{_pct(pct)}）"
                ),
            )
        rule = _rule_zh(e.type, kw)
        rule = f"应{rule}" if strict else f"{rule}的比例应{need}"
        return (
            f"{_pct(pct)} unexpected ({u} of {nonmissing})",
            f"{lead}{label}{rule}，实际不符合{_pct(pct)}（{u}行，共{nonmissing}行）",
        )
    obs = r.get("observed_value")
    if e.type in ("required_columns", "expect_table_columns_to_match_set"):
        missing_cols = ((r.get("details") or {}).get("mismatched") or {}).get("missing") or []
        if missing_cols:
            return (
                f"missing columns: {', '.join(map(str, missing_cols))}",
                f"{lead}缺少字段：{'、'.join(_label(connector, c) for c in missing_cols)}",
            )
        return ("all columns present", f"{lead}字段齐全")
    verdict = "通过" if success else "未通过"
    return (f"observed {_fmt(obs)}", f"{lead}{label}检查{e.type}{verdict}，实际值{_fmt(obs)}")


def _rule_zh(etype: str, kw: dict) -> str:
    if etype == "expect_column_values_to_match_regex":
        return "符合格式"
    if etype == "expect_column_values_to_not_match_regex":
        return "不含禁止格式"
    if etype == "expect_column_values_to_be_in_set":
        vals = "、".join(map(str, kw.get("value_set", [])[:8]))
        return f"在（{vals}）之内"
    if etype == "expect_column_values_to_not_be_in_set":
        vals = "、".join(map(str, kw.get("value_set", [])[:8]))
        return f"不在（{vals}）之中"
    if etype == "expect_column_values_to_be_between":
        lo, hi = kw.get("min_value"), kw.get("max_value")
        if lo is not None and hi is not None:
            return f"在{_fmt(lo)}至{_fmt(hi)}之间"
        return f"不小于{_fmt(lo)}" if lo is not None else f"不大于{_fmt(hi)}"
    if etype.startswith("expect_column_value_lengths"):
        return "长度符合要求"
    return "符合要求"


def _fmt(v: Any) -> str:
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S") if v.time() != dt.time() else v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


# --------------------------------------------------------------------------- failing rows


def _condition(plan: _Planned) -> tuple[str, list[Any]] | None:
    """SQL condition selecting the rows that break `plan`, or None for table-level checks."""
    kw, t = plan.kwargs, plan.gx_type
    if kw.get("row_condition"):
        return None  # GX's own condition language; do not guess which rows it meant
    col = kw.get("column")
    c = _q(col) if isinstance(col, str) else None
    if plan.entry.type == "valid_id_rate":
        src = _q(plan.entry.args["column"])
        return f"{src} IS NOT NULL AND NOT {_q(kw['column'])}", []
    if c is None:
        if t == "expect_column_pair_values_a_to_be_greater_than_b":
            a, b = _q(kw["column_A"]), _q(kw["column_B"])
            op = ">=" if kw.get("or_equal") else ">"
            return f"{a} IS NOT NULL AND {b} IS NOT NULL AND NOT ({a} {op} {b})", []
        if t == "expect_compound_columns_to_be_unique" and kw.get("column_list"):
            cols = ", ".join(_q(x) for x in kw["column_list"])
            return (
                (f"({cols}) IN (SELECT ({cols}) FROM {VIEW} GROUP BY {cols} HAVING count(*) > 1)"),
                [],
            )
        return None
    if t == "expect_column_values_to_not_be_null":
        return f"{c} IS NULL", []
    if t == "expect_column_values_to_be_null":
        return f"{c} IS NOT NULL", []
    if t == "expect_column_values_to_be_unique":
        return (
            (
                f"{c} IN (SELECT {c} FROM {VIEW} WHERE {c} IS NOT NULL GROUP BY {c} "
                "HAVING count(*) > 1)"
            ),
            [],
        )
    if t == "expect_column_values_to_match_regex":
        return f"{c} IS NOT NULL AND NOT regexp_matches({c}::VARCHAR, ?)", [kw.get("regex", "")]
    if t == "expect_column_values_to_not_match_regex":
        return f"{c} IS NOT NULL AND regexp_matches({c}::VARCHAR, ?)", [kw.get("regex", "")]
    if t in ("expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set"):
        values = list(kw.get("value_set") or [])
        if not values:
            return None
        inside = " OR ".join(f"{c} = ?" for _ in values)
        neg = "NOT " if t == "expect_column_values_to_be_in_set" else ""
        return f"{c} IS NOT NULL AND {neg}({inside})", values
    if t == "expect_column_values_to_be_between":
        return _outside(c, c, kw)
    if t == "expect_column_value_lengths_to_equal":
        return f"{c} IS NOT NULL AND length({c}::VARCHAR) <> ?", [kw.get("value")]
    if t == "expect_column_value_lengths_to_be_between":
        return _outside(c, f"length({c}::VARCHAR)", kw)
    return None


def _outside(col: str, expr: str, kw: dict) -> tuple[str, list[Any]] | None:
    """Rows whose `expr` falls outside [min_value, max_value] (GX's strict_min/max honoured)."""
    parts, params = [], []
    if kw.get("min_value") is not None:
        parts.append(f"{expr} {'<=' if kw.get('strict_min') else '<'} ?")
        params.append(kw["min_value"])
    if kw.get("max_value") is not None:
        parts.append(f"{expr} {'>=' if kw.get('strict_max') else '>'} ?")
        params.append(kw["max_value"])
    return (f"{col} IS NOT NULL AND ({' OR '.join(parts)})", params) if parts else None


def _reject_samples(session: _Session, snapshot: Any) -> list[dict]:
    """The first rejected rows with where they are and why, to send back to the agency."""
    path = getattr(snapshot, "rejects_path", None)
    if path is None or not Path(path).is_file():
        return []
    rows = session.con.execute(
        "SELECT _source_file, _source_row, _reason FROM read_parquet(?) "
        f"ORDER BY _source_file, _source_row LIMIT {SAMPLE_ROWS}",
        [str(path)],
    ).fetchall()
    return [{"_source_file": f, "_source_row": r, "reason": why} for f, r, why in rows]


def _samples(session: _Session, plan: _Planned) -> list[dict]:
    cond = _condition(plan)
    if cond is None:
        return []
    where, params = cond
    shown = [c for _, c in _entry_columns(plan.entry)]
    cols = ["_source_file", "_source_row", *dict.fromkeys(shown)]
    sql = (
        f"SELECT {', '.join(_q(c) for c in cols)} FROM {VIEW} WHERE {where} "
        f"ORDER BY _source_file, _source_row LIMIT {SAMPLE_ROWS}"
    )
    import duckdb

    try:
        rows = session.con.execute(sql, params).fetchall()
    except duckdb.Error:
        return []  # a sample is a courtesy: never let it hide the outcome itself
    return [{k: _jsonable(v) for k, v in zip(cols, row)} for row in rows]
