"""The facade: one object that the CLI, the Prefect flow and the tests all call.

`Project.run()` is `begin_run()` + ingest/validate/run each piece + `commit()`; the nightly flow
calls the same pieces as separate Prefect tasks.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collide.catalog import Catalog, Model, find_project_root, load_catalog
from collide.engine import one
from collide.errors import CollideError, Problem, did_you_mean

Progress = Callable[[str, int, "int | None"], None]


@dataclass
class DatasetState:
    dataset_id: str
    status: str = "pending"  # ok | failed | blocked (quality) | pending
    message: str = ""
    snapshot: Any = None  # collide.ingest.SnapshotInfo
    ingest: Any = None  # collide.ingest.IngestReport
    quality: Any = None  # collide.quality.QualityReport


@dataclass
class ModelState:
    model_id: str
    version: str = ""
    status: str = "pending"  # ok | failed | skipped
    message: str = ""
    hits: int = 0
    seconds: float = 0.0
    clues: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    run_id: str
    status: str  # ok | partial
    run_dir: Path
    clues: int
    new: int
    ongoing: int
    gone: int
    datasets: dict[str, DatasetState]
    models: dict[str, ModelState]
    seconds: float
    problems: list[str] = field(default_factory=list)  # files that did not load


class Project:
    def __init__(self, root: Path):
        self.root = root.resolve()
        self.catalog: Catalog = load_catalog(self.root)

    @classmethod
    def load(cls, path: Path | str | None = None) -> Project:
        return cls(find_project_root(Path(path) if path else None))

    # ------------------------------------------------------------------ paths

    @property
    def config(self):
        return self.catalog.config

    def path(self, rel: str) -> Path:
        p = Path(rel)
        return p if p.is_absolute() else self.root / p

    @property
    def snapshots_dir(self) -> Path:
        return self.path(self.config.paths.snapshots)

    @property
    def runs_dir(self) -> Path:
        return self.path(self.config.paths.runs)

    @property
    def expectations_dir(self) -> Path:
        return self.path(self.config.paths.expectations)

    @property
    def store(self):
        from collide.store import Store

        return Store(self.path(self.config.paths.store))

    # ------------------------------------------------------------------ check

    def check(self) -> list[Problem]:
        """All problems in the project, each with file and line."""
        from collide.models import check_model, input_schemas

        problems = list(self.catalog.problems.items)
        schemas = input_schemas(self.catalog, self._snapshot_schemas())
        for model in self.catalog.models.values():
            try:
                problems.extend(check_model(model, self.catalog, schemas))
            except CollideError as exc:
                problems.extend(exc.problems)
        from collide.quality import check_suites

        problems.extend(check_suites(self.root, self.expectations_dir, self.catalog.connectors))
        return problems

    def _snapshot_schemas(self) -> dict[str, dict[str, str]]:
        from collide.ingest import latest_snapshot

        out = {}
        for ds in self.catalog.connectors:
            snap = latest_snapshot(self.snapshots_dir, ds)
            if snap is not None:
                out[ds] = snap.schema
        return out

    def require_valid(self) -> None:
        """Refuse to go on while the files the run needs have static problems."""
        if self.catalog.problems:
            raise CollideError(self.catalog.problems.items)

    def select(self, names: list[str] | None) -> list[Model]:
        models = self.catalog.models
        if not names:
            enabled = [m for m in models.values() if m.spec.enabled]
            if not enabled and not self.catalog.problems:
                raise CollideError(
                    Problem(
                        self.config.paths.models,
                        None,
                        "no models to run",
                        "Add models/<id>.yaml and models/<id>.sql (README: "
                        '"Add a model in five minutes")',
                    )
                )
            return enabled
        out = []
        for name in names:
            if name not in models:
                raise CollideError(
                    Problem(
                        None,
                        None,
                        f'unknown model "{name}"',
                        did_you_mean(name, models) or "See `collide models`",
                    )
                )
            out.append(models[name])
        return out

    # ------------------------------------------------------------------ steps

    def ingest(
        self,
        datasets: list[str] | None = None,
        progress: Progress | None = None,
        keep_going: bool = True,
    ) -> dict[str, Any]:
        """Ingest datasets; result per dataset is an IngestReport or the CollideError."""
        from collide.ingest import ingest_dataset

        self.require_valid()
        names = datasets or list(self.catalog.connectors)
        out: dict[str, Any] = {}
        for ds in names:
            conn = self._connector(ds)
            try:
                out[ds] = ingest_dataset(conn, self.root, self.snapshots_dir, progress=progress)
            except CollideError as exc:
                if not keep_going:
                    raise
                out[ds] = exc
        return out

    def validate(
        self, datasets: list[str] | None = None, run_date: dt.date | None = None
    ) -> dict[str, Any]:
        """Quality reports for the latest snapshots (no run is recorded)."""
        from collide.ingest import latest_snapshot

        self.require_valid()
        out = {}
        for ds in datasets or list(self.catalog.connectors):
            conn = self._connector(ds)
            snap = latest_snapshot(self.snapshots_dir, ds)
            if snap is None:
                raise CollideError(
                    Problem(
                        conn.display,
                        None,
                        f'dataset "{ds}" has no snapshot yet',
                        f"Run `collide ingest {ds}` first",
                    )
                )
            out[ds] = self._quality(ds, snap, run_date or dt.date.today())
        return out

    def _quality(self, ds: str, snap: Any, run_date: dt.date) -> Any:
        """The quality report of a snapshot, validated once per (snapshot, suite, previous
        snapshot, connector, run date): a rerun on the same data reuses it without loading GX."""
        import hashlib

        from collide.ingest import load_snapshot
        from collide.quality import QualityReport, validate_dataset

        suite = self.expectations_dir / f"{ds}.yaml"
        conn = self._connector(ds)
        previous = None
        with self.store.connect(read_only=True) as con:
            row = one(
                con.execute(
                    "SELECT snapshot_id FROM snapshots WHERE dataset_id = ? AND snapshot_id <> ? "
                    "ORDER BY created_at DESC LIMIT 1",
                    [ds, snap.snapshot_id],
                )
            )
        if row:
            try:
                previous = load_snapshot(self.snapshots_dir, ds, row[0])
            except CollideError:
                previous = None
        key = hashlib.sha256(
            "\0".join(
                [
                    ds,
                    snap.snapshot_id,
                    previous.snapshot_id if previous is not None else "",
                    run_date.isoformat(),
                    suite.read_text(encoding="utf-8") if suite.exists() else "(default suite)",
                    conn.path.read_text(encoding="utf-8"),
                ]
            ).encode()
        ).hexdigest()[:20]
        cache = self.path(self.config.paths.store).parent / "quality-cache" / f"{ds}-{key}.json"
        if cache.exists():
            try:
                return QualityReport.from_dict(json.loads(cache.read_text(encoding="utf-8")))
            except (ValueError, TypeError, KeyError):
                pass  # an unreadable cache entry is simply recomputed
        report = validate_dataset(conn, suite if suite.exists() else None, snap, previous, run_date)
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(report.to_dict(), ensure_ascii=False), encoding="utf-8")
        tmp.replace(cache)
        return report

    def _connector(self, ds: str):
        if ds not in self.catalog.connectors:
            raise CollideError(
                Problem(
                    None,
                    None,
                    f'unknown dataset "{ds}"',
                    did_you_mean(ds, self.catalog.connectors) or "See the connectors/ folder",
                )
            )
        return self.catalog.connectors[ds]

    def test(self, names: list[str] | None = None):
        from collide.modeltests import run_model_tests

        self.require_valid()
        return run_model_tests(self, self.select(names))

    # ------------------------------------------------------------------ runs

    def begin_run(
        self,
        select: list[str] | None = None,
        params: dict[str, Any] | None = None,
        run_date: dt.date | None = None,
        keep_going: bool = False,
        wait: float = 0.0,
    ) -> Run:
        if not keep_going:
            self.require_valid()
        # keep_going (the nightly run): a file that does not load is reported, the rest runs.
        run = Run(
            self, self.select(select), params or {}, run_date or dt.date.today(), keep_going, wait
        )
        run.problems = [str(p) for p in self.catalog.problems.items]
        return run

    def run(
        self,
        select: list[str] | None = None,
        params: dict[str, Any] | None = None,
        *,
        ingest: bool = True,
        validate: bool = True,
        run_date: dt.date | None = None,
        keep_going: bool = False,
        wait: float = 0.0,
        progress: Progress | None = None,
    ) -> RunResult:
        run = self.begin_run(select, params, run_date, keep_going, wait)
        try:
            step = progress or (lambda label, done, total: None)
            n_ds, n_models = len(run.datasets), len(run.models)
            for i, ds in enumerate(run.datasets):
                step("datasets: ingest + quality", i, n_ds)
                if ingest:
                    run.ingest(ds, progress)
                else:
                    run.use_latest(ds)
                if validate:
                    run.validate(ds)
            step("datasets: ingest + quality", n_ds, n_ds)
            for i, mid in enumerate(run.models):
                step("models", i, n_models)
                run.run_model(mid)
            step("models", n_models, n_models)
            return run.commit()
        finally:
            run.close()

    def export(
        self,
        run_id: str | None = None,
        formats: tuple[str, ...] = ("csv", "xlsx"),
        mask: bool = True,
    ) -> Path:
        from collide.export import export_run

        with self.store.connect() as con:
            rid = run_id or self.store.latest_run(con)
            if rid is None:
                raise CollideError(
                    Problem(None, None, "no run has been recorded yet", "Run `collide run` first")
                )
            exists = one(con.execute("SELECT 1 FROM runs WHERE run_id = ?", [rid]))
            if not exists:
                known = [r[0] for r in con.execute("SELECT run_id FROM runs").fetchall()]
                raise CollideError(
                    Problem(
                        None, None, f'unknown run "{rid}"', did_you_mean(rid, known) or "See runs/"
                    )
                )
            dest = self.runs_dir / rid
            if not mask:
                dest = dest / "unmasked"
                self.store.audit(
                    con,
                    "export_unmasked",
                    {"run_id": rid, "dest": str(dest), "formats": list(formats)},
                )
            return export_run(self, con, rid, dest, mask=mask, formats=formats)

    def clues(self, status: list[str] | None = None, run_id: str | None = None) -> list[dict]:
        from collide.export import run_clue_rows

        with self.store.connect(read_only=True) as con:
            rid = run_id or self.store.latest_run(con)
            if rid is None:
                return []
            rows = run_clue_rows(con, rid, include_excluded=True)
        if status:
            rows = [r for r in rows if r["lifecycle"] in status or r["review_status"] in status]
        return rows

    def import_reviews(self, path: Path) -> dict[str, int]:
        from collide.reviews import import_reviews

        with self.store.connect() as con:
            return import_reviews(self, con, path)


class Run:
    """One run in progress: holds the lock, collects results, writes everything at commit."""

    def __init__(
        self,
        project: Project,
        models: list[Model],
        params: dict[str, Any],
        run_date: dt.date,
        keep_going: bool,
        wait: float,
    ):
        from collide.models import resolve_params
        from collide.store import RunLock

        self.project = project
        self.keep_going = keep_going
        self.run_date = run_date
        now = dt.datetime.now()
        self.started = now.replace(microsecond=0)
        self.t0 = time.perf_counter()
        # Sorts in start order (milliseconds), unique across machines (random suffix).
        self.run_id = f"{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}{secrets.token_hex(1)}"
        self.params = params
        self.model_params = {m.id: resolve_params(m, params) for m in models}
        self.models: dict[str, ModelState] = {m.id: ModelState(m.id, m.version) for m in models}
        self._model_objs = {m.id: m for m in models}
        needed: list[str] = []
        for m in models:
            for ds in m.spec.inputs:
                if ds not in needed:
                    needed.append(ds)
        self.datasets: dict[str, DatasetState] = {ds: DatasetState(ds) for ds in needed}
        self.lock = RunLock(project.store.path.with_name(project.store.path.name + ".lock"))
        self.problems: list[str] = []  # files that did not load (keep_going runs only)
        self.lock.acquire(wait)

    def close(self) -> None:
        self.lock.release()

    def _fail(self, state: Any, exc: Exception) -> None:
        state.status = "failed"
        state.message = (
            str(exc)
            if isinstance(exc, CollideError)
            else (f"internal error: {type(exc).__name__}: {exc}")
        )
        if isinstance(exc, CollideError):
            if not self.keep_going:
                raise exc
        elif not self.keep_going:
            raise exc

    def ingest(self, ds: str, progress: Progress | None = None) -> DatasetState:
        from collide.ingest import ingest_dataset

        st = self.datasets[ds]
        st.status, st.message = "pending", ""  # a retry starts afresh
        try:
            rep = ingest_dataset(
                self.project._connector(ds),
                self.project.root,
                self.project.snapshots_dir,
                progress=progress,
            )
            st.ingest = rep
            self._set_snapshot(st, rep.snapshot_id)
        except Exception as exc:
            self._fail(st, exc)
        return st

    def use_latest(self, ds: str) -> DatasetState:
        from collide.ingest import latest_snapshot

        st = self.datasets[ds]
        snap = latest_snapshot(self.project.snapshots_dir, ds)
        if snap is None:
            self._fail_dataset(
                st,
                f'dataset "{ds}" has no snapshot yet',
                "Run without --no-ingest, or `collide ingest`",
            )
        else:
            self._set_snapshot(st, snap.snapshot_id)
        return st

    def _set_snapshot(self, st: DatasetState, snapshot_id: str) -> None:
        from collide.ingest import load_snapshot

        st.snapshot = load_snapshot(self.project.snapshots_dir, st.dataset_id, snapshot_id)
        st.status = "ok"
        if st.snapshot.manifest.get("rows_loaded", 1) == 0:
            files = ", ".join(f["path"] for f in st.snapshot.manifest.get("files", [])) or "source"
            self._fail_dataset(
                st,
                f'dataset "{st.dataset_id}" is empty: no rows loaded from {files}',
                "Check the agency file (rejected rows are in the snapshot's rejects.parquet) "
                "or fix the connector",
            )

    def _fail_dataset(self, st: DatasetState, message: str, fix: str) -> None:
        """A dataset problem, reported at its connector file."""
        display = self.project._connector(st.dataset_id).display
        self._fail(st, CollideError(Problem(display, None, message, fix)))

    def validate(self, ds: str) -> DatasetState:
        st = self.datasets[ds]
        if st.status != "ok":
            return st
        try:
            rep = self.project._quality(ds, st.snapshot, self.run_date)
        except Exception as exc:
            st.status, st.message = "failed", f"quality check failed: {exc}"
            if not self.keep_going and not isinstance(exc, CollideError):
                raise
            return st
        st.quality = rep
        if rep is not None and rep.status == "fail":
            st.status = "blocked"
            failed = [
                o.description_zh or o.expectation
                for o in rep.outcomes
                if not o.success and o.blocking
            ]
            st.message = "data-quality gate failed: " + "; ".join(failed)
        return st

    def run_model(self, mid: str) -> ModelState:
        from collide.clues import build_clues
        from collide.models import execute_model

        st = self.models[mid]
        model = self._model_objs[mid]
        bad = [ds for ds in model.spec.inputs if self.datasets[ds].status != "ok"]
        if bad:
            st.status = "skipped"
            st.message = "; ".join(
                f"input {ds} {self.datasets[ds].status}: {self.datasets[ds].message}" for ds in bad
            )
            return st
        inputs = {ds: self.datasets[ds].snapshot.data_path for ds in model.spec.inputs}
        try:
            out = execute_model(
                model,
                inputs,
                self.model_params[mid],
                max_evidence_rows=self.project.config.export.max_evidence_rows,
                workdays=self.project.config.workdays(),
            )
        except Exception as exc:
            self._fail(st, exc)
            return st
        warnings: list[str] = []
        for ds in model.spec.inputs:
            q = self.datasets[ds].quality
            if q is not None:
                title = self.project.catalog.connectors[ds].spec.title
                warnings.extend(f"{title}：{w}" for w in q.warnings_zh())
        st.clues = build_clues(model, out)
        for c in st.clues:
            c.warnings = list(warnings)
        if out.uncovered_years:
            # the clues whose own dates fall in such a year (all of them if none shows a date)
            years = set(out.uncovered_years)
            dated = [
                c
                for c in st.clues
                if any(isinstance(v, dt.date) and v.year in years for v in c.output.values())
            ]
            named = "、".join(str(y) for y in sorted(years))
            for c in dated or st.clues:
                c.warnings.append(
                    f"工作日期限：{named}年的法定节假日未配置（collide.yaml 的 holidays），"
                    "按仅跳过周末计算，期限可能偏早，请人工核对"
                )
        st.hits, st.seconds, st.notes, st.status = len(st.clues), out.seconds, out.notes, "ok"
        return st

    # ------------------------------------------------------------------ commit

    def commit(self) -> RunResult:
        from collide.clues import rank
        from collide.export import export_run
        from collide.lifecycle import apply_lifecycle

        clues = rank([c for st in self.models.values() for c in st.clues])
        status = (
            "ok"
            if all(s.status == "ok" for s in self.models.values())
            and all(d.status == "ok" for d in self.datasets.values())
            and not self.problems
            else "partial"
        )
        finished = dt.datetime.now().replace(microsecond=0)
        summary = self._summary(status, finished)
        store = self.project.store
        with store.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                gone = apply_lifecycle(self, con, clues, summary)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            run_dir = self.project.runs_dir / self.run_id
            mask = self.project.config.export.mask_ids
            formats = ("csv", "xlsx") if self.project.config.export.xlsx else ("csv",)
            export_run(
                self.project,
                con,
                self.run_id,
                run_dir,
                mask=mask,
                formats=formats,
            )
        counts = {"新增": 0, "持续": 0}
        for c in clues:
            counts[c.lifecycle] = counts.get(c.lifecycle, 0) + 1
        return RunResult(
            self.run_id,
            status,
            run_dir,
            len(clues),
            counts["新增"],
            counts["持续"],
            gone,
            self.datasets,
            self.models,
            time.perf_counter() - self.t0,
            self.problems,
        )

    def _summary(self, status: str, finished: dt.datetime) -> dict[str, Any]:
        def ds_info(st: DatasetState) -> dict[str, Any]:
            snap = st.snapshot
            man = snap.manifest if snap is not None else {}
            return {
                "status": st.status,
                "message": st.message,
                "snapshot_id": snap.snapshot_id if snap is not None else None,
                "rows_loaded": man.get("rows_loaded"),
                "rows_rejected": man.get("rows_rejected"),
                "rows_read": man.get("rows_read"),
                "quality": st.quality.status if st.quality is not None else None,
                "ingest_seconds": round(st.ingest.seconds, 3) if st.ingest is not None else None,
            }

        return {
            "run_id": self.run_id,
            "status": status,
            "run_date": self.run_date.isoformat(),
            "started_at": self.started.isoformat(),
            "finished_at": finished.isoformat(),
            "seconds": round(time.perf_counter() - self.t0, 3),
            "params": self.params,
            "problems": self.problems,
            "datasets": {ds: ds_info(st) for ds, st in self.datasets.items()},
            "models": {
                mid: {
                    "version": st.version,
                    "status": st.status,
                    "message": st.message,
                    "hits": st.hits,
                    "seconds": round(st.seconds, 3),
                    "notes": st.notes,
                    "params": self.model_params[mid],
                }
                for mid, st in self.models.items()
            },
        }
