"""The Spark adapter: the same model files on a cluster (the only pyspark importer).

Model SQL stays DuckDB SQL; `spark_sql.to_spark` translates it or refuses. Inputs are the
snapshots' Parquet files (on a path Spark reads: a shared mount, HDFS or S3-compatible storage)
or tables already on the cluster; collide's SQL functions run on the executors as Arrow UDFs
built from the same Python bodies DuckDB calls. Only hits and their evidence rows come back to
the driver, as Arrow.
"""

from __future__ import annotations

import os
import pickle
import re
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from collide.engine.backend import (
    SUBJECT_COL,
    Backend,
    InputData,
    LimitExceeded,
    Limits,
    QueryError,
    Session,
)
from collide.engine.spark_sql import DATE_FUNCTIONS, SparkSql, java_regex, to_spark
from collide.errors import Problem

# DuckDB type names (as the UDF table spells them) → Spark SQL type names
_TYPES = {"VARCHAR": "string", "DOUBLE": "double", "BOOLEAN": "boolean", "DATE": "date",
          "INTEGER": "int", "BIGINT": "bigint", "BIGINT[]": "array<bigint>"}  # fmt: skip

# Settings that make Spark's results read like DuckDB's: ANSI arithmetic (errors, not NULLs, on
# overflow and bad casts — DuckDB's behaviour), NULL fields kept in JSON, dates without a zone.
DEFAULT_CONF = {
    "spark.sql.ansi.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.jsonGenerator.ignoreNullFields": "false",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


def session(master: str = "local[2]", conf: dict[str, str] | None = None, app: str = "collide"):
    """A Spark session (an existing one with the same master is reused by Spark itself).

    In local mode the Python workers run on this machine and must import collide and pyarrow:
    they are this interpreter. Spark's own default is whatever `python3` is first on PATH (any
    release, 3.5 and 4.x alike), which in a virtual environment that is not activated is another
    Python without them. `PYSPARK_PYTHON`, when set, and a cluster's own setting are left alone."""
    from pyspark.sql import SparkSession

    if master.startswith("local") and not os.environ.get("PYSPARK_PYTHON"):
        os.environ["PYSPARK_PYTHON"] = sys.executable  # read once, when the context starts

    builder = SparkSession.builder.master(master).appName(app)
    for key, value in {**DEFAULT_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class _OnWorker:
    """A function body built where it runs: rapidfuzz's scorers (C functions) cannot be
    pickled, so the executor looks the body up by name in its own import of collide."""

    def __init__(self, name: str, workdays: Any, pandas: bool):
        self.name, self.workdays, self.pandas = name, workdays, pandas
        self._fn: Callable[..., pa.Array] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name, "workdays": self.workdays, "pandas": self.pandas, "_fn": None}

    def __call__(self, *args: Any) -> Any:
        if self._fn is None:
            from collide.engine.functions import sql_functions

            self._fn = next(f.body for f in sql_functions(self.workdays) if f.name == self.name)
        if not self.pandas:
            return self._fn(*args)
        out = self._fn(*(pa.Array.from_pandas(s) for s in args))  # Spark 3.5: via pandas
        return out.to_pandas()


_REGISTERED: dict[int, bytes] = {}  # id(Spark session) → the calendar its functions use


def register_functions(spark: Any, workdays: Any = None) -> None:
    """Register collide's SQL functions (`engine.functions` bodies: Arrow arrays in, one Arrow
    array out) as Spark UDFs. Spark 4.1+ hands them Arrow arrays directly (`arrow_udf`); older
    releases go through pandas (`pandas_udf`) and convert at the edges."""
    import pyspark.sql.functions as F

    from collide.engine.functions import sql_functions

    calendar = pickle.dumps(workdays)
    if _REGISTERED.get(id(spark)) == calendar:
        return  # once per session and calendar, not once per model
    arrow = hasattr(F, "arrow_udf")
    for fn in sql_functions(workdays):
        name, ret = fn.name, fn.returns
        body = _OnWorker(name, workdays, pandas=not arrow)
        if arrow:
            wrapped = F.arrow_udf(body, _TYPES[ret], F.ArrowUDFType.SCALAR)
        else:
            wrapped = F.pandas_udf(body, _TYPES[ret], F.PandasUDFType.SCALAR)
        spark.udf.register(name, wrapped)
    _REGISTERED[id(spark)] = calendar


def bind(translated: SparkSql, params: dict[str, Any]) -> dict[str, Any]:
    """Params for `spark.sql(..., args=)`: only those the SQL uses, regular expressions in
    Java's syntax."""
    used = set(re.findall(r":(\w+)", translated.sql))
    return {
        k: (java_regex(v) if k in translated.regex_params and isinstance(v, str) else v)
        for k, v in params.items()
        if k in used
    }


def to_arrow(frame: Any) -> pa.Table:
    """A Spark DataFrame's rows on the driver as Arrow (Spark 4: directly; 3.5: via pandas)."""
    if hasattr(frame, "toArrow"):
        return frame.toArrow()
    return pa.Table.from_pandas(frame.toPandas(), preserve_index=False)


def from_arrow(spark: Any, table: pa.Table) -> Any:
    """An Arrow table as a Spark DataFrame (hits, rule output, unit-test rows). Spark 4 takes
    the table as is. Spark 3.5 takes no Arrow table, and its pandas route would turn NULL
    integers into floats and dates into objects: there the rows go as Python values with the
    Arrow schema given, so every type arrives as it left."""
    from pyspark.sql import DataFrame
    from pyspark.sql.pandas.types import from_arrow_schema

    if hasattr(DataFrame, "toArrow"):  # 4.0+, the release that reads Arrow tables
        return spark.createDataFrame(table)
    plain = pa.schema([_plain_field(f) for f in table.schema])
    return spark.createDataFrame(
        table.cast(plain).to_pylist(), from_arrow_schema(plain, prefer_timestamp_ntz=True)
    )


def cluster_path(snapshot: Path, data_root: str | None) -> str:
    """Where the cluster reads a snapshot's data file: `<data_root>/<dataset>/<snapshot_id>/
    data.parquet` (the layout of output/snapshots), joined as text so that hdfs:// and s3a://
    addresses keep their double slash. No data_root: the local path (local mode)."""
    if not data_root:
        return str(snapshot)
    parts = (snapshot.parent.parent.name, snapshot.parent.name, snapshot.name)
    return "/".join([data_root.rstrip("/"), *parts])


# ---------------------------------------------------------------------------- the backend

# Spark type names (simpleString) → DuckDB's, for `describe` (binding reads DuckDB names)
_DUCK = {"string": "VARCHAR", "int": "INTEGER", "bigint": "BIGINT", "smallint": "SMALLINT",
         "tinyint": "TINYINT", "double": "DOUBLE", "float": "FLOAT", "boolean": "BOOLEAN",
         "date": "DATE", "timestamp": "TIMESTAMP", "timestamp_ntz": "TIMESTAMP",
         "binary": "BLOB"}  # fmt: skip


def duckdb_type(spark_type: str) -> str:
    if spark_type == "array<bigint>":
        return "BIGINT[]"
    if spark_type.startswith("decimal"):
        return spark_type.upper()
    return _DUCK.get(spark_type, spark_type.upper())


def _spark_type(duck: str) -> str:
    duck = duck.upper()
    back = {v: k for k, v in _DUCK.items() if k != "timestamp_ntz"}
    if duck.startswith("DECIMAL"):
        return duck.lower()
    return back.get(duck, "string")


class SparkQueryError(QueryError):
    """Spark refused a query, or the translation found a construct it cannot carry faithfully
    (then `problems` holds each one at its line)."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = problems or []

    def problem(self, display: str, fix: str = "", line_offset: int = 0) -> Problem:
        if self.problems:
            first = self.problems[0]
            return Problem(display, first.line, first.message, first.fix)
        return super().problem(display, fix, line_offset)


class SparkModelSession(Session):
    """One model's inputs as temporary views of a Spark session; model SQL is translated
    (`spark_sql.to_spark`) before it runs, and the time limit cancels the model's Spark jobs."""

    _counter = 0

    def __init__(self, spark: Any, inputs: Mapping[str, InputData], limits: Limits | None,
                 workdays: Any, data_root: str | None):  # fmt: skip
        import pyarrow.parquet as pq

        from collide.engine.functions import FUNCTIONS

        self.spark = spark
        self.limits = limits or Limits()
        self.uncovered_years: set[int] = set()  # not collected from the executors (README)
        self.types: dict[str, dict[str, str]] = {}
        self.arrow_schemas: dict[str, pa.Schema] = {}
        self._ours = [f[0] for f in FUNCTIONS] + ["add_workdays"]
        SparkModelSession._counter += 1
        self._views = f"m{SparkModelSession._counter}_"
        self._group = f"collide-{id(self)}"
        self._expired = False
        self._timer: threading.Timer | None = None
        # DuckDB binds the same SQL over the same inputs (no rows read): its result types are
        # the ones Spark's rows are cast to, so hits, scores and output JSON match DuckDB's
        from collide.engine.duckdb import BACKEND as DUCKDB

        self._duck = DUCKDB.open(inputs, threads=1, workdays=workdays)
        register_functions(spark, workdays)
        for name, src in inputs.items():
            if isinstance(src, Path):
                from collide.snapshot_files import parquet_files

                frame = spark.read.parquet(cluster_path(src, data_root))
                self.arrow_schemas[name] = pq.read_schema(parquet_files(src)[0])
            elif isinstance(src, pa.Table):
                frame = self._frame(src)
                self.arrow_schemas[name] = src.schema
            else:
                frame = self._empty(src)
            frame.createOrReplaceTempView(name)
            self.types[name] = {
                f.name: duckdb_type(f.dataType.simpleString()) for f in frame.schema.fields
            }
        if self.limits.seconds:
            self._timer = threading.Timer(self.limits.seconds, self._expire)
            self._timer.daemon = True
            self._timer.start()

    def _frame(self, table: pa.Table) -> Any:
        if table.num_rows == 0:
            return self._empty({f.name: _arrow_duck(f.type) for f in table.schema})
        return from_arrow(self.spark, table)

    def _empty(self, schema: Mapping[str, str]) -> Any:
        ddl = ", ".join(f"`{c}` {_spark_type(t)}" for c, t in schema.items())
        return self.spark.createDataFrame([], ddl)

    def _expire(self) -> None:
        self._expired = True
        self.spark.sparkContext.cancelJobGroup(self._group)

    def _run(self, sql: str, params: Mapping[str, Any] | None, fetch: bool = True) -> Any:
        if self._expired:
            raise LimitExceeded("model_seconds", f"{self.limits.seconds:g}")
        translated = to_spark(sql, "SQL", self._ours, self.types, DATE_FUNCTIONS)
        if translated.problems:
            raise SparkQueryError(str(translated.problems[0]), translated.problems)
        from pyspark.errors import PySparkException

        self.spark.sparkContext.setJobGroup(self._group, "collide model", True)
        try:
            frame = self.spark.sql(translated.sql, args=bind(translated, dict(params or {})))
            return to_arrow(frame) if fetch else frame
        except PySparkException as exc:
            if self._expired:
                raise LimitExceeded("model_seconds", f"{self.limits.seconds:g}") from None
            raise SparkQueryError(str(exc).splitlines()[0]) from exc

    def describe(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
        frame = self._run(sql, params, fetch=False)
        return [(f.name, duckdb_type(f.dataType.simpleString())) for f in frame.schema.fields]

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        rows = self._run(sql, params)
        return rows.cast(self._duckdb_schema(sql, params, rows.schema))

    def _duckdb_schema(
        self, sql: str, params: Mapping[str, Any] | None, spark: pa.Schema
    ) -> pa.Schema:
        """The Arrow types DuckDB gives the same query (SUM of integers: DECIMAL(38,0), not
        BIGINT, …), found by running it over no rows; Spark's own if DuckDB cannot bind it."""
        from collide.engine.duckdb import DuckDBQueryError

        try:
            body = sql.strip().rstrip(";")
            empty = self._duck.query(f"SELECT * FROM ({body}\n) AS __q LIMIT 0", params)
        except DuckDBQueryError:
            return spark
        if empty.schema.names != spark.names:
            return spark
        return empty.schema

    def register(self, name: str, table: pa.Table) -> None:
        self._frame(table).createOrReplaceTempView(name)
        self._duck.register(name, table)
        self.types[name] = {f.name: _arrow_duck(f.type) for f in table.schema}

    def create_table(self, name: str, schema: Mapping[str, str]) -> None:
        self._empty(schema).createOrReplaceTempView(name)
        self._duck.create_table(name, schema)
        self.types[name] = dict(schema)

    def evidence(self, hits: str, dataset: str, on: Mapping[str, str], subject: str, limit: int,
                 content_columns: list[str], mark: str | None = None) -> pa.Table:  # fmt: skip
        """The join, the hit-row mark and the per-subject limit run on the cluster (the same
        DuckDB SQL as any model's, translated); the rows come back and DuckDB writes their JSON
        and hashes on the driver, byte-identical to a DuckDB run."""
        from collide.engine.backend import quote_ident as q
        from collide.engine.duckdb import evidence_from_rows

        cond = " AND ".join(f"d.{q(d)} = hit.{q(o)}" for d, o in on.items())
        flag = f", coalesce(({mark}), false) AS __hit_row" if mark else ""
        sql = (
            f"SELECT * FROM (SELECT CAST(hit.{q(subject)} AS VARCHAR) AS {SUBJECT_COL}, d.*{flag}, "
            f"row_number() OVER (PARTITION BY hit.{q(subject)} ORDER BY d._source_file, "
            f"d._source_row) AS __n FROM {hits} hit JOIN {q(dataset)} d ON {cond}) AS e "
            f"WHERE __n <= {int(limit)}"
        )
        self.spark.sparkContext.setJobGroup(self._group, "collide evidence", True)
        rows = self.query(sql).drop_columns(["__n"])
        hit_rows = rows.column("__hit_row") if mark else None
        if mark:
            rows = rows.drop_columns(["__hit_row"])
        schema = self.arrow_schemas.get(dataset)
        if schema is not None:  # Spark's types back to the snapshot's, for identical JSON
            fields = [pa.field(SUBJECT_COL, pa.string())] + list(schema)
            rows = rows.select([f.name for f in fields]).cast(pa.schema(fields))
        columns = [c for c in rows.column_names if c != SUBJECT_COL]
        if hit_rows is not None:
            rows = rows.append_column("__hit_row", hit_rows)
        return evidence_from_rows(rows, columns, content_columns)

    def rule_by_partition(self, rule: Path, keys: list[str], inputs: list[str],
                          params: dict[str, Any], out_schema: pa.Schema) -> pa.Table:  # fmt: skip
        """A polars rule on the executors, once per partition of `keys`: the inputs are unioned
        (each row tagged with its dataset, its columns prefixed), repartitioned by the key and
        handed to the rule partition by partition (`mapInArrow`). Correct only when every join
        and window of the rule is on the key — what `partition_by:` declares."""
        import pyspark.sql.functions as F
        from pyspark.sql.pandas.types import from_arrow_schema

        parts = []
        for ds in inputs:
            frame = self.spark.table(ds)
            cols = [F.lit(ds).alias("__ds")]
            cols += [F.col(f"`{k}`").cast("string").alias(f"__key_{i}") for i, k in enumerate(keys)]
            cols += [F.col(f"`{c}`").alias(f"{ds}__{c}") for c in frame.columns]
            parts.append(frame.select(*cols))
        union = parts[0]
        for part in parts[1:]:
            union = union.unionByName(part, allowMissingColumns=True)
        keyed = union.repartition(*[F.col(f"__key_{i}") for i in range(len(keys))])
        plain = pa.schema([_plain_field(f) for f in out_schema])
        body = _RulePartition(
            rule.read_text(encoding="utf-8"),
            str(rule),
            {ds: self.arrow_schemas.get(ds) or self._duck_schema(ds) for ds in inputs},
            params,
            plain,
        )
        self.spark.sparkContext.setJobGroup(self._group, "collide polars rule", True)
        out = keyed.mapInArrow(body, from_arrow_schema(plain))
        return to_arrow(out).cast(plain)

    def _duck_schema(self, ds: str) -> pa.Schema:
        return self._duck.query(f'SELECT * FROM "{ds}" LIMIT 0').schema

    def interrupt(self) -> None:
        self.spark.sparkContext.cancelJobGroup(self._group)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._duck.close()


def _plain_field(field: pa.Field) -> pa.Field:
    """polars' large strings as Spark's strings (Spark reads no large_string before 4.0)."""
    if pa.types.is_large_string(field.type):
        return pa.field(field.name, pa.string())
    return field


class _RulePartition:
    """One partition of a polars rule, run on an executor: the rule file travels as text (the
    executors need no copy of the project), the rows come as Arrow batches."""

    def __init__(self, source: str, filename: str, schemas: dict[str, pa.Schema],
                 params: dict[str, Any], out_schema: pa.Schema):  # fmt: skip
        self.source, self.filename, self.schemas = source, filename, schemas
        self.params, self.out_schema = params, out_schema

    def __call__(self, batches: Any) -> Any:
        import polars as pl
        import pyarrow.compute as pc

        batches = list(batches)
        if not batches or not any(b.num_rows for b in batches):
            return
        table = pa.Table.from_batches(batches)
        frames = {}
        for ds, schema in self.schemas.items():
            rows = table.filter(pc.equal(table["__ds"], ds))
            rows = rows.select([f"{ds}__{n}" for n in schema.names]).rename_columns(schema.names)
            frames[ds] = pl.from_arrow(rows.cast(schema)).lazy()
        scope: dict[str, Any] = {"__name__": "collide_rule", "__file__": self.filename}
        exec(compile(self.source, self.filename, "exec"), scope)  # the model's own rule file
        out = scope["rule"](frames, self.params)
        result = (out.collect() if isinstance(out, pl.LazyFrame) else out).to_arrow()
        yield from result.select(self.out_schema.names).cast(self.out_schema).to_batches()


def _arrow_duck(t: pa.DataType) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "VARCHAR"
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_integer(t):
        return "INTEGER"
    if pa.types.is_floating(t):
        return "DOUBLE"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    return "VARCHAR"


class SparkBackend(Backend):
    """Models on Spark. The session is made once per process from the `spark:` settings
    (`configure()`), reused by every model of a run."""

    name = "spark"
    master = "local[2]"
    conf: dict[str, str] = {}
    data_root: str | None = None

    @classmethod
    def configure(cls, master: str, conf: dict[str, str], data_root: str | None) -> None:
        cls.master, cls.conf, cls.data_root = master, dict(conf), data_root

    def open(self, inputs: Mapping[str, InputData], *, limits: Limits | None = None,
             threads: int | None = None, workdays: Any = None) -> Session:  # fmt: skip
        return SparkModelSession(
            session(self.master, self.conf), inputs, limits, workdays, self.data_root
        )

    def typed_table(self, rows: list[dict[str, Any]], schema: Mapping[str, str]) -> pa.Table:
        from collide.engine.duckdb import BACKEND as DUCKDB

        return DUCKDB.typed_table(rows, schema)  # the same YAML values, the same types


BACKEND = SparkBackend()
