"""Ingest throughput vs DuckDB's own CSV → Parquet, and peak memory.

    python bench/bench_ingest.py [--rows 5000000] [--dir /tmp/collide-bench-ingest]

Generates a UTF-8 CSV of agency-like rows (ID, name, date, money, organisation) and its GBK twin,
then times `COPY (SELECT * FROM read_csv(...)) TO 'x.parquet'` in DuckDB against
`collide.ingest.ingest_dataset` on the same files. Each run is a fresh subprocess so its peak
RSS (ru_maxrss) is its own. Prints a Markdown block for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

CONNECTOR = """\
id: bench
title: bench
source:
  type: csv
  path: data/{name}
columns:
  id_number: {{from: 身份证号, type: cn_id, required: true}}
  person_name: {{from: 姓名, type: person_name}}
  death_date: {{from: 死亡日期, type: date}}
  amount: {{from: 金额, type: money}}
  company: {{from: 单位名称, type: org_name}}
keys: [id_number]
"""


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰"


def generate(path: Path, rows: int, noisy: bool = False) -> None:
    """Agency-like rows. Realistic (default): a million people (distinct valid IDs with real
    birth dates, Chinese names), each on every millionth row like a monthly payment list;
    three date spellings, amounts with and without thousands separators or 元; about 1% of IDs
    with a wrong check character (kept, with an issue) and 0.1% blank (rejected). `noisy`: an
    issue on every row (a name with digits, most birth dates impossible) — the worst case for
    the issue accounting."""
    import polars as pl

    i = pl.int_range(0, rows, eager=True)
    person = i % 1_000_000  # a million people, each on every millionth row (a monthly list)
    if noisy:
        birth = (19500101 + (i % 500) * 100 + i % 28).cast(pl.Utf8)
        name = pl.lit("张") + (i % 9973).cast(pl.Utf8)
    else:
        days = pl.duration(days=(person * 7919) % 25000)
        birth = (pl.lit(dt.date(1940, 1, 1)) + days).dt.strftime("%Y%m%d")
        pick = lambda chars, k: pl.lit(list(chars)).list.get(k % len(chars))  # noqa: E731
        name = (
            pick(SURNAMES, person)
            + pick(GIVEN, person // 20)
            + pl.when(person % 3 > 0).then(pick(GIVEN, person // 600)).otherwise(pl.lit(""))
        )
    seq = person // 25000 if not noisy else i
    body = pl.lit("110105") + birth + (seq % 1000).cast(pl.Utf8).str.zfill(3)
    month, day = (i % 12 + 1).cast(pl.Utf8), (i % 28 + 1).cast(pl.Utf8)
    death = (
        pl.when(i % 3 == 0)
        .then(pl.lit("2023/") + month + "/" + day)
        .when(i % 3 == 1)
        .then(pl.lit("2023-") + month.str.zfill(2) + "-" + day.str.zfill(2))
        .otherwise(pl.lit("2023年") + month + "月" + day + "日")
    )
    cents = (i * 7717) % 10_000_000
    plain = (cents // 100).cast(pl.Utf8) + "." + (cents % 100).cast(pl.Utf8).str.zfill(2)
    thousands = (
        (cents // 100_000).cast(pl.Utf8)
        + ","
        + ((cents // 100) % 1000).cast(pl.Utf8).str.zfill(3)
        + "."
        + (cents % 100).cast(pl.Utf8).str.zfill(2)
    )
    money = (
        pl.when((i % 4 == 0) & (cents >= 100_000))
        .then(thousands)
        .when(i % 4 == 1)
        .then(plain + "元")
        .otherwise(plain)
    )
    df = pl.DataFrame({"i": i}).with_columns(
        body.alias("body"),
        name.alias("姓名"),
        death.alias("死亡日期"),
        ((i % 100000) / 100).cast(pl.Utf8).alias("金额") if noisy else money.alias("金额"),
        (pl.lit("北京某某") + (i % 5000).cast(pl.Utf8) + "有限公司（分公司）").alias("单位名称"),
    )
    # a valid check character, computed the GB 11643 way, so the file is realistic
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(df["body"].str.slice(k, 1).cast(pl.Int64) * w for k, w in enumerate(weights))
    check = (total % 11).replace_strict(list(range(11)), list("10X98765432"), return_dtype=pl.Utf8)
    wrong = ((total + 1) % 11).replace_strict(
        list(range(11)), list("10X98765432"), return_dtype=pl.Utf8
    )
    ident = pl.col("body") + check
    if not noisy:
        ident = (
            pl.when(pl.col("i") % 1009 == 3)
            .then(pl.lit(None, pl.Utf8))
            .when(pl.col("i") % 101 == 7)
            .then(pl.col("body") + wrong)
            .otherwise(ident)
        )
    df = df.with_columns(ident.alias("身份证号"))
    df.select("姓名", "身份证号", "死亡日期", "金额", "单位名称").write_csv(path)


def to_gbk(src: Path, dst: Path) -> None:
    with src.open("r", encoding="utf-8") as fin, dst.open("w", encoding="gbk") as fout:
        shutil.copyfileobj(fin, fout, 8 << 20)


STRINGS = CONNECTOR
for _t in ("cn_id", "person_name", "date", "money", "org_name"):
    STRINGS = STRINGS.replace(f"type: {_t}", "type: string")


def child(mode: str, work: Path, name: str) -> None:
    started = time.perf_counter()
    if mode == "duckdb":
        import duckdb

        con = duckdb.connect()
        out = work / "duck.parquet"
        con.execute(
            f"COPY (SELECT * FROM read_csv('{work / 'data' / name}')) TO '{out}' "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
        rows = con.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0]
        rejected = 0
    else:
        from collide.config.catalog import load_catalog
        from collide.ingest import ingest_dataset

        # "strings" maps every column as `string`: the cost of reading, accounting and writing
        # without the semantic types (it used to run the typed connector by mistake)
        template = STRINGS if mode == "strings" else CONNECTOR
        (work / "connectors" / "bench.yaml").write_text(
            template.format(name=name), encoding="utf-8"
        )
        snaps = work / "snapshots"
        shutil.rmtree(snaps, ignore_errors=True)
        conn = load_catalog(work).connectors["bench"]
        rep = ingest_dataset(conn, work, snaps)
        rows, rejected = rep.rows_loaded, rep.rows_rejected
        assert rep.rows_read == rep.rows_loaded + rep.rows_rejected
    seconds = time.perf_counter() - started
    # VmHWM starts afresh at exec; ru_maxrss would carry the parent's peak over
    status = Path("/proc/self/status").read_text()
    hwm = [ln for ln in status.splitlines() if ln.startswith("VmHWM")]
    rss = int(hwm[0].split()[1]) / 1024 if hwm else 0.0
    print(json.dumps({"seconds": seconds, "rows": rows, "rejected": rejected, "rss_mb": rss}))


def run(mode: str, work: Path, name: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--dir", str(work), "--name", name],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--dir", default="/tmp/collide-bench-ingest")
    ap.add_argument("--child")
    ap.add_argument("--name")
    args = ap.parse_args()
    work = Path(args.dir)
    if args.child:
        child(args.child, work, args.name)
        return
    (work / "data").mkdir(parents=True, exist_ok=True)
    (work / "connectors").mkdir(exist_ok=True)
    (work / "collide.yaml").write_text("name: bench\n", encoding="utf-8")
    data = work / "data"
    utf8, gbk, noisy = data / "utf8.csv", data / "gbk.csv", data / "noisy.csv"
    stamp = data / "GENERATED"  # regenerate when the row count or the generator changes
    want = f"{args.rows} rows, generator 3"
    if not stamp.exists() or stamp.read_text() != want:
        generate(utf8, args.rows)
        to_gbk(utf8, gbk)
        generate(noisy, args.rows, noisy=True)
        stamp.write_text(want)
    size = utf8.stat().st_size / 1e6
    duck = run("duckdb", work, "utf8.csv")
    ours = run("collide", work, "utf8.csv")
    ours_gbk = run("collide", work, "gbk.csv")
    strings = run("strings", work, "utf8.csv")
    duck_noisy = run("duckdb", work, "noisy.csv")
    ours_noisy = run("collide", work, "noisy.csv")
    load = os.getloadavg()[0]
    print(
        f"## ingest ({time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"{os.cpu_count()} cores, load avg {load:.1f} at end)\n"
    )
    print(
        f"{args.rows:,} rows, {size:.0f} MB UTF-8 CSV; 5 columns incl. cn_id, date, money, "
        "org_name.\n"
    )
    print("| run | seconds | MB/s | peak RSS MB | ratio vs DuckDB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, r, base in (
        ("DuckDB read_csv → parquet", duck, duck),
        ("collide ingest UTF-8", ours, duck),
        ("collide ingest GBK", ours_gbk, duck),
        ("collide ingest UTF-8, every column `string`", strings, duck),
        ("DuckDB, worst-case file (an issue on every row)", duck_noisy, duck_noisy),
        ("collide ingest, worst-case file", ours_noisy, duck_noisy),
    ):
        ratio = base["seconds"] / r["seconds"]
        mb = size if r is not ours_noisy and r is not duck_noisy else noisy.stat().st_size / 1e6
        print(
            f"| {label} | {r['seconds']:.1f} | {mb / r['seconds']:.0f} | "
            f"{r['rss_mb']:.0f} | {ratio:.2f} |"
        )
    print(
        f"\nrows loaded / rejected: UTF-8 {ours['rows']:,} / {ours['rejected']:,}; "
        f"GBK {ours_gbk['rows']:,} / {ours_gbk['rejected']:,}; "
        f"worst case {ours_noisy['rows']:,} / {ours_noisy['rejected']:,}"
    )


if __name__ == "__main__":
    main()
