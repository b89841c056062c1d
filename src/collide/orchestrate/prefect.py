"""The Prefect adapter: the nightly deployment, `collide schedule`, and the run-summary hook.

The flow itself lives in the project's `flows/nightly.py` (loaded by file path) and calls only
`Project`/`Run` methods. This module is the only one in the package that imports Prefect, and it
does so inside functions, so `collide --help` and `collide run` never pay for it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collide.errors import CollideError, Problem

if TYPE_CHECKING:
    from collide.project import Project
    from collide.run import RunResult

FLOW_FILE = "flows/nightly.py"
FLOW_FUNCTION = "nightly"
SUMMARY_FILE = "summary.txt"
# A Prefect notification block (e.g. "custom-webhook/collide-ops") to send each summary to.
NOTIFY_BLOCK_ENV = "COLLIDE_NOTIFY_BLOCK"

log = logging.getLogger("collide.orchestrate.prefect")


# --------------------------------------------------------------------------- logging


@contextlib.contextmanager
def keep_logging() -> Iterator[None]:
    """Import Prefect without letting its logging config swallow the CLI's logging.

    `import prefect` runs `logging.config.dictConfig`, which resets the root logger to WARNING and
    may replace its handlers; the terminal output `collide` set up must survive that.
    """
    names = ["", "collide"]
    saved = {
        n: (
            logging.getLogger(n).level,
            list(logging.getLogger(n).handlers),
            logging.getLogger(n).propagate,
            logging.getLogger(n).disabled,
        )
        for n in names
    }
    try:
        yield
    finally:
        for n, (level, handlers, propagate, disabled) in saved.items():
            lg = logging.getLogger(n)
            if handlers:  # someone (the CLI) configured it: put it back exactly
                lg.setLevel(level)
                lg.handlers[:] = handlers
            lg.propagate, lg.disabled = propagate, disabled


def _prefect():
    with keep_logging():
        import prefect

    return prefect


@contextlib.contextmanager
def collide_logs_to_prefect() -> Iterator[None]:
    """Send the engine's `collide.*` log records to the current Prefect run's log, too."""
    _prefect()
    from prefect.logging.handlers import APILogHandler

    logger = logging.getLogger("collide")
    handler = APILogHandler()
    handler.setLevel(logging.INFO)
    old_level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


# --------------------------------------------------------------------------- deployment


def flow_file(project: Project) -> Path:
    path = project.root / FLOW_FILE
    if not path.is_file():
        raise CollideError(
            Problem(
                str(project.root),
                None,
                f"{FLOW_FILE} is missing in this project",
                f"To fix this, copy {FLOW_FILE} from the collide repository into the project",
            )
        )
    return path


def load_nightly_flow(project: Project) -> Any:
    """The `nightly` flow object from the project's flows/nightly.py."""
    _prefect()
    from prefect.flows import load_flow_from_entrypoint

    return load_flow_from_entrypoint(f"{flow_file(project)}:{FLOW_FUNCTION}")


def nightly_schedule(project: Project) -> Any:
    """A Prefect `Cron` schedule from collide.yaml's `schedule:` (cron + IANA timezone)."""
    _prefect()
    from prefect.client.schemas.schedules import is_valid_timezone
    from prefect.schedules import Cron

    sch = project.config.schedule
    where = str(project.root / "collide.yaml")
    if not is_valid_timezone(sch.timezone):
        raise CollideError(
            Problem(
                where,
                None,
                f'schedule.timezone "{sch.timezone}" is not an IANA time zone',
                'To fix this, write e.g. "Asia/Shanghai"',
            )
        )
    try:
        return Cron(sch.cron, timezone=sch.timezone)
    except ValueError as exc:
        raise CollideError(
            Problem(
                where,
                None,
                f'schedule.cron "{sch.cron}" is not a valid cron expression ({exc})',
                'To fix this, write five fields, e.g. "0 2 * * *" (02:00 daily)',
            )
        ) from None


def build_deployment(project: Project, flow: Any = None) -> Any:
    """The nightly deployment (a `RunnerDeployment`), ready for `serve()`; nothing is sent yet.

    The entrypoint is recorded relative to the current directory, as Prefect does; `collide
    schedule` runs from the project root so it reads `flows/nightly.py:nightly`, as in prefect.yaml.
    """
    flow = flow or load_nightly_flow(project)
    return flow.to_deployment(
        name=project.config.schedule.deployment,
        schedule=nightly_schedule(project),
        parameters={"project_path": str(project.root)},
        description=f"collide nightly run of {project.config.name}: ingest, quality gate, "
        "models, hit lists, summary.",
        tags=["collide"],
    )


def ui_url() -> str | None:
    """Where the Prefect UI is, from Prefect's settings (None: no server configured)."""
    _prefect()
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if not settings.api.url:
        return None
    return settings.ui_url or settings.api.url.removesuffix("/api")


def next_runs(deployment: Any, n: int = 3) -> list[str]:
    """The next `n` start times of the deployment's cron schedules, in their time zone."""
    import asyncio

    from prefect.client.schemas.schedules import CronSchedule
    from prefect.server.schemas.schedules import CronSchedule as ServerCronSchedule

    out = []
    for sch in deployment.schedules or []:
        s = sch.schedule
        if isinstance(s, CronSchedule):
            dates = asyncio.run(
                ServerCronSchedule(cron=s.cron, timezone=s.timezone, day_or=s.day_or).get_dates(n)
            )
            out.extend(d.isoformat(" ", "minutes") for d in dates)
    return out


def pool_of_existing(deployment: Any) -> str | None:
    """The work pool of a deployment already registered under this name, if any."""
    import httpx
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            found = client.read_deployment_by_name(f"{deployment.flow_name}/{deployment.name}")
    except ObjectNotFound:
        return None
    except httpx.TransportError as exc:
        from prefect.settings import get_current_settings

        url = str(get_current_settings().api.url)
        raise CollideError(
            Problem(
                url,
                None,
                f"no Prefect server answers ({exc})",
                "To fix this, start it with `prefect server start`, or point PREFECT_API_URL at "
                "the one you use",
            )
        ) from None
    return found.work_pool_name


def schedule(project: Project, dry_run: bool, say: Callable[[str], None]) -> None:
    """Serve the nightly deployment on collide.yaml's cron until stopped (`collide schedule`)."""
    deployment = _build_from_root(project)
    sch = project.config.schedule
    say(
        f"Deployment {deployment.flow_name}/{deployment.name}: {deployment.entrypoint}, "
        f'cron "{sch.cron}" ({sch.timezone})'
    )
    runs = next_runs(deployment)
    if runs:
        say("Next runs: " + ", ".join(runs))
    url = ui_url()
    if url:
        say(f"Watch it at {url}/deployments (flow runs: {url}/runs)")
    else:
        say(
            "No Prefect server is configured, so Prefect will start a temporary one that "
            "stops with this command. To fix this, run `prefect server start` and "
            "`prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api` first."
        )
    owner = pool_of_existing(deployment) if url else None
    if owner:
        raise CollideError(
            Problem(
                url,
                None,
                f'deployment "{deployment.flow_name}/{deployment.name}" already belongs to work '
                f'pool "{owner}" (deployed from prefect.yaml); serving it here would take it over '
                "and its workers would fail to find the flow",
                "To fix this, use one or the other: keep the workers and stop here, or remove the "
                f"pool's deployment (`prefect deployment delete {deployment.flow_name}/"
                f"{deployment.name}`), or give this one another name (schedule.deployment in "
                "collide.yaml)",
            )
        )
    if dry_run:
        return
    from prefect import serve

    say("Serving; press Ctrl-C to stop (the schedule is paused when it stops).")
    os.chdir(project.root)  # flow runs start in this process's folder
    serve(deployment, print_starting_message=False)


def _build_from_root(project: Project) -> Any:
    """Build the deployment from the project root, so its entrypoint is `flows/nightly.py:nightly`
    (as in prefect.yaml) wherever `collide schedule --project` was typed."""
    here = Path.cwd()
    os.chdir(project.root)
    try:
        return build_deployment(project)
    finally:
        os.chdir(here)


# --------------------------------------------------------------------------- summary / notify

_STATUS_ZH = {
    "ok": "成功",
    "partial": "部分完成",
    "failed": "失败",
    "skipped": "跳过",
    "blocked": "质量闸门拦截",
    "pending": "未执行",
}


def summary_text(result: RunResult, project: Project | None = None) -> str:
    """The run summary an operator reads in the morning, in Chinese and English. The clue
    figures are the hit list's (collide.export.hitlist.ClueCounts), as on the console."""

    def zh(status: str) -> str:
        return f"{_STATUS_ZH.get(status, status)} {status}"

    lines = [
        f"collide 夜间运行 / nightly run {result.run_id}",
        f"状态 / status: {zh(result.status)}",
        (
            f"线索 / clues: {result.clues}（新增 new {result.new}，持续 ongoing {result.ongoing}，"
            f"已消失 gone {result.gone}）"
            + (
                f"；另有已排除 excluded {result.excluded} 条未列入 not listed"
                if result.excluded
                else ""
            )
        ),
        f"用时 / seconds: {result.seconds:.1f}",
    ]
    for problem in result.problems:
        lines.append(f"  ✗ 未能加载 not loaded: {problem}")
    ds_ok = sum(st.status == "ok" for st in result.datasets.values())
    lines.append(f"数据集 / datasets: {ds_ok}/{len(result.datasets)} 成功 ok")
    for ds, st in result.datasets.items():
        if st.status != "ok":
            lines.append(f"  ✗ {ds}: {zh(st.status)}: {st.message}")
    counts = {
        k: sum(st.status == k for st in result.models.values()) for k in ("ok", "failed", "skipped")
    }
    lines.append(
        f"模型 / models: {counts['ok']} 成功 ok，{counts['failed']} 失败 failed，"
        f"{counts['skipped']} 跳过 skipped"
    )
    for mid, st in result.models.items():
        if st.status == "ok":
            lines.append(f"  ✓ {mid}: {st.hits} 条命中 hits")
        else:
            reason = "原因 / reason" if st.status == "skipped" else "错误 / error"
            lines.append(f"  ✗ {mid}: {zh(st.status)}；{reason}: {st.message}")
    run_dir = result.run_dir
    if project is not None:
        with contextlib.suppress(ValueError):
            run_dir = run_dir.relative_to(project.root)
    lines.append(f"线索清单 / hit list: {run_dir / 'clues.csv'}")
    lines.append(f"运行报告 / report: {run_dir / 'report.md'}")
    return "\n".join(lines) + "\n"


def write_summary(result: RunResult, project: Project | None = None) -> Path:
    """Write runs/<run_id>/summary.txt (the notification hook's file) and return its path."""
    path = result.run_dir / SUMMARY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(summary_text(result, project), encoding="utf-8")
    return path


def notify(subject: str, body: str) -> bool:
    """Send `body` through the Prefect notification block named in $COLLIDE_NOTIFY_BLOCK, if any.

    Any Prefect notification block with `notify(body, subject)` works: `custom-webhook/<name>`,
    `slack-webhook/<name>`, `ms-teams-webhook/<name>`, … A failure to notify is logged and never
    fails the run.
    """
    slug = os.environ.get(NOTIFY_BLOCK_ENV, "").strip()
    if not slug:
        return False
    _prefect()
    from prefect.blocks.core import Block

    try:
        block = Block.load(slug)
        block.notify(body, subject=subject)
    except Exception as exc:  # noqa: BLE001 - the run is done; a broken webhook must not fail it
        log.warning("could not send the run summary through %s: %s", slug, exc)
        return False
    return True


def notify_flow_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Flow hook: a run that failed before writing its summary (no lock, store error) still tells
    the operator, through the notification block if one is configured, and in the run log."""
    text = (
        f"collide 夜间运行失败 / nightly run failed: {flow_run.name}\n"
        f"{state.name}: {state.message}\n"
    )
    log.error(text)
    notify(f"collide nightly run failed: {flow_run.name}", text)
