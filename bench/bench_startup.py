"""Start-up time of the CLI, and what running the nightly steps as a Prefect flow costs.

    /work/venv/bin/python bench/bench_startup.py [--project PATH] [--repeat N]

Measures (wall clock and CPU seconds of the command, median of N; on a shared machine the wall
time follows the load, the CPU time much less):
  1. `collide --help`, `collide run --help` as subprocesses, next to `python -c "import prefect"`
     (what every command would pay if the CLI imported Prefect).
  2. On a copy of the project (default: the bundled sample project at the repo root):
     `collide run --keep-going` as a subprocess; `Project.run()` in-process; the `nightly` flow
     in-process against an already running temporary Prefect server; and how long starting that
     temporary server takes (what a clerk would wait for if `collide run` needed Prefect).
Prints a Markdown table to paste into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PROJECT_PARTS = ("collide.yaml", "connectors", "models", "expectations", "flows", "sample_data")


def _cpu() -> float:
    """CPU seconds used so far by this process and its finished children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn, repeat: int) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds) of each call. On a shared machine the wall time grows with
    the load; the CPU time is what the command itself costs."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), _cpu()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(_cpu() - c0)
    return wall, cpu


def run(*cmd: str, cwd: Path | None = None) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):  # 1 = partial run, still a full run's work
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")


def copy_project(src: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    for part in PROJECT_PARTS:
        p = src / part
        if p.is_dir():
            shutil.copytree(p, dest / part)
        elif p.is_file():
            shutil.copy(p, dest / part)
    return dest


def row(label: str, times: tuple[list[float], list[float]] | list[float]) -> str:
    wall, cpu = times if isinstance(times, tuple) else (times, [])
    used = f"{statistics.median(cpu):.3f}" if cpu else "–"
    return (
        f"| {label} | {statistics.median(wall):.3f} | {min(wall):.3f} | {max(wall):.3f} "
        f"| {used} | {len(wall)} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", type=Path, default=REPO)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--quick",
        action="store_true",
        help="only start-up and the one-model / whole runs on unchanged data (no GX, no Prefect)",
    )
    ap.add_argument("--model", default="pension_after_death", help="the model of the one-model run")
    args = ap.parse_args()
    n = args.repeat
    collide = str(BIN / "collide")
    rows = [
        "| what | median s | min s | max s | median CPU s | runs |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]

    rows.append(row("`collide --help`", timed(lambda: run(collide, "--help"), n)))
    rows.append(row("`collide run --help`", timed(lambda: run(collide, "run", "--help"), n)))
    rows.append(
        row(
            "`python -c 'import prefect'` (for comparison)",
            timed(lambda: run(sys.executable, "-c", "import prefect"), n),
        )
    )

    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("COLLIDE_INGEST_RETRY_DELAY", "0")
    with tempfile.TemporaryDirectory(prefix="collide-bench-") as tmp:
        proj = copy_project(args.project, Path(tmp) / "project")
        run(collide, "run", "--keep-going", "--project", str(proj))  # warm-up: first snapshots
        run(collide, "run", "--keep-going", "--project", str(proj))  # caches written
        bare = "import duckdb; duckdb.connect().sql('SELECT 42').fetchall()"
        rows.append(
            row(
                "bare `python -c 'import duckdb; …SELECT 42'` (the floor: a fresh python + duckdb)",
                timed(lambda: run(sys.executable, "-c", bare), n),
            )
        )
        for extra, what in (
            ((), ""),
            (("--no-ingest", "--no-validate"), " --no-ingest --no-validate"),
        ):
            rows.append(
                row(
                    f"`collide run --select {args.model}{what}` (one model, unchanged data)",
                    timed(
                        lambda extra=extra: run(
                            collide, "run", "--select", args.model, *extra, "--project", str(proj)
                        ),
                        n,
                    ),
                )
            )
        if args.quick:
            rows.append(
                row(
                    "`collide run --keep-going` (whole command, unchanged data)",
                    timed(lambda: run(collide, "run", "--keep-going", "--project", str(proj)), n),
                )
            )
            # without bytecode files every command compiles collide's modules again
            nopyc = os.environ.get("PYTHONDONTWRITEBYTECODE", "")
            print(
                f"{time.strftime('%Y-%m-%d %H:%M')} load {os.getloadavg()} "
                f"PYTHONDONTWRITEBYTECODE={nopyc!r}"
            )
            print("\n".join(rows))
            return
        rows.append(
            row(
                "`collide run --keep-going` (subprocess, whole command; unchanged data, so the "
                "quality results of the first run are reused)",
                timed(lambda: run(collide, "run", "--keep-going", "--project", str(proj)), n),
            )
        )
        cache = proj / "output" / "quality-cache"

        def cold_run() -> None:
            shutil.rmtree(cache, ignore_errors=True)  # the quality gate runs again (GX import)
            run(collide, "run", "--keep-going", "--project", str(proj))

        rows.append(
            row(
                "`collide run --keep-going` (subprocess; quality gate validated again)",
                timed(cold_run, n),
            )
        )

        from collide.project import Project

        project = Project.load(proj)
        rows.append(
            row(
                "`Project.run(keep_going=True)` in-process (what `collide run` does)",
                timed(lambda: project.run(keep_going=True), n),
            )
        )

        from prefect.flows import load_flow_from_entrypoint
        from prefect.testing.utilities import prefect_test_harness

        t0 = time.perf_counter()
        with prefect_test_harness(server_startup_timeout=120):
            server = time.perf_counter() - t0
            nightly = load_flow_from_entrypoint(f"{proj / 'flows' / 'nightly.py'}:nightly")
            nightly(str(proj))  # warm-up: flow registration, first task runs
            flow_times = timed(lambda: nightly(str(proj)), n)
        rows.append(row("`nightly` flow in-process, server already up", flow_times))
        rows.append(row("starting a temporary Prefect server (`prefect_test_harness`)", [server]))

    print(
        f"{time.strftime('%Y-%m-%d')} · {platform.node()} · {os.cpu_count()} cores (shared) · "
        f"Python {platform.python_version()} · {platform.platform()}\n"
    )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
