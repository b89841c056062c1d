"""The store: one DuckDB file holding runs, snapshots, model versions, clues, sightings,
evidence, reviews and the audit log.

Schema changes are numbered migrations applied in a transaction; a run's results are written in
one transaction at its end, so a crash leaves the previous state as it was. A lock file beside
the database keeps two runs from writing at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from collide.errors import CollideError, Problem


def one(result: Any) -> tuple | None:
    """First row of a result, reading it to the end (DuckDB 2 refuses new work on a connection
    while a result is only partly fetched)."""
    rows = result.fetchall()
    return rows[0] if rows else None


MIGRATIONS: list[str] = [
    # 1: initial schema
    """
    CREATE TABLE runs (
        run_id VARCHAR PRIMARY KEY, started_at TIMESTAMP, finished_at TIMESTAMP,
        status VARCHAR, run_date DATE, params VARCHAR, selected VARCHAR, summary VARCHAR
    );
    CREATE TABLE snapshots (
        dataset_id VARCHAR, snapshot_id VARCHAR, created_at TIMESTAMP, rows_read BIGINT,
        rows_loaded BIGINT, rows_rejected BIGINT, path VARCHAR,
        PRIMARY KEY (dataset_id, snapshot_id)
    );
    CREATE TABLE run_datasets (
        run_id VARCHAR, dataset_id VARCHAR, snapshot_id VARCHAR, status VARCHAR,
        quality_status VARCHAR, message VARCHAR
    );
    CREATE TABLE model_versions (
        model_id VARCHAR, version VARCHAR, title VARCHAR, spec_text VARCHAR, body_text VARCHAR,
        first_run VARCHAR, PRIMARY KEY (model_id, version)
    );
    CREATE TABLE run_models (
        run_id VARCHAR, model_id VARCHAR, version VARCHAR, status VARCHAR, hits INTEGER,
        seconds DOUBLE, message VARCHAR
    );
    CREATE TABLE clues (
        clue_id VARCHAR PRIMARY KEY, model_id VARCHAR, subject_type VARCHAR, subject_id VARCHAR,
        subject_name VARCHAR, first_seen_run VARCHAR, first_seen_at TIMESTAMP,
        last_seen_run VARCHAR, review_status VARCHAR, review_note VARCHAR,
        reviewed_at TIMESTAMP, reviewed_evidence_hash VARCHAR
    );
    CREATE TABLE sightings (
        run_id VARCHAR, clue_id VARCHAR, model_id VARCHAR, model_version VARCHAR,
        lifecycle VARCHAR, score DOUBLE, percentile DOUBLE, risk DOUBLE, rank INTEGER,
        models_hit INTEGER, reason VARCHAR, evidence_hash VARCHAR, output_json VARCHAR,
        warnings_json VARCHAR
    );
    CREATE TABLE evidence (
        run_id VARCHAR, clue_id VARCHAR, seq INTEGER, dataset VARCHAR, row_json VARCHAR
    );
    CREATE TABLE reviews (
        clue_id VARCHAR, reviewed_at TIMESTAMP, decision VARCHAR, note VARCHAR,
        source VARCHAR, evidence_hash VARCHAR
    );
    CREATE TABLE audit_log (logged_at TIMESTAMP, action VARCHAR, detail VARCHAR);
    """,
    # 2: the quality reports of a run, so that exports can be re-created (and masked) from the
    # store alone
    """
    ALTER TABLE runs ADD COLUMN quality VARCHAR;
    """,
    # 3: dispositions (issue 12): the case, recommendation and exclusion details of a clue, who
    # recorded each decision and what it changed, and the 回头看 status of each clue per run.
    # Exclusions recorded before this version carry their reason in the note: it becomes the
    # 排除理由 when it is one of the default reasons, else 其他 (the note is kept as it was).
    """
    ALTER TABLE clues ADD COLUMN exclusion_reason VARCHAR;
    ALTER TABLE clues ADD COLUMN assignee VARCHAR;
    ALTER TABLE clues ADD COLUMN case_no VARCHAR;
    ALTER TABLE clues ADD COLUMN recommendation_no VARCHAR;
    ALTER TABLE clues ADD COLUMN issued_on DATE;
    ALTER TABLE clues ADD COLUMN rectify_by DATE;
    ALTER TABLE clues ADD COLUMN valid_until DATE;
    ALTER TABLE reviews ADD COLUMN reviewer VARCHAR;
    ALTER TABLE reviews ADD COLUMN source_row INTEGER;
    ALTER TABLE reviews ADD COLUMN exclusion_reason VARCHAR;
    ALTER TABLE reviews ADD COLUMN assignee VARCHAR;
    ALTER TABLE reviews ADD COLUMN case_no VARCHAR;
    ALTER TABLE reviews ADD COLUMN recommendation_no VARCHAR;
    ALTER TABLE reviews ADD COLUMN issued_on DATE;
    ALTER TABLE reviews ADD COLUMN rectify_by DATE;
    ALTER TABLE reviews ADD COLUMN valid_until DATE;
    ALTER TABLE reviews ADD COLUMN changes VARCHAR;
    UPDATE clues SET exclusion_reason = CASE WHEN trim(review_note) IN
        ('数据错误', '冒名登记', '已整改', '不属本院管辖', '重复线索', '其他')
        THEN trim(review_note) ELSE '其他' END
    WHERE review_status = '排除';
    UPDATE reviews SET exclusion_reason = CASE WHEN trim(note) IN
        ('数据错误', '冒名登记', '已整改', '不属本院管辖', '重复线索', '其他')
        THEN trim(note) ELSE '其他' END
    WHERE decision = '排除';
    CREATE TABLE followups (
        run_id VARCHAR, clue_id VARCHAR, status VARCHAR, since DATE, deadline DATE,
        days_overdue INTEGER, PRIMARY KEY (run_id, clue_id)
    );
    """,
]


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


class RunLock:
    """An exclusive lock beside the store: a second run refuses (or waits) instead of corrupting
    it. An operating-system lock (filelock: flock on POSIX, msvcrt on Windows), so a crashed
    run leaves no stale lock behind; who holds it is written to `<lock>.holder` for the message.
    """

    def __init__(self, path: Path):
        self.path = path
        self.holder = path.with_name(path.name + ".holder")
        self._lock: Any = None

    def acquire(self, wait: float = 0.0) -> None:
        import filelock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        # thread_local=False: the nightly flow may release the lock from another worker thread.
        lock = filelock.FileLock(str(self.path), thread_local=False)
        try:
            lock.acquire(timeout=max(wait, 0.0), poll_interval=0.5)
        except filelock.Timeout:
            try:
                holder = self.holder.read_text(encoding="utf-8").strip()
            except OSError:
                holder = ""
            raise CollideError(
                Problem(
                    str(self.path),
                    None,
                    f"another collide run is in progress ({holder or 'another process'})",
                    "Wait for it to finish, or pass --wait SECONDS to queue behind it",
                )
            ) from None
        self.holder.write_text(
            f"pid {os.getpid()}, started {now().isoformat(sep=' ')}", encoding="utf-8"
        )
        self._lock = lock

    def release(self) -> None:
        if self._lock is not None:
            with contextlib.suppress(OSError):
                self.holder.unlink()
            self._lock.release()
            self._lock = None


@contextlib.contextmanager
def transaction(con: Any) -> Iterator[Any]:
    """All or nothing: the statements inside commit together, or none does (any exception,
    KeyboardInterrupt included, rolls back and is re-raised)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


class Store:
    """The store file: open it (migrated to the current schema), and nothing else; the queries
    are in store/queries.py."""

    def __init__(self, path: Path):
        self.path = path

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[Any]:
        import duckdb

        if read_only and not self.path.exists():
            con = duckdb.connect(":memory:")
            self._migrate(con)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = None
            for attempt in range(40):
                try:
                    con = duckdb.connect(str(self.path), read_only=read_only)
                    break
                except duckdb.IOException as exc:
                    if "lock" not in str(exc).lower() or attempt == 39:
                        raise CollideError(
                            Problem(
                                str(self.path),
                                None,
                                f"cannot open the store: {exc}",
                                "Close other programs using it and retry",
                            )
                        ) from None
                    time.sleep(0.25)
            if not read_only:
                self._migrate(con)
        try:
            yield con
        finally:
            con.close()

    @staticmethod
    def _migrate(con: Any) -> None:
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER, applied_at TIMESTAMP)"
        )
        done = one(con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations"))[0]
        for version, sql in enumerate(MIGRATIONS, 1):
            if version <= done:
                continue
            with transaction(con):
                con.execute(sql)
                con.execute("INSERT INTO schema_migrations VALUES (?, ?)", [version, now()])


# DuckDB column types → polars types for building bulk inserts (anything else is inferred).
_POLARS_TYPES = {
    "VARCHAR": "Utf8",
    "DOUBLE": "Float64",
    "INTEGER": "Int32",
    "BIGINT": "Int64",
    "BOOLEAN": "Boolean",
    "DATE": "Date",
    "TIMESTAMP": "Datetime",
}
# Up to this many values a table is built by DuckDB from the Python lists (a run of a few
# hundred clues never imports polars, ≈ 0.12 s); above it polars converts faster.
_SMALL_TABLE = 20_000


def arrow_table(
    con: Any, columns: dict[str, list[Any]], types: dict[str, str] | None = None
) -> Any:
    """Python lists as an Arrow table for `con.register` (every column VARCHAR unless `types`
    says otherwise), built without pyarrow's own conversion from Python objects, which imports
    pandas (~0.25 s) on every command that writes: by DuckDB (on `con`, the store's connection)
    for a small table, by polars for a large one (tests/test_store_tables.py: the same table
    either way)."""
    if sum(map(len, columns.values())) <= _SMALL_TABLE:
        return _duckdb_table(con, columns, types or {})
    return _polars_table(columns, types or {})


def _duckdb_table(con: Any, columns: dict[str, list[Any]], types: dict[str, str]) -> Any:
    from collide.engine.backend import quote_ident

    if not columns:
        return con.sql("SELECT 1 WHERE false").to_arrow_table().drop_columns(["1"])
    picked = []
    for i, name in enumerate(columns, 1):
        kind = types.get(name, "VARCHAR")
        value = f"unnest(${i})" if kind not in _POLARS_TYPES else f"CAST(unnest(${i}) AS {kind})"
        picked.append(f"{value} AS {quote_ident(name)}")
    return con.sql(f"SELECT {', '.join(picked)}", params=list(columns.values())).to_arrow_table()


def _polars_table(columns: dict[str, list[Any]], types: dict[str, str]) -> Any:
    import polars as pl

    overrides: dict[str, Any] = {}
    for name in columns:
        kind = _POLARS_TYPES.get(types.get(name, "VARCHAR"))
        if kind == "Datetime":
            overrides[name] = pl.Datetime("us")
        elif kind is not None:
            overrides[name] = getattr(pl, kind)
    return pl.DataFrame(columns, schema_overrides=overrides, strict=False).to_arrow()


def insert_rows(con: Any, table: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Bulk insert via Arrow (executemany is row-at-a-time)."""
    if not rows:
        return
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?", [table]
        ).fetchall()
    )
    data = arrow_table(con, {c: [r.get(c) for r in rows] for c in columns}, types)
    con.register("__bulk", data)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM __bulk")
    finally:
        con.unregister("__bulk")
