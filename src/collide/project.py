"""The facade: one object that the CLI, the Prefect flow and the tests all call.

`Project.run()` is `begin_run()` + ingest/validate/run each piece + `commit()`; the nightly flow
calls the same pieces as separate Prefect tasks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collide import derived
from collide.config.catalog import Catalog, Connector, Model, find_project_root, load_catalog
from collide.errors import CollideError, Problem, did_you_mean

if TYPE_CHECKING:
    from collide.engine.backend import Backend
    from collide.run import Run, RunResult

Progress = Callable[[str, int, "int | None"], None]
_LOOK_UP: Any = object()  # quality_report: find the previous snapshot in the store


class Project:
    def __init__(self, root: Path):
        self.root = root.resolve()
        self.catalog: Catalog = load_catalog(self.root)
        derived.use_project(self.root)  # SQL checks of unchanged models are reused
        self.engine_name: str | None = None  # `--engine`, over collide.yaml's `engine:`

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
        from collide.store.db import Store

        return Store(self.path(self.config.paths.store))

    # ------------------------------------------------------------------ check

    def check(self) -> list[Problem]:
        """All problems in the project, each with file and line."""
        from collide.config.catalog import model_order
        from collide.modelrun.execute import check_model, input_schemas, upstream_schema

        problems = list(self.catalog.problems.items)
        schemas = input_schemas(self.catalog, self.snapshot_schemas())
        models = self.catalog.models
        for model in model_order(list(models.values()), models):  # upstream models first
            try:
                found = check_model(model, self.catalog, schemas)
                problems.extend(found)
                if not found and any(model.id in m.spec.upstream for m in models.values()):
                    schemas[model.id] = upstream_schema(model, schemas)  # what readers bind to
            except CollideError as exc:
                problems.extend(exc.problems)
        if (self.engine_name or self.config.engine) == "spark":
            from collide.engine.spark_sql import model_problems

            for model in self.catalog.models.values():
                problems.extend(model_problems(model, schemas))
        from collide.quality import check_suites

        problems.extend(check_suites(self.root, self.expectations_dir, self.catalog.connectors))
        from collide.ingest.preflight import check_headers  # agency files' headers, paths

        problems.extend(check_headers(self.catalog, self.root))
        return problems

    def snapshot_schemas(self) -> dict[str, dict[str, str]]:
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

    def select(self, names: list[str] | None, upstream: bool = True) -> list[Model]:
        """The models to run, each after the models whose hits it reads (`model:` inputs; with
        `upstream`, those are added to the named ones)."""
        from collide.config.catalog import model_order

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
            return model_order(enabled, models)
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
        # a model reading other models' hits needs them in the same run (as dbt's +model)
        todo = list(out) if upstream else []
        while todo:
            for up in todo.pop().spec.upstream:
                if up in models and models[up] not in out:
                    out.append(models[up])
                    todo.append(models[up])
        return model_order(out, models)

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
            conn = self.connector(ds)
            try:
                out[ds] = ingest_dataset(
                    conn,
                    self.root,
                    self.snapshots_dir,
                    progress=progress,
                    data_dirs=self.config.data_dirs,
                )
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
            conn = self.connector(ds)
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
            out[ds] = self.quality_report(ds, snap, run_date or self.run_date())
        return out

    def engine(self) -> Backend:
        """The backend models run on: `engine:` of collide.yaml (or `--engine`), configured
        from its settings."""
        from collide.engine.backend import backend

        chosen = backend(self.engine_name or self.config.engine)
        if chosen.name == "spark":
            spark = self.config.spark
            root = spark.cluster_root(self.root)
            chosen.configure(spark.master, spark.conf, root)  # type: ignore[attr-defined]
        return chosen

    def run_date(self) -> dt.date:
        """The date runs judge the data against: `run_date:` of collide.yaml, else today."""
        return self.config.run_date or dt.date.today()

    def quality_report(
        self, ds: str, snap: Any, run_date: dt.date, previous_id: Any = _LOOK_UP
    ) -> Any:
        """The quality report of a snapshot (cached: a rerun on the same data reuses it).
        `previous_id`: the dataset's snapshot recorded before `snap`, when the caller knows it
        (a run reads them for all its datasets at once); else looked up in the store."""
        from collide.ingest import load_snapshot
        from collide.quality import cached_report

        previous = None
        if previous_id is _LOOK_UP:
            from collide.store import queries

            with self.store.connect(read_only=True) as con:
                previous_id = queries.previous_snapshot_id(con, ds, snap.snapshot_id)
        if previous_id:
            try:
                previous = load_snapshot(self.snapshots_dir, ds, previous_id)
            except CollideError:
                previous = None
        return cached_report(
            self.connector(ds),
            self.expectations_dir / f"{ds}.yaml",
            snap,
            previous,
            run_date,
            self.path(self.config.paths.store).parent / "quality-cache",
        )

    def connector(self, ds: str) -> Connector:
        """The connector of dataset `ds` (an unknown name is the user's mistake)."""
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
        from collide.modelrun.unittests import run_model_tests

        self.require_valid()
        return run_model_tests(self, self.select(names, upstream=False))  # (given rows)

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
        from collide.run import Run

        run = Run(
            self, self.select(select), params or {}, run_date or self.run_date(), keep_going, wait
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
        from collide.store import queries

        with self.store.connect() as con:
            rid = run_id or queries.latest_run(con)
            if rid is None:
                raise CollideError(
                    Problem(None, None, "no run has been recorded yet", "Run `collide run` first")
                )
            if not queries.run_exists(con, rid):
                known = queries.run_ids(con)
                raise CollideError(
                    Problem(
                        None, None, f'unknown run "{rid}"', did_you_mean(rid, known) or "See runs/"
                    )
                )
            dest = self.runs_dir / rid
            if not mask:
                dest = dest / "unmasked"
                queries.audit(
                    con,
                    "export_unmasked",
                    {"run_id": rid, "dest": str(dest), "formats": list(formats)},
                )
            export_run(self, con, rid, dest, mask=mask, formats=formats)
            return dest

    def clues(self, status: list[str] | None = None, run_id: str | None = None) -> list[dict]:
        from collide.export import run_clue_rows
        from collide.store import queries

        with self.store.connect(read_only=True) as con:
            rid = run_id or queries.latest_run(con)
            if rid is None:
                return []
            rows = run_clue_rows(con, rid, include_excluded=True)
        if status:
            rows = [r for r in rows if r["lifecycle"] in status or r["review_status"] in status]
        return rows

    def import_reviews(self, path: Path) -> dict[str, Any]:
        from collide.clues.reviews import import_reviews, resolve_path

        path = resolve_path(self, path)
        with self.store.connect() as con:
            return import_reviews(self, con, path)
