"""One model over a large bill file we did not generate for collide (issue 15 §2).

The shape the issue measured: a plain 24 M-row UTF-8 bill file (account number, period
`202401`, amount due and paid written like `202.7`) made by bench_ingest's `plain` generator,
plus a 2 M-row accounts Parquet file, and one model joining them (bills paid after the account
was closed: 400 hits). Times, each a fresh process, median of `--repeat`:

  hand      a fresh python + duckdb process running the model's SQL over the snapshots
  collide   `collide run --select bills_after_close` on unchanged data (ingest recognises the
            files by the hash cache, the gate's results are reused, clues and exports written)

Usage: python bench/bench_bills.py [--rows 24000000] [--dir DIR] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import generate_plain  # noqa: E402

CONNECTORS = {
    "water_bills": """\
id: water_bills
title: 水费账单
source: {type: csv, path: data/bills.csv}
columns:
  account_no: {from: 户号, type: string, required: true}
  period: {from: 账期, type: int, required: true}
  amount_due: {from: 应缴金额, type: money}
  amount_paid: {from: 实缴金额, type: money}
keys: [account_no, period]
""",
    "water_accounts": """\
id: water_accounts
title: 水务户号
source: {type: parquet, path: data/accounts.parquet}
columns:
  account_no: {from: 户号, type: string, required: true}
  holder: {from: 户名, type: string}
  closed_period: {from: 销户账期, type: int}
keys: [account_no]
""",
}

MODEL_YAML = """\
id: bills_after_close
title: 销户后仍缴纳水费
domain: 国有财产保护
description: bench
severity: medium
inputs: [water_accounts, water_bills]
subject: {type: other, id: account_no, name: holder}
score: paid_after
reason: "户号{account_no}已于{closed_period}销户，此后仍缴费{bills_after}期，合计{paid_after}元"
evidence:
  - {dataset: water_accounts, on: {account_no: account_no}}
"""

MODEL_SQL = """\
SELECT a.account_no, any_value(a.holder) AS holder, any_value(a.closed_period) AS closed_period,
       count(*) AS bills_after, sum(b.amount_paid) AS paid_after
FROM water_accounts a
JOIN water_bills b ON b.account_no = a.account_no AND b.period > a.closed_period
WHERE a.closed_period IS NOT NULL AND b.amount_paid > 0
GROUP BY a.account_no
"""


def build(root: Path, rows: int) -> None:
    import polars as pl

    (root / "data").mkdir(parents=True)
    generate_plain(root / "data" / "bills.csv", rows)
    accounts = rows // 24
    i = pl.int_range(0, 2 * accounts, eager=True)
    # one account in 2,500 of those with bills closed mid-2023; the rest open (or no bills)
    closed = pl.when((i < accounts) & (i % 2500 == 7)).then(pl.lit(202306))
    pl.DataFrame({"i": i}).select(
        (pl.lit("LC") + i.cast(pl.Utf8).str.zfill(9)).alias("户号"),
        (pl.lit("户") + i.cast(pl.Utf8)).alias("户名"),
        closed.alias("销户账期"),
    ).write_parquet(root / "data" / "accounts.parquet")
    (root / "collide.yaml").write_text("name: bench\nrun_date: 2024-12-31\n", encoding="utf-8")
    (root / "connectors").mkdir()
    for name, text in CONNECTORS.items():
        (root / "connectors" / f"{name}.yaml").write_text(text, encoding="utf-8")
    (root / "models").mkdir()
    (root / "models" / "bills_after_close.yaml").write_text(MODEL_YAML, encoding="utf-8")
    (root / "models" / "bills_after_close.sql").write_text(MODEL_SQL, encoding="utf-8")


def median_run(cmd: list[str], repeat: int, cwd: Path) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=cwd)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=24_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dir", type=Path, help="build the project here and keep it")
    args = ap.parse_args()
    tmp = args.dir or Path(tempfile.mkdtemp(prefix="collide-bench-bills-"))
    root = tmp / "project"
    try:
        if not (root / "models").exists():
            t0 = time.perf_counter()
            build(root, args.rows)
            print(f"generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        collide = [str(Path(sys.executable).parent / "collide"), "run", "--select",
                   "bills_after_close"]  # fmt: skip
        t0 = time.perf_counter()
        subprocess.run(collide, check=True, capture_output=True, cwd=root)
        first = time.perf_counter() - t0  # ingest, gate, model, exports
        snaps = {
            ds: max(
                (root / "output" / "snapshots" / ds).glob("*/data.parquet"),
                key=lambda p: p.stat().st_mtime,
            )
            for ds in CONNECTORS
        }
        hand_script = (
            "import duckdb\ncon = duckdb.connect()\n"
            + "".join(
                f"con.execute(\"CREATE VIEW {ds} AS SELECT * FROM read_parquet('{p}')\")\n"
                for ds, p in snaps.items()
            )
            + f"t = con.sql({MODEL_SQL!r}).to_arrow_table()\nprint(t.num_rows)\n"
        )
        hits = subprocess.run(
            [sys.executable, "-c", hand_script], check=True, capture_output=True, text=True
        ).stdout.strip()
        t_hand, hand_all = median_run([sys.executable, "-c", hand_script], args.repeat, root)
        t_cli, cli_all = median_run(collide, args.repeat, root)
        size = (root / "data" / "bills.csv").stat().st_size / 1e6
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"### {args.rows:,} bill rows ({size:,.0f} MB CSV) + {args.rows // 12:,} accounts, "
            f"{hits} hits — {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, "
            f"{platform.machine()}, {os.cpu_count()} cores, load {load} at end\n\n"
            "| run | median s | all runs s |\n| --- | ---: | --- |\n"
            f"| first `collide run --select` (ingest, gate, model, exports) | {first:.2f} | |\n"
            f"| hand: fresh python + duckdb, the model's SQL | {t_hand:.2f} | "
            f"{', '.join(f'{t:.2f}' for t in hand_all)} |\n"
            f"| `collide run --select bills_after_close`, unchanged data | {t_cli:.2f} | "
            f"{', '.join(f'{t:.2f}' for t in cli_all)} |\n\n"
            f"ratio collide / hand: **{t_cli / t_hand:.2f}×** (target ≤ 2×)"
        )
    finally:
        if args.dir is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
