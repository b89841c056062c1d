"""Model run overhead: `collide` running one model vs the same SQL run by hand in DuckDB.

Builds a project in a temp folder with the pension_after_death model over synthetic snapshots
(`--rows` pension payments, a tenth as many deaths), ingests once, then times:

  hand    the model's SQL with its params on a plain DuckDB connection over the same Parquet
  engine  collide's execution of the model: sandboxed connection, functions, score, one row per
          subject, evidence rows (what `collide run` does per model)
  cli     `collide run --select pension_after_death --no-ingest --no-validate`, whole process
          (start-up, store commit, CSV/XLSX/evidence export)

Usage: python bench/bench_engine.py [--rows 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def make_ids(n: int, rng: random.Random) -> list[str]:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    ids = []
    for i in range(n):
        born = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(20000))
        body = f"339012{born:%Y%m%d}{i % 1000:03d}"
        total = sum(int(c) * w for c, w in zip(body, weights))
        ids.append(body + "10X98765432"[total % 11])
    return ids


def build(root: Path, rows: int, args_dead: int = 100) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(7)
    people = max(rows // 10, 10)
    ids = make_ids(people, rng)
    death = [
        dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(365)) if i % args_dead == 0 else None
        for i in range(people)
    ]
    (root / "data").mkdir(parents=True)
    dead = [i for i in range(people) if death[i] is not None]
    pq.write_table(
        pa.table(
            {
                "身份证号": [ids[i] for i in dead],
                "姓名": [f"张{i}" for i in dead],
                "死亡日期": [death[i] for i in dead],
            }
        ),
        root / "data" / "deaths.parquet",
    )
    who = [rng.randrange(people) for _ in range(rows)]
    pq.write_table(
        pa.table(
            {
                "身份证号": [ids[i] for i in who],
                "发放日期": [
                    dt.date(2023, 1, 15) + dt.timedelta(days=30 * rng.randrange(24)) for _ in who
                ],
                "金额": [round(rng.uniform(800, 4000), 2) for _ in who],
            }
        ),
        root / "data" / "payments.parquet",
    )
    (root / "collide.yaml").write_text("name: bench\nexport: {xlsx: true}\n", encoding="utf-8")
    (root / "connectors").mkdir()
    (root / "connectors" / "death_registrations.yaml").write_text(
        """
id: death_registrations
title: 死亡登记
source: {type: parquet, path: data/deaths.parquet}
columns:
  id_number: {from: 身份证号, type: cn_id, required: true}
  person_name: {from: 姓名, type: person_name}
  death_date: {from: 死亡日期, type: date, required: true}
""",
        encoding="utf-8",
    )
    (root / "connectors" / "pension_payments.yaml").write_text(
        """
id: pension_payments
title: 养老金发放
source: {type: parquet, path: data/payments.parquet}
columns:
  id_number: {from: 身份证号, type: cn_id, required: true}
  paid_on: {from: 发放日期, type: date, required: true}
  amount: {from: 金额, type: money}
""",
        encoding="utf-8",
    )
    (root / "models").mkdir()
    (root / "models" / "pension_after_death.yaml").write_text(
        """
id: pension_after_death
title: 死亡人员违规领取养老金
domain: 国有财产保护
description: bench
severity: high
inputs: [death_registrations, pension_payments]
params: {min_amount: 0}
subject: {type: person, id: id_number, name: person_name}
score: total_paid
reason: "{person_name}于{death_date}死亡，此后仍发放养老金{payments}笔，合计{total_paid}元"
evidence:
  - {dataset: death_registrations, on: {id_number: id_number}}
  - {dataset: pension_payments, on: {id_number: id_number}}
""",
        encoding="utf-8",
    )
    (root / "models" / "pension_after_death.sql").write_text(
        """
SELECT d.id_number, any_value(d.person_name) AS person_name, any_value(d.death_date) AS death_date,
       count(*) AS payments, sum(p.amount) AS total_paid
FROM death_registrations d
JOIN pension_payments p ON p.id_number = d.id_number AND p.paid_on > d.death_date
GROUP BY d.id_number
HAVING sum(p.amount) > $min_amount
""",
        encoding="utf-8",
    )


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--dead-every",
        type=int,
        default=100,
        help="one person in N has a death record (sets how many clues there are)",
    )
    ap.add_argument("--keep", type=Path, help="build the project here and keep it afterwards")
    ap.add_argument("--cli-repeat", type=int, default=3, help="whole-process runs (median)")
    ap.add_argument(
        "--build-only",
        action="store_true",
        help="with --keep: build and ingest the project, time nothing (to time `collide run` "
        "on it by hand, e.g. under /usr/bin/time -v)",
    )
    args = ap.parse_args()
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="collide-bench-engine-"))
    try:
        root = tmp / "p"
        if not (root / "collide.yaml").is_file():
            build(root, args.rows, args.dead_every)
        import duckdb

        from collide.modelrun.execute import execute_model
        from collide.project import Project

        project = Project.load(root)
        results = project.ingest()
        if args.build_only:
            print(f"built and ingested {root}")
            return
        snaps = {ds: r.snapshot_dir / "data.parquet" for ds, r in results.items()}
        model = project.catalog.models["pension_after_death"]
        sql = model.sql

        def hand():
            con = duckdb.connect()
            for ds, path in snaps.items():
                con.execute(f"CREATE VIEW {ds} AS SELECT * FROM read_parquet('{path}')")
            t = con.sql(sql, params={"min_amount": 0}).to_arrow_table()
            con.close()
            return t.num_rows

        def engine():
            out = execute_model(model, snaps, {"min_amount": 0})
            return len(out.rows)

        def engine_no_evidence():
            saved, model.spec.evidence = model.spec.evidence, []
            try:
                return len(execute_model(model, snaps, {"min_amount": 0}).rows)
            finally:
                model.spec.evidence = saved

        hand()  # warm the OS cache
        t_hand, n_hand = best(hand, args.repeat)
        t_eng, n_eng = best(engine, args.repeat)
        t_noev, _ = best(engine_no_evidence, args.repeat)
        assert n_hand == n_eng, (n_hand, n_eng)

        def whole(*extra: str) -> float:
            """Median wall time of a whole `collide run --select` process."""
            times = []
            for _ in range(args.cli_repeat):
                t0 = time.perf_counter()
                subprocess.run(
                    [
                        str(Path(sys.executable).parent / "collide"),
                        "run",
                        "--select",
                        "pension_after_death",
                        *extra,
                        "--project",
                        str(root),
                    ],
                    check=False,
                    capture_output=True,
                )
                times.append(time.perf_counter() - t0)
            return statistics.median(times)

        views = "".join(
            f"con.execute(\"CREATE VIEW {ds} AS SELECT * FROM read_parquet('{path}')\")\n"
            for ds, path in snaps.items()
        )
        hand_script = (
            "import duckdb\ncon = duckdb.connect()\n"
            + views
            + f"t = con.sql({sql!r}, params={{'min_amount': 0}}).to_arrow_table()\n"
            + "print(t.num_rows)\n"
        )

        def hand_process() -> float:
            times = []
            for _ in range(args.cli_repeat):
                t0 = time.perf_counter()
                subprocess.run([sys.executable, "-c", hand_script], check=True, capture_output=True)
                times.append(time.perf_counter() - t0)
            return statistics.median(times)

        whole()  # first run: quality gate, first export (not what is measured)
        t_proc = hand_process()
        t_cli = whole("--no-ingest", "--no-validate")
        t_full = whole()
        load = os.getloadavg()[0]
        print(
            f"rows={args.rows} hits={n_hand} hand={t_hand:.3f}s "
            f"engine_without_evidence={t_noev:.3f}s ratio={t_noev / t_hand:.2f} "
            f"engine={t_eng:.3f}s ratio={t_eng / t_hand:.2f} hand_process={t_proc:.2f}s "
            f"cli_no_ingest_no_validate={t_cli:.2f}s ({t_cli / t_proc:.1f}x) "
            f"cli_whole_unchanged={t_full:.2f}s ({t_full / t_proc:.1f}x) load={load:.1f} "
            f"cpus={os.cpu_count()} {platform.machine()} duckdb={duckdb.__version__}"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
