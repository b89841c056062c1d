"""Database sources (PostgreSQL through ADBC, MySQL/MariaDB through connectorx): a table or
query read in Arrow batches, staged to Parquet so it is hashed like a file."""

from __future__ import annotations

import abc
import hashlib
import os
from collections.abc import Iterator
from typing import Any

from collide.errors import CollideError, Problem
from collide.ingest.sources.files import FileInfo, HeaderInfo, RawTable, Source
from collide.ingest.sources.parquet import _columnar_table

HEADER_SECONDS = 5  # `collide check` waits this long for a server to name its columns


class DatabaseSource(Source):
    """A table or query read in Arrow batches, staged to Parquet so it can be hashed first."""

    kind = ""

    def dsn(self) -> str:
        name = self.spec.dsn_env or ""
        value = os.environ.get(name)
        if not value:
            raise self.problem(
                f"environment variable {name} is not set (it should hold the {self.kind} "
                "connection string)",
                f"Set it before running, e.g. export {name}="
                + (
                    "postgresql://user@host:5432/db"
                    if self.kind == "postgres"
                    else "mysql://user:password@host:3306/db"
                ),
                "dsn_env",
            )
        return value

    def query(self) -> str:
        if self.spec.query:
            return self.spec.query
        table = self.spec.table or ""
        q = "`" if self.kind == "mysql" else '"'
        return "SELECT * FROM " + ".".join(q + p.replace(q, q + q) + q for p in table.split("."))

    @property
    def display(self) -> str:
        return f"{self.kind}:{self.spec.table}" if self.spec.table else f"{self.kind}:query"

    def prepare(self) -> list[FileInfo]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        staged = self.workdir / "staged.parquet"
        h = hashlib.sha256()
        writer = None
        rows = 0
        try:
            for batch in self.record_batches():
                batch = _plain_types(batch)
                if writer is None:
                    writer = pq.ParquetWriter(staged, batch.schema, compression="zstd")
                    h.update(batch.schema.serialize().to_pybytes())
                if batch.num_rows == 0:
                    continue
                sink = pa.BufferOutputStream()
                with pa.ipc.new_stream(sink, batch.schema) as w:
                    w.write_batch(batch)
                h.update(sink.getvalue().to_pybytes())
                writer.write_batch(batch)
                rows += batch.num_rows
                self.progress(f"reading {self.display}", rows, None)
        finally:
            if writer is not None:
                writer.close()
        if writer is None:  # no batch at all: an empty result with no schema
            pq.write_table(pa.table({}), staged)
        self.staged = staged
        self.files = [FileInfo(staged, self.display, h.hexdigest(), staged.stat().st_size)]
        return self.files

    @abc.abstractmethod
    def record_batches(self) -> Iterator[Any]:
        """The query's rows as Arrow record batches, read by the database driver."""

    def tables(self) -> Iterator[RawTable]:
        import polars as pl

        lf = pl.scan_parquet(self.staged)
        names = lf.collect_schema().names()
        yield _columnar_table(self.display, None, lf, names, self.spec.batch_rows, self.progress)

    def headers(self) -> Iterator[HeaderInfo]:
        """The columns of the table or query, if the server answers within `HEADER_SECONDS`
        (no rows are read); else a note that they could not be checked."""
        try:
            names = self.column_names()
        except CollideError as exc:
            first = exc.problems[0]
            note = Problem(
                first.path,
                first.line,
                f"the columns of {self.display} could not be checked ({first.message})",
                first.fix,
                severity="warning",
            )
            yield HeaderInfo(self.display, None, None, note)
            return
        yield HeaderInfo(self.display, None, names)

    def probe_sql(self) -> str:
        return f"SELECT * FROM ({self.query()}) AS collide_probe LIMIT 0"

    @abc.abstractmethod
    def column_names(self) -> list[str]:
        """The result's column names, asked of the server with short time limits."""

    def fail(self, exc: Exception) -> CollideError:
        text = " ".join(str(exc).split())
        low = text.lower()
        loc: tuple[str, ...] = ("table",) if self.spec.table else ("query",)
        if (
            "password" in low
            or "authentication" in low
            or "access denied" in low
            or ("role" in low and "does not exist" in low)
        ):
            msg = f"{self.kind} refused the login ({_short(text)})"
            fix = f"Check the user and password in the environment variable {self.spec.dsn_env}"
            loc = ("dsn_env",)
        elif ("does not exist" in low or "doesn't exist" in low) and self.spec.table:
            msg = f'table "{self.spec.table}" does not exist in the {self.kind} database'
            fix = "Check the table name (and schema) with the agency's DBA"
        elif "connection refused" in low or "could not connect" in low or "can't connect" in low:
            msg = f"cannot connect to the {self.kind} server ({_short(text)})"
            fix = f"Check host and port in {self.spec.dsn_env} and that the server is running"
            loc = ("dsn_env",)
        else:
            msg = f"{self.kind} query failed: {_short(text)}"
            fix = "Check the table/query and the connection string"
        return self.problem(msg, fix, *loc)


def _plain_types(batch: Any) -> Any:
    """Extension types (PostgreSQL numeric arrives as arrow.opaque) → their plain storage."""
    import pyarrow as pa

    if not any(isinstance(f.type, pa.BaseExtensionType) for f in batch.schema):
        return batch
    arrays = [c.storage if isinstance(c.type, pa.BaseExtensionType) else c for c in batch.columns]
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class PostgresSource(DatabaseSource):
    """PostgreSQL through ADBC (libpq, Arrow-native COPY): batches, never row by row."""

    kind = "postgres"

    def _connect(self, seconds: int | None = None) -> Any:
        import adbc_driver_postgresql.dbapi as pg

        dsn = self.dsn()
        if dsn.startswith("postgres+"):
            dsn = "postgresql" + dsn[dsn.index("://") :]
        if seconds is not None:
            dsn += ("&" if "?" in dsn else "?") + f"connect_timeout={seconds}"
        try:
            return pg.connect(dsn)
        except Exception as exc:  # noqa: BLE001 - driver errors become one line
            raise self.fail(exc) from None

    def record_batches(self) -> Iterator[Any]:
        conn = self._connect()
        try:
            cur = conn.cursor()
            try:
                cur.execute(self.query())
                reader = cur.fetch_record_batch()
            except Exception as exc:  # noqa: BLE001 - driver errors become one line
                raise self.fail(exc) from None
            yield from reader
        finally:
            conn.close()

    def column_names(self) -> list[str]:
        conn = self._connect(HEADER_SECONDS)
        try:
            cur = conn.cursor()
            try:
                cur.execute(f"SET statement_timeout = {HEADER_SECONDS * 1000}")
                cur.execute(self.probe_sql())
                return [str(n) for n in cur.fetch_arrow_table().schema.names]
            except Exception as exc:  # noqa: BLE001 - driver errors become one line
                raise self.fail(exc) from None
        finally:
            conn.close()


class MysqlSource(DatabaseSource):
    """MySQL/MariaDB through connectorx (Rust) as an Arrow stream."""

    kind = "mysql"

    def record_batches(self) -> Iterator[Any]:
        import connectorx as cx

        dsn = self.dsn()
        self._check_login(dsn)
        try:
            reader = cx.read_sql(
                dsn, self.query(), return_type="arrow_stream", batch_size=self.spec.batch_rows
            )
        except Exception as exc:  # noqa: BLE001 - driver errors become one line
            raise self.fail(exc) from None
        try:
            yield from reader
        except Exception as exc:  # noqa: BLE001 - driver errors become one line
            raise self.fail(exc) from None

    def column_names(self) -> list[str]:
        con = self._connect(self.dsn(), HEADER_SECONDS)
        try:
            with con.cursor() as cur:
                cur.execute(self.probe_sql())
                return [str(d[0]) for d in cur.description or ()]
        except Exception as exc:  # noqa: BLE001 - driver errors become one line
            raise self.fail(exc) from None
        finally:
            con.close()

    def _check_login(self, dsn: str) -> None:
        """connectorx retries a refused login for 30 s; pymysql says no at once."""
        self._connect(dsn, 10).close()

    def _connect(self, dsn: str, seconds: int) -> Any:
        from urllib.parse import unquote, urlsplit

        import pymysql

        u = urlsplit(dsn)
        try:
            return pymysql.connect(
                host=u.hostname or "localhost",
                port=u.port or 3306,
                user=unquote(u.username or ""),
                password=unquote(u.password or ""),
                database=(u.path or "/").lstrip("/") or None,
                connect_timeout=seconds,
                read_timeout=seconds,
            )
        except Exception as exc:  # noqa: BLE001 - every driver error becomes one line
            raise self.fail(exc) from None
