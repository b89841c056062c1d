"""Check and execute supervision models (SQL or polars rule) against their inputs."""

from __future__ import annotations

import importlib.util
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from collide.config.catalog import Catalog, Model, intended_inputs
from collide.engine.backend import (
    SCORE_COL,
    SUBJECT_COL,
    Backend,
    InputData,
    LimitExceeded,
    Limits,
    QueryError,
    Session,
    backend,
    quote_ident,
)
from collide.engine.duckdb import evidence_sql as _evidence_sql  # check_model binds with it
from collide.engine.sqlcheck import check_expression, check_sql, model_body
from collide.errors import CollideError, Problem, did_you_mean

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

    from collide.config.specs import ProjectConfig
    from collide.engine.workdays import Calendar


# --------------------------------------------------------------------------- params


def coerce_param(name: str, raw: Any, default: Any, where: str) -> Any:
    """A param value converted to the type of its declared default."""
    if default is None or raw is None:
        return raw
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"true", "yes", "1", "是"}:
            return True
        if text in {"false", "no", "0", "否"}:
            return False
        raise CollideError(
            Problem(
                where,
                None,
                f'param {name} expects true or false, got "{raw}"',
                f"Pass --param {name}=true or --param {name}=false",
            )
        )
    if isinstance(default, (int, float)):
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return (
                type(default)(raw)
                if isinstance(default, float) or float(raw).is_integer()
                else float(raw)
            )
        text = str(raw).strip().replace(",", "")
        try:
            value = float(text)
        except ValueError:
            raise CollideError(
                Problem(
                    where,
                    None,
                    f'param {name} expects a number (default {default}), got "{raw}"',
                    f"Pass a number, e.g. --param {name}={default}",
                )
            ) from None
        if isinstance(default, int) and value.is_integer():
            return int(value)
        return value
    return str(raw)


def resolve_params(
    model: Model, overrides: dict[str, Any], where: str = "--param", strict: bool = False
) -> dict[str, Any]:
    """Declared defaults, overridden by run params that the model declares."""
    values = dict(model.spec.params)
    for key, raw in overrides.items():
        if key in model.spec.params:
            values[key] = coerce_param(key, raw, model.spec.params[key], where)
        elif strict:
            raise CollideError(
                Problem(
                    model.display,
                    model.line("params"),
                    f'unknown param "{key}"',
                    did_you_mean(key, model.spec.params) or "Declare it under params:",
                )
            )
    return values


# --------------------------------------------------------------------------- check


def input_schemas(cat: Catalog, snapshot_schemas: dict[str, dict[str, str]]) -> dict[str, dict]:
    """Schema of each dataset: the latest snapshot's, else the one its connector declares."""
    out = {}
    for ds, conn in cat.connectors.items():
        out[ds] = snapshot_schemas.get(ds) or conn.spec.schema()
    return out


def _out_problem(model: Model, loc: tuple, what: str, col: str, outputs: list[str]) -> Problem:
    hint = did_you_mean(col, outputs)
    return Problem(
        model.display,
        model.line(*loc),
        f'{what} "{col}" is not a column the model produces',
        (hint + " " if hint.startswith("Did") else "")
        + f"Select it in {model.body_display} or change {'.'.join(map(str, loc))}",
    )


def reason_fields(template: str) -> list[str]:
    """The columns a reason template reads (its syntax lives in collide.clues.build)."""
    from collide.clues.build import reason_fields as fields

    return fields(template)


def check_model(model: Model, cat: Catalog, schemas: dict[str, dict[str, str]]) -> list[Problem]:
    """Every problem with one model, found by binding it (not running it) on empty inputs."""
    spec = model.spec
    problems: list[Problem] = []
    from collide.modelrun.networks import check_network, sql_inputs

    # an input misspelt in `inputs:` is reported there once; its correct uses are not mistakes
    meant = set(intended_inputs(spec.inputs, schemas).values())
    if model.kind == "sql":
        shape, found = check_sql(
            model.sql, sql_inputs(model), model.body_display, list(spec.params), unreported=meant
        )
        if found:
            return found
    if any(ds not in schemas for ds in spec.inputs):
        return problems  # reported by the catalog cross-check (or the connector's own file)
    inputs = {ds: schemas[ds] for ds in spec.inputs}
    with backend().open(inputs, threads=1) as box:  # binding is DuckDB's, whatever runs
        if spec.network is not None and (found := check_network(model, box, dict(spec.params))):
            return found
        if model.kind == "sql":
            params = {p: spec.params.get(p) for p in shape.params}
            try:
                described = box.describe(model.sql.strip().rstrip(";"), params)
            except QueryError as exc:  # binder/parser errors are the author's mistakes here
                return [
                    exc.problem(
                        model.body_display, "Check table and column names against the inputs"
                    )
                ]
            outputs = [c for c, _ in described]
            types = dict(described)
            odd = [c for c in outputs if not _plain_name(c)]
            if odd:
                return [
                    Problem(
                        model.body_display,
                        None,
                        f'output column "{odd[0]}" has a quote or a control character in its name',
                        "Name output columns with letters, digits and _ (AS new_name)",
                    )
                ]
        else:
            try:
                frame = _rule_output(
                    model, {ds: _empty_frame(s) for ds, s in inputs.items()}, dict(spec.params)
                )
                schema = frame.collect_schema()
            except CollideError as exc:
                return exc.problems
            except Exception as exc:
                return [
                    Problem(
                        model.body_display,
                        None,
                        f"polars rule failed on empty inputs: {type(exc).__name__}: {exc}",
                        "Fix the rule function",
                    )
                ]
            outputs = list(schema.names())
            types = {}
        if spec.subject.id not in outputs:
            problems.append(
                _out_problem(model, ("subject", "id"), "subject id", spec.subject.id, outputs)
            )
        if spec.subject.name and spec.subject.name not in outputs:
            problems.append(
                _out_problem(model, ("subject", "name"), "subject name", spec.subject.name, outputs)
            )
        try:
            fields = reason_fields(spec.reason)
        except ValueError as exc:
            problems.append(
                Problem(
                    model.display,
                    model.line("reason"),
                    f"reason template is malformed ({exc})",
                    "Use {column} for values, {if column}…{else}…{end} for a part, "
                    "{{ and }} for braces",
                )
            )
            fields = []
        for name in fields:
            if name not in outputs:
                problems.append(
                    _out_problem(model, ("reason",), "reason placeholder", name, outputs)
                )
        bad = check_expression(spec.score)
        if bad:
            problems.append(
                Problem(
                    model.display,
                    model.line("score"),
                    f"score {bad}",
                    "Write e.g. score: total_paid",
                )
            )
        elif model.kind == "sql" and not problems:
            try:
                box.describe(_scored_sql(model), params)
            except CollideError as exc:
                problems.extend(exc.problems)
            except QueryError as exc:
                p = exc.problem(model.display)
                problems.append(
                    Problem(
                        model.display,
                        model.line("score"),
                        f"score expression: {p.message}",
                        "Use only the model's output columns in score",
                    )
                )
        for col in spec.labels:
            if col not in outputs:
                problems.append(
                    _out_problem(model, ("labels", col), "labelled column", col, outputs)
                )
        for i, ev in enumerate(spec.evidence):
            for dcol, ocol in ev.on.items():
                if ocol not in outputs:
                    problems.append(
                        _out_problem(
                            model, ("evidence", i, "on", dcol), "evidence column", ocol, outputs
                        )
                    )
            if types and ev.dataset in inputs and not problems:
                box.create_table(f"__hits_{i}", types)
                try:
                    box.describe(
                        _evidence_sql(
                            f"__hits_{i}", ev.dataset, ev.on, spec.subject.id, 1, mark=ev.mark
                        ),
                        {},
                    )
                except QueryError as exc:
                    p = exc.problem(model.display)
                    where = ("evidence", i, "mark") if ev.mark else ("evidence", i)
                    problems.append(
                        Problem(
                            model.display,
                            model.line(*where),
                            f"evidence join on {ev.dataset}: {p.message}",
                            "Join columns must have comparable types; in mark: name the "
                            f"{ev.dataset} columns as they are, the output as hit.<name>",
                        )
                    )
    problems.extend(_check_tests(model, schemas, outputs))
    return problems


def _plain_name(name: str) -> bool:
    """A column name that can be quoted into SQL as it is: no quote, no control character."""
    return '"' not in name and name.isprintable()


def _check_tests(model: Model, schemas: dict[str, dict[str, str]], outputs: list[str]):
    spec = model.spec
    meant = set(intended_inputs(spec.inputs, schemas).values())
    for t, test in enumerate(spec.tests):
        for ds, rows in test.given.items():
            if ds in meant:
                continue  # the intended spelling of a misspelt input, reported at inputs:
            if ds not in spec.inputs:
                yield Problem(
                    model.display,
                    model.line("tests", t, "given", ds),
                    f'test "{test.name}" gives rows for "{ds}", not an input',
                    did_you_mean(ds, spec.inputs) or "Use one of the inputs",
                )
                continue
            for r, row in enumerate(rows):
                if not isinstance(row, dict):
                    yield Problem(
                        model.display,
                        model.line("tests", t, "given", ds, r),
                        f'test "{test.name}": each given row must be a mapping',
                        "Write rows as {column: value, …}",
                    )
                    continue
                for col in row:
                    if col not in schemas.get(ds, {}):
                        yield Problem(
                            model.display,
                            model.line("tests", t, "given", ds, r),
                            f'test "{test.name}": "{col}" is not a column of "{ds}"',
                            did_you_mean(col, schemas.get(ds, {})),
                        )
        for e, exp_row in enumerate(test.expect):
            for col in exp_row:
                if col not in outputs:
                    yield _out_problem(
                        model, ("tests", t, "expect", e), "expected column", col, outputs
                    )
        for key in test.params:
            if key not in spec.params:
                yield Problem(
                    model.display,
                    model.line("tests", t, "params"),
                    f'test "{test.name}" sets unknown param "{key}"',
                    did_you_mean(key, spec.params) or "Declare it under params:",
                )


# --------------------------------------------------------------------------- execute


class EvidenceRow(NamedTuple):
    """One source row attached to a clue: its dataset, the row as JSON, a hash of its content."""

    dataset: str
    row_json: str
    row_hash: str


@dataclass
class ModelOutput:
    model_id: str
    version: str
    rows: list[dict[str, Any]]
    evidence: dict[str, list[EvidenceRow]] = field(default_factory=dict)  # subject → rows
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # years an add_workdays() call spanned without a holiday calendar (weekends only)
    uncovered_years: list[int] = field(default_factory=list)
    table: Any = None  # the rows as an Arrow table (what a model reading this one gets)


def _sort_key(field: pa.Field) -> str:
    """A column as an ORDER BY key: itself, or its text when nested (lists, structs, maps)."""
    import pyarrow as pa

    name = quote_ident(field.name)
    return f"CAST({name} AS VARCHAR)" if pa.types.is_nested(field.type) else name


def _one_row_per_subject(box: Session, table: pa.Table, subj: str) -> tuple[pa.Table, int, int]:
    """The model's rows, one per subject (the highest score, ties broken by the other columns;
    rows without a subject dropped), in subject order; and how many rows had no subject and how
    many repeated one."""
    import pyarrow as pa

    box.register("__raw_hits", table)
    s = quote_ident(subj)
    # counted by the engine (pyarrow.compute's import alone costs a one-model run ≈ 0.05 s)
    counts = box.query(
        f"SELECT count(*) - count({s}), count({s}) - count(DISTINCT {s}) FROM __raw_hits"
    )
    nulls, dups = (counts.column(i)[0].as_py() for i in (0, 1))
    col = table.column(subj)
    text = pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
    if text and not nulls and not dups:
        # the usual case, a text subject already unique: only the order (byte order)
        return box.query(f"SELECT * FROM __raw_hits ORDER BY {s}"), 0, 0
    # Rows of one subject with the same score: the one that sorts first column by column, so
    # the clue (its reason, its output) is the same every night on the same data, whatever
    # order the query produced its rows in. Nested values sort by their text.
    ties = "".join(
        f", {_sort_key(f)} NULLS LAST" for f in table.schema if f.name not in (subj, SCORE_COL)
    )
    hits = box.query(
        f"SELECT * FROM __raw_hits WHERE {s} IS NOT NULL "
        f"QUALIFY row_number() OVER (PARTITION BY {s} ORDER BY {SCORE_COL} DESC NULLS "
        f"LAST{ties}) = 1 ORDER BY CAST({s} AS VARCHAR)"
    )
    return hits, nulls, dups


def _scored_sql(model: Model) -> str:
    bad = check_expression(model.spec.score)
    if bad:  # the score is SQL too: checked on every path that runs it, not only by check
        raise CollideError(
            Problem(
                model.display, model.line("score"), f"score {bad}", "Write e.g. score: total_paid"
            )
        )
    body = model_body(model.sql).strip()
    # the body first, so that DuckDB's line numbers are the SQL file's
    text = (
        f"WITH __model AS ({body}\n) SELECT *, ({model.spec.score}\n) AS {SCORE_COL} FROM __model"
    )
    # Two fragments checked apart may read differently together (a comment at the end of the
    # score would swallow what follows): the text that runs is checked as a whole.
    from collide.modelrun.networks import sql_inputs

    _, found = check_sql(text, sql_inputs(model), model.display, list(model.spec.params))
    if found:
        raise CollideError(
            Problem(
                model.display,
                model.line("score"),
                f"score and SQL together: {found[0].message}",
                "Write the score as one expression over the output columns, without comments",
            )
        )
    return text


def _empty_frame(schema: dict[str, str]) -> pl.LazyFrame:
    import polars as pl

    return pl.from_arrow(backend().typed_table([], schema)).lazy()


def _rule_output(model: Model, frames: dict, params: dict[str, Any]):
    """Call `rule(inputs, params)` from the model's .py file, loaded by path (not by name)."""
    import polars as pl

    assert model.rule_path is not None
    mod_name = f"collide_rule_{model.id}"
    spec = importlib.util.spec_from_file_location(mod_name, model.rule_path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except Exception as exc:  # only the user's file runs here: whatever it raises is theirs
        raise CollideError(
            Problem(
                model.body_display,
                getattr(exc, "lineno", None),
                f"polars rule cannot be loaded: {type(exc).__name__}: {exc}",
                "Fix the Python file",
            )
        ) from None
    fn = getattr(module, "rule", None)
    if not callable(fn):
        raise CollideError(
            Problem(
                model.body_display,
                None,
                "no function rule(inputs, params)",
                "Define def rule(inputs, params) -> polars.LazyFrame",
            )
        )
    out = fn(frames, params)
    if isinstance(out, pl.DataFrame):
        out = out.lazy()
    if not isinstance(out, pl.LazyFrame):
        raise CollideError(
            Problem(
                model.body_display,
                None,
                f"rule() returned {type(out).__name__}, not a LazyFrame",
                "Return a polars LazyFrame",
            )
        )
    return out


def _on_partitions(model: Model, box: Any, params: dict[str, Any], schema: pa.Schema) -> pa.Table:
    """A polars rule on Spark's executors, per partition of its `partition_by:` key."""
    from collide.engine.spark_sql import rule_problem

    problem = rule_problem(model)
    if problem is not None:
        raise CollideError(problem)
    return box.rule_by_partition(
        model.rule_path, model.spec.partition_by, model.spec.inputs, params, schema
    )


def _rule_line(exc: BaseException, path: Path | None) -> int | None:
    """The line of the rule file where `exc` was raised, if it was raised there."""
    import traceback

    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if path is not None and Path(frame.filename) == path:
            return frame.lineno
    return None


def session_limits(model: Model, config: ProjectConfig, root: Path) -> Limits:
    """The limits one model runs under, spilling into the project's output folder (beside the
    store: `output/tmp/`)."""
    spec = config.limits_for(model.spec)
    return Limits(
        seconds=spec.model_seconds,
        memory=spec.model_memory,
        spill_dir=(root / config.paths.store).parent / "tmp",
    )


def limit_problem(model: Model, exc: LimitExceeded) -> Problem:
    """A model stopped at a limit: which one, and where to raise it."""
    body = "SQL" if model.kind == "sql" else "rule"
    if exc.limit == "model_seconds":
        what = f"model stopped after {exc.value} s (limits.model_seconds)"
        fix = f"Make the {body} cheaper"
    else:
        what = f"model stopped: it needed more than {exc.value} of memory (limits.model_memory)"
        fix = f"Make the {body} lighter (fewer rows per join key, fewer rows kept per group)"
    return Problem(
        model.display,
        None,
        what,
        f"{fix} or raise limits.{exc.limit} in {model.display} or collide.yaml",
    )


def _collect(frame: pl.LazyFrame, limits: Limits, t0: float) -> pl.DataFrame:
    """Collect a polars rule's frame on polars' streaming engine, given up once the model's
    time is up.

    The streaming engine reads the input files in pieces through the rule's filters, joins
    and aggregations, so what it holds is what a step must keep (a sort's rows, a join's
    smaller side, one entry per group), not the files: water_zero_use_streak over 19 M bill
    rows peaks at 0.87 GB instead of 1.86 GB on the in-memory engine (the only one polars'
    cancellable background mode runs). A streaming query cannot be cancelled: it runs in a
    thread of its own, and when the time is up the model stops and the query runs on to its
    end unwatched (its result is dropped; the process does not wait for it at exit)."""
    if not limits.seconds:
        return frame.collect(engine="streaming")
    done = threading.Event()
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["frame"] = frame.collect(engine="streaming")
        except BaseException as exc:  # handed to the caller, who reports it
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="collide-rule", daemon=True).start()
    if not done.wait(max(t0 + limits.seconds - time.perf_counter(), 0.0)):
        raise LimitExceeded("model_seconds", f"{limits.seconds:g}")
    if "error" in box:
        raise box["error"]
    return box["frame"]


def _rule_problem(model: Model, exc: BaseException) -> Problem:
    return Problem(
        model.body_display,
        _rule_line(exc, model.rule_path),
        f"polars rule failed: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}",
        "Fix the rule; `collide test " + model.id + "` runs it on small inputs",
    )


def execute_model(
    model: Model,
    inputs: dict[str, InputData],
    params: dict[str, Any],
    *,
    max_evidence_rows: int = 200,
    threads: int | None = None,
    workdays: Calendar | None = None,
    limits: Limits | None = None,
    engine: Backend | None = None,
) -> ModelOutput:
    """Run one model on its inputs (parquet paths or Arrow tables) → output rows + evidence,
    everything under `limits` (a model past one is a CollideError naming the limit)."""
    t0 = time.perf_counter()
    spec = model.spec
    limits = limits or Limits()
    session = (engine or backend()).open(
        {ds: inputs[ds] for ds in spec.inputs}, limits=limits, threads=threads, workdays=workdays
    )
    try:
        with session as box:
            return _execute(model, box, inputs, params, max_evidence_rows, limits, t0)
    except LimitExceeded as exc:
        raise CollideError(limit_problem(model, exc)) from None


def _execute(
    model: Model,
    box: Session,
    inputs: dict[str, InputData],
    params: dict[str, Any],
    max_evidence_rows: int,
    limits: Limits,
    t0: float,
) -> ModelOutput:
    spec = model.spec
    notes: list[str] = []
    if spec.network is not None:
        from collide.modelrun.networks import attach_network

        attach_network(model, box, params)
    if model.kind == "sql":
        from collide.modelrun.networks import sql_inputs

        shape, problems = check_sql(
            model.sql, sql_inputs(model), model.body_display, list(spec.params)
        )
        if problems:
            raise CollideError(problems)
        try:
            used = {p: params.get(p) for p in shape.params}  # DuckDB refuses extra ones
            table = box.query(_scored_sql(model), used)
        except QueryError as exc:
            raise CollideError(
                exc.problem(model.body_display, "Run `collide check` to find the cause")
            ) from None
    else:
        import polars as pl

        frames = {
            ds: (pl.scan_parquet(src) if isinstance(src, Path) else pl.from_arrow(src).lazy())
            for ds, src in ((d, inputs[d]) for d in spec.inputs)
        }
        if hasattr(box, "rule_by_partition"):  # Spark: the driver only learns the output types
            frames = {ds: f.head(0) for ds, f in frames.items()}
        try:
            result = _collect(_rule_output(model, frames, params), limits, t0).to_arrow()
            if hasattr(box, "rule_by_partition"):  # Spark: the rows above were none (README)
                result = _on_partitions(model, box, params, result.schema)
        except (CollideError, LimitExceeded):
            raise
        except pl.exceptions.PolarsError as exc:
            raise CollideError(_rule_problem(model, exc)) from None
        except Exception as exc:  # the rule is the user's Python: its own errors are its author's
            if _rule_line(exc, model.rule_path) is None:
                raise  # not raised in the rule file: a bug in collide
            raise CollideError(_rule_problem(model, exc)) from None
        box.register("__rule_out", result)
        try:
            table = box.query(f"SELECT *, ({spec.score}) AS {SCORE_COL} FROM __rule_out")
        except QueryError as exc:
            raise CollideError(exc.problem(model.display)) from None
    subj = spec.subject.id
    hits, nulls, dups = _one_row_per_subject(box, table, subj)
    if nulls:
        # (notes appear in the run report a prosecutor reads: Chinese)
        notes.append(f"{nulls} 行输出缺少对象编号，已舍弃")
    if dups:
        notes.append(f"{dups} 行输出的对象编号重复，每个对象保留得分最高的一行")
    box.register("__hits", hits)
    evidence: dict[str, list[EvidenceRow]] = {}
    for ev in spec.evidence:
        cols = [
            c for c, _ in box.describe(f'SELECT * FROM "{ev.dataset}"') if not c.startswith("_")
        ]
        found = box.evidence(
            "__hits", ev.dataset, ev.on, subj, max_evidence_rows, cols, mark=ev.mark
        )
        data = found.to_pydict()
        for key, row_json, row_hash in zip(data[SUBJECT_COL], data["row_json"], data["row_hash"]):
            evidence.setdefault(key, []).append(EvidenceRow(ev.dataset, row_json, row_hash))
    out_rows = hits.to_pylist()
    uncovered = sorted(box.uncovered_years)
    if uncovered:
        years = "、".join(str(y) for y in uncovered)
        notes.append(
            f"工作日计算（add_workdays）涉及{years}年，该年法定节假日未配置，仅跳过周末；"
            "请在 collide.yaml 的 holidays 中补充国务院办公厅节假日安排通知"
        )
    return ModelOutput(
        model_id=model.id,
        version=model.version,
        rows=out_rows,
        evidence=evidence,
        notes=notes,
        seconds=time.perf_counter() - t0,
        uncovered_years=uncovered,
        table=hits,
    )


# --------------------------------------------------------------------------- models on models

# What a model reading another one (`inputs: [model:<id>]`) gets besides its output columns.
UPSTREAM_COLUMNS: dict[str, str] = {
    "_clue_id": "VARCHAR",
    "_subject_id": "VARCHAR",
    "_subject_name": "VARCHAR",
    "_score": "DOUBLE",
    "_source_file": "VARCHAR",  # model:<id> (evidence rows are ordered by file and row)
    "_source_row": "BIGINT",
}


def upstream_schema(model: Model, schemas: dict[str, dict[str, str]]) -> dict[str, str]:
    """The columns (and DuckDB types) of `model`'s hits as a downstream model reads them:
    found by binding the model on empty inputs, as `collide check` does."""
    spec = model.spec
    inputs = {ds: schemas[ds] for ds in spec.inputs if ds in schemas}
    with backend().open(inputs, threads=1) as box:
        if model.kind == "sql":
            shape, _ = check_sql(model.sql, spec.inputs, model.body_display, list(spec.params))
            params = {p: spec.params.get(p) for p in shape.params}
            described = box.describe(model.sql.strip().rstrip(";"), params)
        else:
            frame = _rule_output(
                model, {ds: _empty_frame(s) for ds, s in inputs.items()}, dict(spec.params)
            )
            box.register("__rule_out", frame.collect().to_arrow())
            described = box.describe("SELECT * FROM __rule_out")
    out = {c: t for c, t in described if c != SCORE_COL}
    out.update(UPSTREAM_COLUMNS)
    return out


def with_upstream_schemas(cat: Catalog, schemas: dict[str, dict[str, str]]) -> None:
    """Add to `schemas` the hits of every model another model reads (upstream first); a model
    that does not bind is left out (`collide check` reports it)."""
    from collide.config.catalog import model_order

    read = {up for m in cat.models.values() for up in m.spec.upstream}
    for model in model_order(list(cat.models.values()), cat.models):
        if model.id in read and model.id not in schemas:
            try:
                schemas[model.id] = upstream_schema(model, schemas)
            except (CollideError, QueryError):
                continue


def upstream_table(model: Model, out: ModelOutput) -> pa.Table:
    """A model's hits as the models reading it get them: its output columns plus the clue id,
    subject and score of each hit (the `_` columns, so evidence hashes ignore them)."""
    import pyarrow as pa

    from collide.clues.build import clue_id, display

    table = out.table
    assert table is not None, "a model output without its table"
    spec = model.spec
    subjects = [display(v) for v in table.column(spec.subject.id).to_pylist()]
    names = (
        [display(v) for v in table.column(spec.subject.name).to_pylist()]
        if spec.subject.name
        else [""] * len(subjects)
    )
    score = table.column(SCORE_COL).cast(pa.float64())
    table = table.drop_columns([SCORE_COL])
    for name, col in (
        ("_clue_id", pa.array([clue_id(spec.id, s) for s in subjects], pa.string())),
        ("_subject_id", pa.array(subjects, pa.string())),
        ("_subject_name", pa.array(names, pa.string())),
        ("_score", score),
        ("_source_file", pa.array([f"model:{spec.id}"] * len(subjects), pa.string())),
        ("_source_row", pa.array(range(1, len(subjects) + 1), pa.int64())),
    ):
        if name in table.column_names:
            table = table.drop_columns([name])
        table = table.append_column(name, col)
    return table
