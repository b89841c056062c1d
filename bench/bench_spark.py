"""The catalogue on Spark (local mode) next to DuckDB, with Spark's fixed overhead.

For each size: generate the agency extracts (sample_data/generate.py --scale N) into a temp
project, ingest once, then time `collide run --no-ingest` on `--engine duckdb` and on
`--engine spark` (local[2], 4 shuffle partitions) as child processes, and check that both give
the same clues.csv (bench/compare_runs.py). The fixed overhead — starting a Spark session and
registering collide's functions — is timed on its own in a fresh process.

    python bench/bench_spark.py --sizes 10000000      # the issue's size
    python bench/bench_spark.py --sizes 100000         # a quick look
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPARK = """
spark:
  master: local[2]
  conf: {spark.sql.shuffle.partitions: "4", spark.driver.memory: "3g"}
"""

OVERHEAD = """
import time
t0 = time.perf_counter()
from collide.engine.spark import register_functions, session
spark = session("local[2]", {"spark.sql.shuffle.partitions": "4"})
t1 = time.perf_counter()
register_functions(spark)
spark.sql("SELECT id_birth('110105194912310021')").collect()  # a UDF really run once
t2 = time.perf_counter()
print(f"{t1 - t0:.1f} {t2 - t1:.1f}")
"""


def _collide() -> list[str]:
    exe = Path(sys.executable).with_name("collide")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "collide.cli.main"]


def overhead() -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", OVERHEAD], capture_output=True, text=True)
    start, register = out.stdout.split()[-2:]
    return float(start), float(register)


def bench_one(rows: int, workdir: Path) -> dict[str, object]:
    """One project per engine (a second run in the same store would see every clue again as
    持续, not 新增), generated once and ingested in each."""
    base = workdir / f"bills_{rows}"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    for name in ("collide.yaml", "connectors", "models", "expectations"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, base / name)
    # the sample's own spark: block (indented lines under it) gives way to the bench's
    text = (base / "collide.yaml").read_text(encoding="utf-8")
    text = re.sub(r"\nspark:\n(?:  .*\n)+", "\n", text)
    (base / "collide.yaml").write_text(text + SPARK, encoding="utf-8")
    subprocess.run(
        [sys.executable, str(ROOT / "sample_data" / "generate.py"), "--scale", str(rows),
         "--out", str(base / "sample_data")],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    # the bundled files generate.py does not write (the judgment texts: generate_judgments.py)
    for src in (ROOT / "sample_data").rglob("*"):
        dst = base / "sample_data" / src.relative_to(ROOT / "sample_data")
        if src.is_file() and src.suffix != ".py" and not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    out: dict[str, object] = {"rows": rows}
    runs = {}
    for engine in ("duckdb", "spark"):
        proj = workdir / f"{engine}_{rows}"
        shutil.rmtree(proj, ignore_errors=True)
        shutil.copytree(base, proj)
        subprocess.run([*_collide(), "--project", str(proj), "ingest"], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        t0 = time.perf_counter()
        res = subprocess.run(
            [*_collide(), "--project", str(proj), "run", "--no-ingest", "--engine", engine],
            capture_output=True, text=True,
        )  # fmt: skip
        out[f"{engine}_s"] = time.perf_counter() - t0
        out[f"{engine}_ok"] = res.returncode == 0
        if res.returncode:
            print(res.stdout[-2000:], res.stderr[-2000:], sep="\n")
        runs[engine] = max((proj / "runs").glob("2*"), key=lambda p: p.stat().st_mtime)
    same = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "compare_runs.py"), *map(str, runs.values())],
        capture_output=True, text=True,
    )  # fmt: skip
    out["compare"] = same.stdout.strip().splitlines()[-1] if same.stdout else "?"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000_000])
    args = ap.parse_args()
    start, register = overhead()
    print(f"Spark session start {start:.1f} s, function registration {register:.1f} s")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; uptime:", end=" ")
    sys.stdout.flush()
    subprocess.run(["uptime"])
    with tempfile.TemporaryDirectory(prefix="collide-bench-spark-") as tmp:
        for rows in args.sizes:
            r = bench_one(rows, Path(tmp))
            print(
                f"{rows:>12,} bill rows: duckdb {r['duckdb_s']:.0f} s ({r['duckdb_ok']}), "
                f"spark {r['spark_s']:.0f} s ({r['spark_ok']}); {r['compare']}"
            )
    subprocess.run(["uptime"])


if __name__ == "__main__":
    main()
