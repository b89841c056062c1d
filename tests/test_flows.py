"""The nightly Prefect flow and `collide schedule`, against a real (temporary) Prefect API."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, write_project
from pension_project import PENSION_FILES

FLOW_FILE = REPO / "flows" / "nightly.py"


@pytest.fixture(scope="session")
def prefect_api():
    """One temporary Prefect server for the whole session (starting one takes seconds)."""
    saved = {k: os.environ.get(k) for k in ("PREFECT_SERVER_ANALYTICS_ENABLED",)}
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"  # no telemetry from an offline box
    from prefect.testing.utilities import prefect_test_harness

    try:
        with prefect_test_harness(server_startup_timeout=120):
            yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def nightly(prefect_api):
    from prefect.flows import load_flow_from_entrypoint

    return load_flow_from_entrypoint(f"{FLOW_FILE}:nightly")


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("COLLIDE_INGEST_RETRY_DELAY", "0")
    root = write_project(tmp_path / "p", PENSION_FILES)
    (root / "flows").mkdir()
    shutil.copy(FLOW_FILE, root / "flows" / "nightly.py")
    return root


def task_runs(flow_run_id, expect: set[str] = frozenset()) -> dict[str, object]:
    """The flow run's task runs by name. The server records them from events it flushes in the
    background, so on a busy machine the last ones can arrive after the flow returns: read again
    (for at most a minute) until the names in `expect` are all there."""
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + 60
    while True:
        with get_client(sync_client=True) as client:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
        if expect <= {r.name for r in runs} or time.monotonic() > deadline:
            return {r.name: r for r in runs}
        time.sleep(0.5)


def test_nightly_flow_runs_every_step_as_a_named_task(nightly, project: Path) -> None:
    state = nightly(str(project), run_date="2024-06-30", return_state=True)
    result = state.result()

    assert state.is_completed() and state.name == "Completed"
    assert result.status == "ok"
    assert {m: st.status for m, st in result.models.items()} == {
        "pension_after_death": "ok",
        "food_ban_holder": "ok",
        "no_drain_permit": "ok",
    }
    assert result.clues > 0
    assert (result.run_dir / "clues.csv").is_file()
    expected = {
        "ingest deaths",
        "ingest payments",
        "ingest convictions",
        "ingest licences",
        "validate deaths",
        "validate payments",
        "validate convictions",
        "validate licences",
        "model pension_after_death",
        "model food_ban_holder",
        "model no_drain_permit",
    }
    names = task_runs(state.state_details.flow_run_id, expect=expected)
    assert {n for n in names if not n.startswith(("export", "summary"))} == expected
    assert all(r.state.is_completed() for r in names.values())
    summary = (result.run_dir / "summary.txt").read_text(encoding="utf-8")
    assert f"collide 夜间运行 / nightly run {result.run_id}\n状态 / status: 成功 ok\n" in summary
    assert "模型 / models: 3 成功 ok，0 失败 failed，0 跳过 skipped" in summary


def test_missing_source_fails_its_ingest_after_retries_and_skips_its_models(
    nightly, project: Path
) -> None:
    (project / "data" / "convictions.csv").unlink()

    state = nightly(str(project), return_state=True)
    result = state.result()

    assert state.is_completed() and state.name == "Partial"
    assert result.status == "partial"
    assert result.datasets["convictions"].status == "failed"
    food = result.models["food_ban_holder"]
    assert food.status == "skipped"
    assert food.message.startswith("input convictions failed: connectors/convictions.yaml:")
    assert result.models["pension_after_death"].status == "ok"
    assert result.models["pension_after_death"].hits > 0
    assert result.models["no_drain_permit"].status == "ok"

    runs = task_runs(
        state.state_details.flow_run_id,
        expect={"ingest convictions", "model food_ban_holder", "model pension_after_death"},
    )
    ingest = runs["ingest convictions"]
    assert ingest.state.is_failed() and ingest.run_count == 3  # the try and two retries
    assert "validate convictions" not in runs
    assert runs["model food_ban_holder"].state.name == "Skipped"
    assert runs["model pension_after_death"].state.is_completed()

    summary = (result.run_dir / "summary.txt").read_text(encoding="utf-8")
    assert "状态 / status: 部分完成 partial" in summary
    assert "  ✗ convictions: 失败 failed: connectors/convictions.yaml:" in summary
    assert "  ✗ food_ban_holder: 跳过 skipped；原因 / reason: input convictions failed:" in summary


def test_deployment_has_the_configured_cron_and_timezone(
    prefect_api, project: Path, monkeypatch
) -> None:
    from collide.orchestrate.prefect import build_deployment
    from collide.project import Project

    (project / "collide.yaml").write_text(
        "name: t\nschedule: {cron: '30 3 * * 1-5', timezone: Asia/Urumqi, deployment: nightly-t}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(project)
    deployment = build_deployment(Project.load(project))

    [schedule] = deployment.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("30 3 * * 1-5", "Asia/Urumqi")
    assert deployment.name == "nightly-t"
    assert deployment.entrypoint == "flows/nightly.py:nightly"
    assert deployment.parameters == {"project_path": str(project.resolve())}


def test_default_schedule_is_2am_shanghai(prefect_api, project: Path, monkeypatch) -> None:
    from collide.orchestrate.prefect import build_deployment
    from collide.project import Project

    monkeypatch.chdir(project)
    [schedule] = build_deployment(Project.load(project)).schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", "Asia/Shanghai")


def test_schedule_dry_run_prints_deployment_and_where_to_watch(
    prefect_api, project: Path, cli, monkeypatch
) -> None:
    from prefect.settings import get_current_settings

    monkeypatch.chdir(project.parent)
    code, out, err = cli("schedule", "--dry-run", "--project", str(project))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == (
        "Deployment nightly/collide-nightly: flows/nightly.py:nightly, "
        'cron "0 2 * * *" (Asia/Shanghai)'
    )
    assert lines[1].startswith("Next runs: ") and lines[1].count("02:00+08:00") == 3
    ui = get_current_settings().ui_url
    assert lines[2] == f"Watch it at {ui}/deployments (flow runs: {ui}/runs)"


def test_bad_timezone_is_reported_at_collide_yaml(
    prefect_api, project: Path, cli, monkeypatch
) -> None:
    (project / "collide.yaml").write_text("schedule: {timezone: Beijing}\n", encoding="utf-8")
    monkeypatch.chdir(project)
    code, _out, err = cli("schedule", "--dry-run", "--project", str(project))
    assert code == 1
    assert err.strip() == (
        f'error: {project / "collide.yaml"}: schedule.timezone "Beijing" is '
        'not an IANA time zone. To fix this, write e.g. "Asia/Shanghai".'
    )


def test_missing_flow_file_says_how_to_fix(prefect_api, tmp_path: Path, cli) -> None:
    root = write_project(tmp_path / "bare", {})
    code, _out, err = cli("schedule", "--dry-run", "--project", str(root))
    assert code == 1
    assert "flows/nightly.py is missing in this project. To fix this, copy flows/nightly.py" in err


def test_prefect_yaml_defines_the_same_deployment() -> None:
    from ruamel.yaml import YAML

    from collide.config.specs import ScheduleConfig

    config = YAML(typ="safe").load((REPO / "prefect.yaml").read_text(encoding="utf-8"))
    [dep] = config["deployments"]
    defaults = ScheduleConfig()
    assert dep["name"] == defaults.deployment
    assert dep["entrypoint"] == "flows/nightly.py:nightly"
    assert dep["parameters"] == {"project_path": "."}
    assert [(s["cron"], s["timezone"]) for s in dep["schedules"]] == [
        (defaults.cron, defaults.timezone)
    ]
    assert dep["work_pool"]["name"] == "collide"


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def test_cli_import_does_not_import_prefect() -> None:
    proc = _python(
        "import sys, collide.cli.main\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('prefect', 'duckdb', 'great_expectations', 'pydantic', 'pyarrow', 'numpy', 'polars', "
        "'pandas', 'sqlglot', 'ruamel', 'rich', 'jinja2')))\n"
        "print('schedule' in collide.cli.cli.commands)"
    )
    assert proc.stdout.splitlines() == ["[]", "True"], proc.stderr


def test_importing_prefect_keeps_the_cli_logging() -> None:
    proc = _python(
        "import logging, sys\n"
        "h = logging.StreamHandler(sys.stdout)\n"
        "h.setFormatter(logging.Formatter('%(name)s %(levelname)s %(message)s'))\n"
        "logging.basicConfig(level=logging.INFO, handlers=[h])\n"
        "from collide.orchestrate.prefect import ui_url\n"
        "ui_url()\n"
        "assert 'prefect' in sys.modules\n"
        "logging.getLogger('collide.ingest').info('still heard')\n"
    )
    assert proc.stdout.strip() == "collide.ingest INFO still heard", proc.stderr


def test_summary_is_sent_through_the_configured_notification_block(prefect_api, monkeypatch):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    from collide.orchestrate.prefect import notify

    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        CustomWebhookNotificationBlock(
            name="collide-ops",
            url=f"http://127.0.0.1:{server.server_port}/hook",
            json_data={"title": "{{subject}}", "text": "{{body}}"},
            allow_private_urls=True,
        ).save("collide-ops", overwrite=True)
        monkeypatch.setenv("COLLIDE_NOTIFY_BLOCK", "custom-webhook/collide-ops")
        assert notify("collide t 1: partial", "状态 / status: 部分完成 partial\n")
    finally:
        server.shutdown()
    assert received == [
        {"title": "collide t 1: partial", "text": "状态 / status: 部分完成 partial\n"}
    ]


def test_no_notification_block_means_no_notification(monkeypatch) -> None:
    from collide.orchestrate.prefect import notify

    monkeypatch.delenv("COLLIDE_NOTIFY_BLOCK", raising=False)
    assert notify("s", "b") is False


def test_schedule_refuses_to_take_over_a_work_pool_deployment(
    prefect_api, project, cli, monkeypatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    from collide.orchestrate.prefect import build_deployment
    from collide.project import Project

    (project / "collide.yaml").write_text("schedule: {deployment: pooled}\n", encoding="utf-8")
    monkeypatch.chdir(project)
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="collide-test", type="process"))
    pooled = build_deployment(Project.load(project))
    pooled.work_pool_name = "collide-test"
    pooled.apply()

    code, _out, err = cli("schedule", "--dry-run", "--project", str(project))
    assert code == 1
    assert (
        'deployment "nightly/pooled" already belongs to work pool "collide-test" (deployed '
        "from prefect.yaml); serving it here would take it over"
    ) in err


def test_schedule_dry_run_leaves_the_working_directory_alone(
    prefect_api, project, cli, monkeypatch
) -> None:
    monkeypatch.chdir(project.parent)
    code, _out, err = cli("schedule", "--dry-run", "--project", str(project))
    assert code == 0, err
    assert Path.cwd() == project.parent


def test_bad_cron_is_reported_at_collide_yaml(prefect_api, project, cli, monkeypatch) -> None:
    (project / "collide.yaml").write_text("schedule: {cron: '61 * * * *'}\n", encoding="utf-8")
    monkeypatch.chdir(project)
    code, _out, err = cli("schedule", "--dry-run", "--project", str(project))
    assert code == 1
    assert err.strip() == (
        f'error: {project / "collide.yaml"}: schedule.cron "61 * * * *" is not a valid cron '
        'expression (Invalid cron string: "61 * * * *"). To fix this, write five fields, e.g. '
        '"0 2 * * *" (02:00 daily).'
    )
