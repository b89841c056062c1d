"""Full-catalogue run time and peak memory at 1 M and 10 M water-bill rows (issue 6).

For each size: generate the agency extracts with sample_data/generate.py --scale N into a temp
project (outside the repo), then time `collide run` (ingest + quality gate + all nine models +
exports) as a child process and read its peak RSS. Target (DESIGN.md): 10 M rows < 5 min, < 4 GB.

    python bench/bench_catalogue.py                 # 1 M and 10 M, appends to bench/RESULTS.md
    python bench/bench_catalogue.py --sizes 1000000 --no-record
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Full catalogue run (issue 6)"


def _collide() -> list[str]:
    exe = Path(sys.executable).with_name("collide")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "collide.cli.main"]


def _copy_bundled(src: Path, dst: Path) -> None:
    """Copy the sample_data files generate.py does not write (judgments/, personnel/, …).

    Connectors such as civil_judgments (sample_data/judgments/*) and public_servants read bundled
    files; anything already generated into dst is kept, and the generators' sources are skipped.
    """
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_dir() or path.suffix == ".py" or "__pycache__" in rel.parts:
            continue
        target = dst / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def bench_one(rows: int, workdir: Path) -> dict[str, object]:
    proj = workdir / f"bills_{rows}"
    if proj.exists():
        shutil.rmtree(proj)
    proj.mkdir(parents=True)
    for name in ("collide.yaml", "connectors", "models", "expectations"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, proj / name)
        elif src.exists():
            shutil.copy2(src, proj / name)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "sample_data" / "generate.py"), "--scale", str(rows),
         "--out", str(proj / "sample_data")],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    gen_s = time.perf_counter() - t0
    _copy_bundled(ROOT / "sample_data", proj / "sample_data")
    size_mb = sum(p.stat().st_size for p in (proj / "sample_data").rglob("*") if p.is_file()) / 1e6

    # a wrapper process runs `collide run`, so its RUSAGE_CHILDREN peak is the run's alone
    wrapper = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
        "sys.exit(r.returncode)"
    )
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", wrapper, *_collide(), "--project", str(proj), "run"],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    run_s = time.perf_counter() - t0
    peak_kb = int(res.stderr.strip().splitlines()[-1])
    if res.returncode != 0:
        print(res.stdout[-3000:], res.stderr[-3000:], sep="\n")
    clues = 0
    found = sorted((proj / "runs").glob("*/clues.csv"), key=lambda p: p.stat().st_mtime)
    if found:
        with found[-1].open(encoding="utf-8-sig") as f:
            clues = max(sum(1 for _ in f) - 1, 0)
    return {
        "rows": rows,
        "input_mb": size_mb,
        "generate_s": gen_s,
        "run_s": run_s,
        "peak_rss_mb": peak_kb / 1024,
        "ok": res.returncode == 0,
        "clues": clues,
    }


def record(results: list[dict[str, object]]) -> None:
    import csv

    with (ROOT / "sample_data" / "ground_truth.csv").open(encoding="utf-8") as f:
        planted = sum(1 for row in csv.DictReader(f) if row["expected"] == "hit")
    n_models = len(list((ROOT / "models").glob("*.yaml")))
    n_datasets = len(list((ROOT / "connectors").glob("*.yaml")))
    load = os.getloadavg()[0]
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    lines = [
        HEADING,
        "",
        (
            f"`python bench/bench_catalogue.py` on {dt.date.today()}, {platform.machine()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}, load average "
            f"{load:.1f} at the end. One `collide run` (ingest of all {n_datasets} agency files "
            f"incl. GBK CSV and .xlsx, quality gate, {n_models} models, exports) as a child "
            "process; peak RSS is that process's maximum resident set size."
        ),
        "",
        "| water bill rows | input files | generate | `collide run` | peak RSS | clues | ok |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['rows']:,} | {r['input_mb']:.0f} MB | {r['generate_s']:.0f} s | "
            f"{r['run_s']:.0f} s | {r['peak_rss_mb']:,.0f} MB | {r['clues']:,} | "
            f"{'yes' if r['ok'] else 'FAILED'} |"
        )
    lines.append("")
    lines.append(
        "Target (DESIGN.md): 10 M bill rows in under 5 minutes and under 4 GB, on 2 cores."
    )
    lines.append("")
    lines.append(
        f"The committed ground truth has {planted} planted hits; the clue count at every size "
        "should equal it (background rows never trigger a model)."
    )
    section = "\n".join(lines) + "\n\n"
    if HEADING in text:
        head, _, rest = text.partition(HEADING)
        nxt = rest.find("\n## ")
        text = head + section + (rest[nxt + 1 :] if nxt >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument(
        "--workdir", type=Path, default=None, help="where to generate (default: a temp dir)"
    )
    ap.add_argument("--no-record", action="store_true", help="do not write bench/RESULTS.md")
    a = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="collide-bench-") as tmp:
        work = a.workdir or Path(tmp)
        for n in a.sizes:
            # each size in its own process so ru_maxrss is per size
            r = bench_one(n, work)
            print(r, flush=True)
            results.append(r)
    if not a.no_record:
        record(results)


if __name__ == "__main__":
    main()
