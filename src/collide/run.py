"""A run in progress and its result: the typed state that the facade, the CLI and the Prefect
flow share. `Run` holds the lock, collects each dataset's and model's outcome, and writes
everything into the store at `commit()` (or nothing)."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collide.config.catalog import Model
from collide.errors import CollideError, Problem

if TYPE_CHECKING:
    from collide.clues.build import Clue
    from collide.ingest import IngestReport, SnapshotInfo
    from collide.project import Progress, Project
    from collide.quality import QualityReport


@dataclass
class DatasetState:
    dataset_id: str
    status: str = "pending"  # ok | failed | blocked (quality) | pending
    message: str = ""
    snapshot: SnapshotInfo | None = None
    ingest: IngestReport | None = None
    quality: QualityReport | None = None


@dataclass
class ModelState:
    model_id: str
    version: str = ""
    status: str = "pending"  # ok | failed | skipped
    message: str = ""
    hits: int = 0
    seconds: float = 0.0
    clues: list[Clue] = field(default_factory=list)
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
    excluded: int = 0  # hit again but excluded by a reviewer (排除), not listed


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
        from collide.modelrun.execute import resolve_params
        from collide.store.db import RunLock

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
        self._selected: dict[str, Model] = {m.id: m for m in models}
        needed: list[str] = []
        for m in models:
            for ds in m.spec.datasets:
                if ds not in needed:
                    needed.append(ds)
        self.datasets: dict[str, DatasetState] = {ds: DatasetState(ds) for ds in needed}
        self.lock = RunLock(project.store.path.with_name(project.store.path.name + ".lock"))
        self.problems: list[str] = []  # files that did not load (keep_going runs only)
        self.hits: dict[str, Any] = {}  # model → its hits (Arrow), for models reading it
        self._latest: dict[str, tuple[str | None, str | None]] | None = None
        self.lock.acquire(wait)

    def close(self) -> None:
        self.lock.release()

    def model(self, mid: str) -> Model:
        """The model of this run called `mid` (as selected when the run began)."""
        return self._selected[mid]

    def _fail(self, state: DatasetState | ModelState, exc: Exception) -> None:
        """Record a failed step. The run's steps are the nightly's edge: in a keep-going run a
        bug is recorded as an internal error and the other steps go on; otherwise it is raised
        (the CLI reports it as a bug)."""
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
                self.project.connector(ds),
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
        display = self.project.connector(st.dataset_id).display
        self._fail(st, CollideError(Problem(display, None, message, fix)))

    def validate(self, ds: str) -> DatasetState:
        st = self.datasets[ds]
        if st.status != "ok":
            return st
        try:
            snap = self._snapshot(ds)
            first, second = self._recorded()[ds]
            previous = second if first == snap.snapshot_id else first
            rep = self.project.quality_report(ds, snap, self.run_date, previous)
        except CollideError as exc:
            st.status, st.message = "failed", f"quality check failed: {exc}"
            return st
        except Exception as exc:  # a bug in collide: recorded as one (keep-going) or raised
            self._fail(st, exc)
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

    def _recorded(self) -> dict[str, tuple[str | None, str | None]]:
        """Each dataset's two latest snapshots recorded in the store, newest first, read once
        for every dataset of the run (one store connection, not one per dataset): snapshots are
        recorded only at a run's commit, under the run lock this run holds, so they cannot
        change before this run's own commit."""
        if self._latest is None:
            from collide.store import queries

            latest = {}
            with self.project.store.connect(read_only=True) as con:
                for ds in self.datasets:
                    first = queries.previous_snapshot_id(con, ds, "")  # (no snapshot id is "")
                    second = queries.previous_snapshot_id(con, ds, first) if first else None
                    latest[ds] = (first, second)
            self._latest = latest
        return self._latest

    def run_model(self, mid: str) -> ModelState:
        from collide.clues.build import build_clues
        from collide.modelrun.execute import execute_model, session_limits

        st = self.models[mid]
        model = self.model(mid)
        if why := self._upstream_missing(model):
            st.status, st.message = "skipped", why
            return st
        bad = [ds for ds in model.spec.datasets if self.datasets[ds].status != "ok"]
        if bad:
            st.status = "skipped"
            st.message = "; ".join(
                f"input {ds} {self.datasets[ds].status}: {self.datasets[ds].message}" for ds in bad
            )
            return st
        from collide.modelrun.columns import incomplete_inputs

        snaps = {ds: self._snapshot(ds) for ds in model.spec.datasets}
        if why := incomplete_inputs(model, self.project.catalog, snaps):
            st.status, st.message = "skipped", why  # a column it reads is missing or empty
            return st
        inputs: dict[str, Any] = {ds: snaps[ds].data_path for ds in model.spec.datasets}
        inputs.update({up: self.hits[up] for up in model.spec.upstream})
        config = self.project.config
        try:
            out = execute_model(
                model,
                inputs,
                self.model_params[mid],
                max_evidence_rows=config.export.max_evidence_rows,
                workdays=config.workdays(),
                limits=session_limits(model, config, self.project.root),
                engine=self.project.engine(),
            )
        except Exception as exc:
            self._fail(st, exc)
            return st
        if any(mid in m.spec.upstream for m in self._selected.values()):
            from collide.modelrun.execute import upstream_table

            # (only when a model of this run reads it: building it from Python values makes
            # pyarrow import pandas)
            self.hits[mid] = upstream_table(model, out)
        warnings: list[str] = []
        for ds in model.spec.datasets:
            q = self.datasets[ds].quality
            if q is not None:
                title = self.project.catalog.connectors[ds].spec.title
                warnings.extend(f"{title}：{w}" for w in q.warnings_zh())
        st.clues = build_clues(model, out)
        for c in st.clues:
            c.warnings = list(warnings)
        if model.spec.upstream:
            self._reach_back(model, st.clues)
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

    def _upstream_missing(self, model: Model) -> str:
        """Why a model reading other models' hits cannot run now ("" if it can)."""
        why = []
        for up in model.spec.upstream:
            ust = self.models.get(up)
            if ust is None:
                why.append(f"upstream model {up} is not part of this run (disabled?)")
            elif ust.status != "ok" or up not in self.hits:
                detail = f": {ust.message}" if ust.message else ""
                why.append(f"upstream model {up} {ust.status}{detail}")
        return "; ".join(why)

    def _reach_back(self, model: Model, clues: list[Clue]) -> None:
        """A downstream clue's evidence names the upstream hits it joined (their `_clue_id`);
        the evidence rows of those upstream clues are attached after them, so the sheet
        reaches back to the agency rows the chain started from."""
        import json

        from collide.clues.build import evidence_hash

        upstream = {c.clue_id: c for up in model.spec.upstream for c in self.models[up].clues}
        for clue in clues:
            extra = []
            seen: set[str] = set()
            for row in clue.evidence:
                if row.dataset not in model.spec.upstream:
                    continue
                cid = json.loads(row.row_json).get("_clue_id")
                if cid in upstream and cid not in seen:
                    seen.add(cid)
                    extra.extend(upstream[cid].evidence)
            if extra:
                clue.evidence = [*clue.evidence, *extra]
                clue.evidence_hash = evidence_hash(clue.evidence, clue.output)

    def _snapshot(self, ds: str) -> SnapshotInfo:
        snap = self.datasets[ds].snapshot
        assert snap is not None, f"{ds} has no snapshot although its status is ok"
        return snap

    # ------------------------------------------------------------------ commit

    def commit(self) -> RunResult:
        from collide.clues.build import rank
        from collide.clues.lifecycle import apply_lifecycle
        from collide.export import export_run

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
        from collide.store.db import transaction

        with self.project.store.connect() as con:
            with transaction(con):
                apply_lifecycle(self, con, clues, summary)
            # The evidence rows are in the store now, and the exports read them from there: the
            # copies held by the clues (every row of 100k clues) are let go before exporting.
            for c in clues:
                c.evidence = []
            run_dir = self.project.runs_dir / self.run_id
            mask = self.project.config.export.mask_ids
            formats = ("csv", "xlsx") if self.project.config.export.xlsx else ("csv",)
            # The figures the hit list shows (collide.export.hitlist): one count everywhere.
            counts = export_run(self.project, con, self.run_id, run_dir, mask=mask, formats=formats)
        return RunResult(
            self.run_id,
            status,
            run_dir,
            counts.listed,
            counts.new,
            counts.ongoing,
            counts.gone,
            self.datasets,
            self.models,
            time.perf_counter() - self.t0,
            self.problems,
            counts.excluded,
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
