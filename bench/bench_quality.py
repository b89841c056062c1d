"""Benchmark: the data-quality gate on a 10-million-row snapshot.

Target (issue 4): validating a 10M-row snapshot takes < 60 s with peak memory < 2 GB, on 2 cores.

Two shipped suites run against synthetic snapshots shaped like the real ones (same columns and
provenance columns as ingest writes):

- water_bills: 10M monthly bills, the realistic big dataset (compound-key uniqueness, regex,
  ranges, freshness, row count vs the previous snapshot);
- pension_payments: 10M payments, the heaviest suite per row (uniqueness of a 10M-distinct key,
  two valid-ID rates, regex, allowed values). The valid-ID rate is collide's `id_valid()` (a Python
  UDF), computed once per distinct ID; the generated IDs include birth dates on 29 February of
  non-leap years, which it refuses.

Each validation runs in its own process so that its peak RSS is measured alone. The time of
importing Great Expectations (~3 s on an idle machine) is reported apart. Usage:

    python bench/bench_quality.py [--rows 10000000] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
RUN_DATE = dt.date(2025, 1, 10)

_ID_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

PROVENANCE = """'sample_data/' || (i // 1000000)::VARCHAR || '.csv' AS _source_file,
  NULL::VARCHAR AS _source_sheet, (i % 1000000 + 2)::BIGINT AS _source_row,
  'bench' AS _snapshot_id, NULL::VARCHAR AS _issues"""


def _id_sql(body: str) -> str:
    """A resident ID with a correct check character for the 17-digit SQL expression `body` (test
    data, made in SQL so that 10M rows take seconds; the gate checks them with `id_valid()`)."""
    total = " + ".join(f"(ascii(b[{i + 1}]) - 48) * {w}" for i, w in enumerate(_ID_W))
    return (
        f"(SELECT b || substr('10X98765432', (({total}) % 11)::INTEGER + 1, 1) "
        f"FROM (SELECT {body} AS b))"
    )


SNAPSHOTS = {
    "water_bills": """
COPY (SELECT
  'H' || lpad((i // 24)::VARCHAR, 8, '0') AS account_no,
  strftime(DATE '2023-01-01' + INTERVAL (i % 24) MONTH, '%Y%m') AS bill_period,
  (DATE '2023-01-20' + INTERVAL (i % 24) MONTH)::DATE AS read_on,
  ((i * 7) % 900)::DOUBLE AS usage_m3,
  [3.4, 4.9, 6.1][(i % 3) + 1]::DOUBLE AS unit_price,
  (((i * 7) % 900) * 3.4)::DECIMAL(18,2) AS amount_due,
  (CASE WHEN i % 17 = 0 THEN 0 ELSE ((i * 7) % 900) * 3.4 END)::DECIMAL(18,2) AS amount_paid,
  (CASE WHEN i % 17 = 0 THEN NULL
        ELSE (DATE '2023-01-25' + INTERVAL (i % 24) MONTH)::DATE END) AS paid_on,
  {prov}
FROM range({rows}) t(i)) TO '{path}' (FORMAT parquet)""",
    "pension_payments": """
COPY (SELECT
  'P' || lpad(i::VARCHAR, 10, '0') AS payment_no,
  '张' || (i % 5000)::VARCHAR AS person_name,
  {id_number} AS id_number,
  ['企业职工基本养老保险', '城乡居民基本养老保险'][(i % 2) + 1] AS scheme,
  strftime(DATE '2023-01-01' + INTERVAL (i % 24) MONTH, '%Y%m') AS pay_month,
  (DATE '2023-01-15' + INTERVAL (i % 24) MONTH)::DATE AS paid_on,
  (150 + (i % 4000))::DECIMAL(18,2) AS amount,
  {prov}
FROM range({rows}) t(i)) TO '{path}' (FORMAT parquet)""",
}


def make_snapshot(dataset: str, rows: int, folder: Path) -> Path:
    import duckdb

    path = folder / dataset / "data.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    # 400k distinct people: year 1930-1959 + day + sequence, so IDs repeat like real payments.
    id_body = (
        "'110105' || (1930 + (i // 7) % 30)::VARCHAR || "
        "strftime(DATE '2000-01-01' + ((i // 7) % 365)::INTEGER, '%m%d') || "
        "lpad(((i // 7) % 997)::VARCHAR, 3, '0')"
    )
    sql = SNAPSHOTS[dataset].format(
        rows=rows, path=path, prov=PROVENANCE, id_number=_id_sql(id_body)
    )
    with duckdb.connect() as con:
        con.execute(sql)
    return path


def validate_child(dataset: str, data_path: str) -> None:
    """Runs in a subprocess: one validation, result as JSON on stdout."""
    t0 = time.perf_counter()
    import great_expectations  # noqa: F401  (timed apart: paid once per process)

    from collide.config.catalog import load_catalog
    from collide.quality import validate_dataset

    t_import = time.perf_counter() - t0
    cat = load_catalog(ROOT)
    conn = cat.connectors[dataset]
    snap = SimpleNamespace(
        dataset_id=dataset, snapshot_id="bench", data_path=Path(data_path), manifest={}
    )
    t1 = time.perf_counter()
    report = validate_dataset(conn, ROOT / "expectations" / f"{dataset}.yaml", snap, snap, RUN_DATE)
    t2 = time.perf_counter()
    print(
        json.dumps(
            {
                "status": report.status,
                "validate_s": round(t2 - t1, 2),
                "total_s": round(t2 - t0, 2),
                "import_s": round(t_import, 2),
                "failed": [o.expectation for o in report.outcomes if not o.success],
                "expectations": len(report.outcomes),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--keep", action="store_true", help="keep the generated snapshots")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        validate_child(*args.child)
        return
    folder = Path(tempfile.mkdtemp(prefix="bench-quality-"))
    print(
        f"# bench_quality  {dt.date.today()}  {platform.machine()}  "
        f"python {platform.python_version()}  rows={args.rows:,}"
    )
    try:
        for dataset in SNAPSHOTS:
            t = time.perf_counter()
            path = make_snapshot(dataset, args.rows, folder)
            gen = time.perf_counter() - t
            out = subprocess.run(
                [sys.executable, __file__, "--child", dataset, str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            res = json.loads(out.stdout.strip().splitlines()[-1])
            mb = path.stat().st_size / 2**20
            print(
                f"{dataset:18} parquet {mb:6.0f} MB (made in {gen:5.1f} s)  "
                f"{res['expectations']:2d} expectations  validate {res['validate_s']:5.1f} s  "
                f"(+ GX import {res['import_s']:4.1f} s)  peak RSS {res['peak_rss_mb']} MB  "
                f"status {res['status']} {res['failed'] or ''}"
            )
            if out.stderr.strip():
                print("  stderr:", out.stderr.strip()[:500])
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print("kept", folder)


if __name__ == "__main__":
    main()
