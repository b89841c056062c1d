"""`type: spark_table`: a Hive/Spark table (or a Spark SQL query) already on the cluster.

The cluster does the work and the rows never pass through the driver: Spark fingerprints the
table (its row count and an order-free hash of every row), orders the rows (all columns
ascending, so that `_source_row` numbers the same row the same way on every ingest of unchanged
data), numbers them, runs ingest's own normalisation on the executors
(`snapshot.PartitionNormaliser`: the same header mapping, semantic types and rejects as any
source) and writes data.parquet and rejects.parquet itself. The driver sees counts: the row
accounting is the cluster's counts checked against the batches' own, and `_source_file`
(`spark_table:<table>`), `_source_row` and `_snapshot_id` are Spark expressions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from collide.errors import CollideError
from collide.ingest.sources.databases import DatabaseSource
from collide.ingest.sources.files import HeaderInfo

_ROWS_PER_PARTITION_BITS = 33  # monotonically_increasing_id: partition id << 33 + row in it


class SparkTableSource(DatabaseSource):
    """A table or query of the cluster's catalogue, ingested by the cluster itself."""

    kind = "spark_table"
    on_cluster = True  # ingest hands the whole snapshot to `write_snapshot`

    def dsn(self) -> str:
        return ""  # the cluster is collide.yaml's `spark:` block, not a connection string

    def query(self) -> str:
        if self.spec.query:
            return self.spec.query
        table = self.spec.table or ""
        return "SELECT * FROM " + ".".join(f"`{p.replace('`', '``')}`" for p in table.split("."))

    def _settings(self) -> Any:
        from collide.config.catalog import load_config

        return load_config(self.root)

    def _needs_spark(self) -> Any:
        """The configuration, if its engine is Spark: a table on the cluster is ingested by
        the cluster, and DuckDB would need its rows pulled through this machine."""
        config = self._settings()
        if config.engine != "spark":
            raise self.problem(
                f"{self.display} is a table on a Spark cluster, and collide.yaml has "
                f"engine: {config.engine}",
                "Set `engine: spark` and a `spark:` block in collide.yaml (the cluster reads "
                "the table and writes the snapshot), or extract the table to Parquet and use "
                "`type: parquet`",
                "type",
            )
        return config

    def headers(self) -> Iterator[HeaderInfo]:
        self._needs_spark()  # an error for `collide check`, not a header left unchecked
        yield from super().headers()

    def _spark(self) -> Any:
        config = self._needs_spark()
        from collide.engine.backend import backend

        backend("spark")  # pyspark not installed: says so, and how to install it
        from collide.engine.spark import session

        return session(config.spark.master, config.spark.conf)

    def _frame(self) -> Any:
        from pyspark.errors import PySparkException

        spark = self._spark()
        try:
            return spark.sql(self.query())
        except PySparkException as exc:
            raise self.fail(exc) from None

    def record_batches(self) -> Iterator[Any]:
        raise NotImplementedError("a spark_table is written by the cluster (write_snapshot)")

    def column_names(self) -> list[str]:
        return list(self._frame().columns)

    def fingerprint(self) -> str:
        """The table's content as the cluster sees it, without its rows leaving the cluster:
        the schema, the row count and two order-free sums of per-row hashes (each row as JSON,
        so a NULL and its neighbour's value never trade places unseen)."""
        import pyspark.sql.functions as F
        from pyspark.errors import PySparkException

        frame = self._frame()
        row = F.to_json(F.struct(*[F.col(f"`{c}`") for c in frame.columns]))
        try:
            n, h64, h32 = frame.agg(
                F.count(F.lit(1)),
                F.sum(F.xxhash64(row).cast("decimal(38,0)")),
                F.sum(F.hash(row).cast("decimal(38,0)")),
            ).first()
        except PySparkException as exc:
            raise self.fail(exc) from None
        h = hashlib.sha256(frame.schema.json().encode("utf-8"))
        h.update(f"\0{n}\0{h64}\0{h32}".encode())
        return h.hexdigest()

    def target(self, tmp: Path, final: Path) -> str:
        """Where the cluster writes the snapshot: `spark.data_root` (the snapshots folder as
        the cluster sees it) when it is an address or folder other than this project's; else
        the snapshot's temporary folder here, renamed into place with its manifest."""
        root = self._settings().spark.cluster_root(self.root)
        if root is None or ("://" not in root and Path(root).resolve() == final.parent.parent):
            return str(tmp)
        return "/".join([root.rstrip("/"), final.parent.name, final.name])

    def write_snapshot(self, normaliser: Any, tmp: Path, final: Path) -> dict[str, Any]:
        """Order, number, normalise and write the table on the cluster; the counts back."""
        import pyspark.sql.functions as F
        from pyspark import StorageLevel
        from pyspark.errors import PySparkException
        from pyspark.sql.pandas.types import from_arrow_schema

        frame = self._frame()
        raw = frame.toDF(*[f"__c{j}" for j in range(len(frame.columns))])  # duplicates too
        ordered = raw.orderBy(*raw.columns).persist(StorageLevel.MEMORY_AND_DISK)
        out = None
        try:
            # each row's number: the rows of the partitions before it, plus its place in its
            # own (the range partitions of the sort, kept by persist, are stable between jobs)
            part = F.spark_partition_id()
            sizes = dict(ordered.groupBy(part.alias("p")).count().collect())
            offsets: dict[int, int] = {}
            done = 0
            for p in sorted(sizes):
                offsets[p], done = done, done + sizes[p]
            offset = F.create_map(
                *[x for p in sorted(offsets) for x in (F.lit(p), F.lit(offsets[p]).cast("bigint"))]
            )
            place = F.monotonically_increasing_id() - F.shiftleft(
                part.cast("bigint"), _ROWS_PER_PARTITION_BITS
            )
            number = (F.element_at(offset, part) + place + 1) if offsets else F.lit(1)
            numbered = ordered.select("*", number.cast("bigint").alias("__row"))
            schema = from_arrow_schema(normaliser.arrow_schema(), prefer_timestamp_ntz=True)
            out = numbered.mapInArrow(normaliser, schema).persist(StorageLevel.MEMORY_AND_DISK)
            accounts = [r[0] for r in out.filter("__part = 2").select("__stats").collect()]
            loaded = out.filter(f"__part = {normaliser.LOADED}")
            rejected = out.filter(f"__part = {normaliser.REJECTED}")
            names = list(normaliser.conn.spec.columns)
            counts = loaded.agg(
                F.count(F.lit(1)), *[F.count(F.col(f"`{c}`")) for c in names]
            ).first()
            n_rejected = rejected.count()
            where = self.target(tmp, final)
            constant = {
                "_source_file": F.lit(self.display),
                "_source_sheet": F.lit(None).cast("string"),
                "_snapshot_id": F.lit(normaliser.snapshot_id),
            }
            columns = [
                constant[c].alias(c) if c in constant else F.col(f"`{c}`")
                for c in normaliser.conn.spec.schema()
            ]
            loaded.select(*columns).write.mode("overwrite").option("compression", "zstd").parquet(
                f"{where}/data.parquet"
            )
            rejected.select(
                constant["_source_file"].alias("_source_file"),
                constant["_source_sheet"].alias("_source_sheet"),
                F.col("__rej_row").alias("_source_row"),
                F.col("__rej_reason").alias("_reason"),
                F.col("__rej_raw").alias("_raw"),
            ).write.mode("overwrite").option("compression", "zstd").parquet(
                f"{where}/rejects.parquet"
            )
        except PySparkException as exc:
            raise self.fail(exc) from None
        finally:
            if out is not None:
                out.unpersist()
            ordered.unpersist()
        return {
            "rows": sum(sizes.values()),
            "loaded": counts[0],
            "rejected": n_rejected,
            "filled": dict(zip(names, counts[1:])),
            "accounts": accounts,
            "data": f"{where}/data.parquet" if where != str(tmp) else "data.parquet",
        }

    def fail(self, exc: Exception) -> CollideError:
        first = (str(exc).strip().splitlines() or [""])[0]
        return self.problem(
            f"Spark cannot read {self.display}: {first}",
            "Check the table name (database.table) or the query, and the `spark:` block of "
            "collide.yaml",
            "table" if self.spec.table else "query",
        )
