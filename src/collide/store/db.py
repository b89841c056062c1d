"""The store: one DuckDB file holding runs, snapshots, model versions, clues, sightings,
evidence, reviews and the audit log.

Schema changes are numbered migrations applied in a transaction; a run's results are written in
one transaction at its end, so a crash leaves the previous state as it was. A lock file beside
the database keeps two runs from writing at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from collide.engine.duckdb import one
from collide.errors import CollideError, Problem

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
    """An exclusive lock file: a second run refuses (or waits) instead of corrupting the store."""

    def __init__(self, path: Path):
        self.path = path
        self._fh: Any = None

    def acquire(self, wait: float = 0.0) -> None:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    holder = fh.read().strip() or "another process"
                    fh.close()
                    raise CollideError(
                        Problem(
                            str(self.path),
                            None,
                            f"another collide run is in progress ({holder})",
                            "Wait for it to finish, or pass --wait SECONDS to queue behind it",
                        )
                    ) from None
                time.sleep(0.5)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}, started {now().isoformat(sep=' ')}")
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            import fcntl

            self._fh.seek(0)
            self._fh.truncate()
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


class Store:
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
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(sql)
                con.execute("INSERT INTO schema_migrations VALUES (?, ?)", [version, now()])
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise

    # ------------------------------------------------------------------ reads

    def prior_clues(self, con: Any, clue_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not clue_ids:
            return {}
        con.register("__ids", _arrow({"clue_id": clue_ids}))
        rows = con.execute("SELECT c.* FROM clues c JOIN __ids USING (clue_id)").fetchall()
        cols = [d[0] for d in con.description]
        con.unregister("__ids")
        return {r[0]: dict(zip(cols, r)) for r in rows}

    def last_active(self, con: Any, model_id: str) -> tuple[str | None, dict[str, dict]]:
        """The last committed run that ran `model_id`, and its active (not gone) clues."""
        row = one(
            con.execute(
                "SELECT rm.run_id FROM run_models rm JOIN runs r USING (run_id) "
                "WHERE rm.model_id = ? AND rm.status = 'ok' "
                "ORDER BY r.started_at DESC, r.run_id DESC LIMIT 1",
                [model_id],
            )
        )
        if not row:
            return None, {}
        rows = con.execute(
            "SELECT s.clue_id, c.subject_type, c.subject_id, c.subject_name, s.reason, "
            "s.evidence_hash, s.model_version FROM sightings s JOIN clues c USING (clue_id) "
            "WHERE s.run_id = ? AND s.model_id = ? AND s.lifecycle <> '已消失'",
            [row[0], model_id],
        ).fetchall()
        keys = [
            "clue_id",
            "subject_type",
            "subject_id",
            "subject_name",
            "reason",
            "evidence_hash",
            "model_version",
        ]
        return row[0], {r[0]: dict(zip(keys, r)) for r in rows}

    def latest_run(self, con: Any) -> str | None:
        row = one(
            con.execute("SELECT run_id FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 1")
        )
        return row[0] if row else None

    def previous_row_count(self, con: Any, dataset_id: str, snapshot_id: str) -> int | None:
        row = one(
            con.execute(
                "SELECT rows_loaded FROM snapshots WHERE dataset_id = ? AND snapshot_id <> ? "
                "ORDER BY created_at DESC LIMIT 1",
                [dataset_id, snapshot_id],
            )
        )
        return row[0] if row else None

    def audit(self, con: Any, action: str, detail: dict[str, Any]) -> None:
        """Who did what, when: the operating-system account and host are recorded with it."""
        import getpass
        import socket

        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (some containers)
            user = f"uid {os.getuid()}"
        who = {"user": user, "host": socket.gethostname(), **detail}
        con.execute(
            "INSERT INTO audit_log VALUES (?, ?, ?)",
            [now(), action, json.dumps(who, ensure_ascii=False, default=str)],
        )


def _arrow(columns: dict[str, list[Any]]) -> Any:
    import pyarrow as pa

    return pa.table(columns)


def insert_rows(con: Any, table: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Bulk insert via Arrow (executemany is row-at-a-time)."""
    if not rows:
        return
    import pyarrow as pa

    data = pa.table({c: [r.get(c) for r in rows] for c in columns})
    con.register("__bulk", data)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM __bulk")
    finally:
        con.unregister("__bulk")
