"""Judgment texts → typed rows: documents per second, MB per second, peak memory.

    python bench/bench_documents.py [-n 20000] [--dir /tmp/collide-bench-documents] [--workers 2]

Generates N judgments with `sample_data/generate_judgments.py` (kept between runs of the same N),
then reads them with `collide.ingest.documents.read_documents` in a fresh subprocess (so its peak
RSS is its own), once with one process per core and once in one process, document rows and the
standard fields. The target (issue 13) is 300,000 texts (about 1.5 GB) in under 5 minutes on 2
cores; the script prints the rate (per wall-clock second and per CPU second: on a shared machine
the second is the steadier one) and what it implies for 300,000 texts and for 1.5 GB on two
idle cores (generated judgments are shorter than real ones, about 1.7 KB against 5 KB, so the
figure by bytes is the cautious one), as a Markdown block for bench/RESULTS.md. Nothing is
asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FIELDS = {
    "case_no": {"extract": "case_number", "required": True},
    "court": {"extract": "court"},
    "cause": {"extract": "cause"},
    "plaintiff": {"extract": "plaintiff"},
    "defendants": {"extract": "defendants"},
    "agents": {"extract": "agents"},
    "service": {"extract": "service"},
    "attendance": {"extract": "attendance"},
    "court_opinion": {"extract": "court_opinion"},
    "ruling": {"extract": "ruling"},
    "judged_on": {"extract": "judgment_date", "required": True},
    "principal": {"extract": "principal"},
    "rate": {"pattern": r"年利率(?P<value>[0-9.]+)%", "type": "decimal"},
}

CHILD = """
import json, resource, sys, time
from collide.ingest.documents import DocumentReport, DocumentSourceSpec, read_documents

def main():
    spec = DocumentSourceSpec.model_validate(json.loads(sys.argv[1]))
    report = DocumentReport()
    t = time.perf_counter()
    rows = sum(b.num_rows for b in read_documents(spec, sys.argv[2], report))
    seconds = time.perf_counter() - t
    cpu = sum(
        r.ru_utime + r.ru_stime
        for r in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )
    print(json.dumps({
        "seconds": seconds, "cpu": cpu, "rows": rows, "read": report.documents_read,
        "loaded": report.documents_loaded, "rejected": report.documents_rejected,
        "bytes": report.bytes_read,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))

if __name__ == "__main__":
    main()
"""


def run(spec: dict, folder: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(spec), str(folder)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=20_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/collide-bench-documents"))
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    folder = args.dir / f"n{args.n}"
    if not (folder / "judgments_ground_truth.csv").is_file():
        t = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "sample_data" / "generate_judgments.py"),
                "--out",
                str(folder),
                "-n",
                str(args.n),
            ],
            check=True,
        )
        print(f"generated in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    results = {}
    for label, workers in ((f"{args.workers} processes", args.workers), ("1 process", 1)):
        spec = {"path": "judgments/*", "fields": FIELDS, "workers": workers}
        results[label] = run(spec, folder)
    import polars

    print(
        f"## Judgment texts (`bench/bench_documents.py -n {args.n}`) — "
        f"{time.strftime('%Y-%m-%d')}, "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"polars {polars.__version__}\n"
    )
    head = (
        "run documents rows rejected MB seconds CPU_seconds documents/s documents/CPU-s MB/s "
        "peak_RSS_MB 300,000_texts_on_2_idle_cores 1.5_GB_on_2_idle_cores"
    )
    print("| " + " | ".join(h.replace("_", " ") for h in head.split()) + " |")
    print("| --- |" + " ---: |" * (len(head.split()) - 1))
    for label, r in results.items():
        mb = r["bytes"] / 1e6
        rate = r["read"] / r["seconds"]
        per_cpu = r["read"] / r["cpu"]  # the machine is shared: CPU time is the steadier figure
        print(
            f"| {label} | {r['read']:,} | {r['rows']:,} | {r['rejected']:,} | {mb:.0f} | "
            f"{r['seconds']:.1f} | {r['cpu']:.1f} | {rate:,.0f} | {per_cpu:,.0f} | "
            f"{mb / r['seconds']:.1f} | {r['peak_mb']:.0f} | "
            f"{300_000 / per_cpu / 2 / 60:.1f} min | {1500 / (mb / r['cpu']) / 2 / 60:.1f} min |"
        )


if __name__ == "__main__":
    main()
