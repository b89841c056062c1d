"""The nightly run as Prefect tasks: ingest → quality gate → models → export → summary.

Loaded by file path (`flows/nightly.py:nightly`, see prefect.yaml and `collide schedule`). Every step
is a `Project`/`Run` method, the same ones `collide run` calls in-process; Prefect adds retries on
ingest, models running side by side, the UI, the schedule and the logs. One failing dataset or model
fails only its own task and the models that read it; the run is then recorded as partial.

Settings (environment, read when a run starts):
  COLLIDE_INGEST_RETRIES       retries of a failed ingest (default 2)
  COLLIDE_INGEST_RETRY_DELAY   seconds before the first retry, ×4 for each next one (default 30)
  COLLIDE_MODEL_WORKERS        models run at once (default: number of CPU cores, at most 4)
  COLLIDE_LOCK_WAIT            seconds to wait for another run holding the store (default 900)
  COLLIDE_NOTIFY_BLOCK         Prefect notification block that also gets the summary (optional)
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from prefect import allow_failure, flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import wait
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from collide.orchestrate import prefect as orchestrate
from collide.project import Project
from collide.run import DatasetState, ModelState, Run, RunResult

MODEL_WORKERS = int(os.environ.get("COLLIDE_MODEL_WORKERS") or min(4, os.cpu_count() or 2))
# Objects pass between tasks in-process: nothing to persist, nothing to cache.
IN_PROCESS = {"persist_result": False, "cache_policy": NO_CACHE}


def _failed(message: str) -> State:
    """A Failed state: Prefect marks the task failed and retries it if it has retries left.

    Returned rather than raised, so the log shows collide's message (file:line, problem, fix)
    instead of a Python traceback of the flow.
    """
    return Failed(message=message)


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


@task(
    name="ingest",
    task_run_name="ingest {dataset_id}",
    retries=2,
    retry_delay_seconds=30,
    **IN_PROCESS,
)
def ingest(run: Run, dataset_id: str) -> DatasetState | State:
    st = run.ingest(dataset_id)
    if st.status == "failed":
        return _failed(st.message)
    get_run_logger().info("%s: snapshot %s", dataset_id, st.snapshot.snapshot_id)
    return st


@task(name="validate", task_run_name="validate {dataset_id}", **IN_PROCESS)
def validate(run: Run, dataset_id: str) -> DatasetState | State:
    st = run.validate(dataset_id)
    if st.status != "ok":
        return _failed(st.message)
    if st.quality is not None:
        get_run_logger().info("%s: quality %s", dataset_id, st.quality.status)
    return st


@task(name="model", task_run_name="model {model_id}", **IN_PROCESS)
def model(run: Run, model_id: str) -> ModelState | State:
    st = run.run_model(model_id)
    logger = get_run_logger()
    if st.status == "failed":
        return _failed(st.message)
    if st.status == "skipped":
        logger.warning("%s skipped: %s", model_id, st.message)
        return Completed(name="Skipped", message=st.message)
    logger.info("%s: %d hits in %.2fs", model_id, st.hits, st.seconds)
    return st


@task(name="export", **IN_PROCESS)
def export(run: Run) -> RunResult:
    """Commit the run to the store and write the hit lists, evidence sheets and report."""
    result = run.commit()
    get_run_logger().info(
        "run %s committed: %d clues, written to %s", result.run_id, result.clues, result.run_dir
    )
    return result


@task(name="summary", **IN_PROCESS)
def summary(project: Project, result: RunResult) -> str:
    """The notification hook: runs/<run_id>/summary.txt, the run log, and an optional block."""
    text = orchestrate.summary_text(result, project)
    path = orchestrate.write_summary(result, project)
    logger = get_run_logger()
    (logger.info if result.status == "ok" else logger.warning)("%s\n(written to %s)", text, path)
    orchestrate.notify(f"collide {project.config.name} {result.run_id}: {result.status}", text)
    return text


@flow(
    name="nightly",
    persist_result=False,
    task_runner=ThreadPoolTaskRunner(max_workers=MODEL_WORKERS),
    on_failure=[orchestrate.notify_flow_failure],
    on_crashed=[orchestrate.notify_flow_failure],
)
def nightly(
    project_path: str = ".",
    run_date: str | None = None,
    select: list[str] | None = None,
    params: dict[str, Any] | None = None,
) -> RunResult | State:
    """collide nightly run: every dataset ingested and checked, every model run, hit lists written."""
    with orchestrate.collide_logs_to_prefect():
        project = Project.load(project_path)
        run = project.begin_run(
            select=select,
            params=params or {},
            run_date=dt.date.fromisoformat(run_date) if run_date else None,
            keep_going=True,
            wait=_env_number("COLLIDE_LOCK_WAIT", 900),
        )
        try:
            retries = int(_env_number("COLLIDE_INGEST_RETRIES", 2))
            delay = _env_number("COLLIDE_INGEST_RETRY_DELAY", 30)
            ingest_with_retries = ingest.with_options(
                retries=retries, retry_delay_seconds=[delay * 4**i for i in range(retries)] or 0
            )
            for ds in run.datasets:
                # A failed ingest is already recorded in run.datasets; the models that read
                # the dataset will be skipped with the reason.
                if ingest_with_retries(run, ds, return_state=True).is_completed():
                    validate(run, ds, return_state=True)
            # Each model opens its own DuckDB connection, so they can run side by side.
            # A model reading another's hits (`model:` inputs) starts once that one is done
            # (failed or not: it then records itself as skipped, with the reason).
            futures: dict[str, Any] = {}
            for mid in run.models:  # (in dependency order)
                ups = [
                    allow_failure(futures[u]) for u in run.model(mid).spec.upstream if u in futures
                ]
                futures[mid] = model.submit(run, mid, wait_for=ups)
            wait(list(futures.values()))
            result = export(run)
        finally:
            run.close()
        summary(project, result)
    if result.status == "ok":
        return result
    # Still a completed run (the hit lists are written), but named so the UI shows it is partial;
    # calling the flow returns the RunResult either way.
    problems = [
        f"dataset {k} {st.status}" for k, st in result.datasets.items() if st.status != "ok"
    ]
    problems += [f"model {k} {st.status}" for k, st in result.models.items() if st.status != "ok"]
    return Completed(name="Partial", message="; ".join(problems), data=result)
