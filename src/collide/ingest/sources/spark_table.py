"""`type: spark_table`: a Hive/Spark table (or a Spark SQL query) already on the cluster.

The rows are read by the Spark session of collide.yaml's `spark:` block, in a stable order (all
columns ascending, so that `_source_row` numbers the same row the same way on every ingest of
unchanged data), and go through the same staging, header mapping, row accounting and
provenance as a database source: `_source_file` is `spark_table:<table>`, `_source_row` the
row's number in that order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from collide.errors import CollideError
from collide.ingest.sources.databases import DatabaseSource


class SparkTableSource(DatabaseSource):
    """A table or query of the cluster's catalogue, read through Spark in Arrow batches."""

    kind = "spark_table"

    def dsn(self) -> str:
        return ""  # the cluster is collide.yaml's `spark:` block, not a connection string

    def query(self) -> str:
        if self.spec.query:
            return self.spec.query
        table = self.spec.table or ""
        return "SELECT * FROM " + ".".join(f"`{p.replace('`', '``')}`" for p in table.split("."))

    def _frame(self) -> Any:
        from pyspark.errors import PySparkException

        from collide.config.catalog import load_config
        from collide.engine.spark import session

        settings = load_config(self.root).spark
        spark = session(settings.master, settings.conf)
        try:
            return spark.sql(self.query())
        except PySparkException as exc:
            raise self.fail(exc) from None

    def record_batches(self) -> Iterator[Any]:
        from pyspark.errors import PySparkException

        from collide.engine.spark import to_arrow

        frame = self._frame()
        try:
            rows = to_arrow(frame.orderBy(*[f"`{c}`" for c in frame.columns]))
        except PySparkException as exc:
            raise self.fail(exc) from None
        yield from rows.to_batches(max_chunksize=self.spec.batch_rows)

    def column_names(self) -> list[str]:
        return list(self._frame().columns)

    def fail(self, exc: Exception) -> CollideError:
        first = (str(exc).strip().splitlines() or [""])[0]
        return self.problem(
            f"Spark cannot read {self.display}: {first}",
            "Check the table name (database.table) or the query, and the `spark:` block of "
            "collide.yaml",
            "table" if self.spec.table else "query",
        )
