"""The Spark adapter: the same model files on a cluster (the only pyspark importer).

Model SQL stays DuckDB SQL; `spark_sql.to_spark` translates it or refuses. Inputs are the
snapshots' Parquet files (on a path Spark reads: a shared mount, HDFS or S3-compatible storage)
or tables already on the cluster; collide's SQL functions run on the executors as Arrow UDFs
built from the same Python bodies DuckDB calls. Only hits and their evidence rows come back to
the driver, as Arrow.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from collide.engine.spark_sql import SparkSql, java_regex

# DuckDB type names (as the UDF table spells them) → Spark SQL type names
_TYPES = {"VARCHAR": "string", "DOUBLE": "double", "BOOLEAN": "boolean", "DATE": "date",
          "INTEGER": "int", "BIGINT": "bigint"}  # fmt: skip

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
    """A Spark session (an existing one with the same master is reused by Spark itself)."""
    from pyspark.sql import SparkSession

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


def register_functions(spark: Any, workdays: Any = None) -> None:
    """Register collide's SQL functions (`engine.functions` bodies: Arrow arrays in, one Arrow
    array out) as Spark UDFs. Spark 4.1+ hands them Arrow arrays directly (`arrow_udf`); older
    releases go through pandas (`pandas_udf`) and convert at the edges."""
    import pyspark.sql.functions as F

    from collide.engine.functions import sql_functions

    arrow = hasattr(F, "arrow_udf")
    for fn in sql_functions(workdays):
        name, ret = fn.name, fn.returns
        body = _OnWorker(name, workdays, pandas=not arrow)
        if arrow:
            wrapped = F.arrow_udf(body, _TYPES[ret], F.ArrowUDFType.SCALAR)
        else:
            wrapped = F.pandas_udf(body, _TYPES[ret], F.PandasUDFType.SCALAR)
        spark.udf.register(name, wrapped)


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
