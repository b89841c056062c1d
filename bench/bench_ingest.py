"""Ingest throughput vs DuckDB's own CSV → Parquet, and peak memory, on three file shapes.

    python bench/bench_ingest.py [--rows 5000000] [--shapes plain personal wide] [--dir ...]

Shapes (each as a UTF-8 CSV and its GBK twin):
- `plain`: a bill file we did not make — account number (string), period (int like 202401),
  amount due and amount paid (money like `202.7`, `20.0`); 24 rows per account.
- `personal`: agency-like personal data (ID, name, date in three spellings, money with
  separators or 元, organisation); plus a worst-case twin with an issue on every row.
- `wide`: 40 columns of mixed types (strings, ints, decimals, money, dates, IDs, names,
  organisations, phone numbers).

Each shape times `COPY (SELECT * FROM read_csv(...)) TO 'x.parquet'` in DuckDB against
`collide.ingest.ingest_dataset` on the same files. Each run is a fresh subprocess so its peak
RSS (VmHWM) is its own. Prints a Markdown block for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

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


PLAIN_CONNECTOR = """\
id: bench
title: bench
source:
  type: csv
  path: data/{name}
columns:
  account_no: {{from: 户号, type: string, required: true}}
  period: {{from: 账期, type: int, required: true}}
  amount_due: {{from: 应缴金额, type: money}}
  amount_paid: {{from: 实缴金额, type: money}}
keys: [account_no, period]
"""

# the wide file: (header, type) per column, 40 in all
WIDE_TYPES = (
    ["string"] * 10
    + ["int"] * 6
    + ["decimal"] * 6
    + ["money"] * 6
    + ["date"] * 4
    + ["cn_id"] * 2
    + ["person_name"] * 2
    + ["org_name"] * 2
    + ["phone"] * 2
)
WIDE_COLUMNS = [(f"字段{k + 1:02d}", t) for k, t in enumerate(WIDE_TYPES)]
WIDE_CONNECTOR = (
    "id: bench\ntitle: bench\nsource:\n  type: csv\n  path: data/{name}\ncolumns:\n"
    + "".join(
        f"  c{k + 1:02d}: {{{{from: {h}, type: {t}{', required: true' if k == 0 else ''}}}}}\n"
        for k, (h, t) in enumerate(WIDE_COLUMNS)
    )
    + "keys: [c01]\n"
)

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


def _id_numbers(person: pl.Series) -> pl.Series:
    """Distinct valid 18-digit IDs (real birth dates, a GB 11643 check character) per person."""
    import polars as pl

    days = pl.duration(days=(pl.col("p") * 7919) % 25000)
    birth = (pl.lit(dt.date(1940, 1, 1)) + days).dt.strftime("%Y%m%d")
    seq = ((pl.col("p") // 25000) % 1000).cast(pl.Utf8).str.zfill(3)
    df = pl.DataFrame({"p": person}).select((pl.lit("110105") + birth + seq).alias("body"))
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(df["body"].str.slice(k, 1).cast(pl.Int64) * w for k, w in enumerate(weights))
    check = (total % 11).replace_strict(list(range(11)), list("10X98765432"), return_dtype=pl.Utf8)
    return df["body"] + check


def generate_plain(path: Path, rows: int) -> None:
    """A monthly bill list: 24 periods per account, amounts written the way a billing system
    prints floats (`202.7`, `20.0`), an unpaid bill as `0.0`."""
    import polars as pl

    i = pl.int_range(0, rows, eager=True)
    acct, month = i // 24, i % 24
    period = (2023 + month // 12) * 100 + month % 12 + 1
    dimes = (acct * 7717 + month * 131) % 50000
    due = (dimes // 10).cast(pl.Utf8) + "." + (dimes % 10).cast(pl.Utf8)
    paid = pl.when(i % 7 == 3).then(pl.lit("0.0")).otherwise(due)
    pl.DataFrame({"i": i}).select(
        (pl.lit("LC") + acct.cast(pl.Utf8).str.zfill(9)).alias("户号"),
        period.alias("账期"),
        due.alias("应缴金额"),
        paid.alias("实缴金额"),
    ).write_csv(path)


def generate_wide(path: Path, rows: int) -> None:
    """40 columns of mixed types, every cell in a form a clean agency export would write."""
    import polars as pl

    i = pl.int_range(0, rows, eager=True)
    person = i % 1_000_000
    pick = lambda chars, k: pl.lit(list(chars)).list.get(k % len(chars))  # noqa: E731
    ids = _id_numbers(person)
    ids2 = _id_numbers((person * 31 + 17) % 1_000_000)
    cols: dict[str, pl.Expr | pl.Series] = {}
    for k, (head, kind) in enumerate(WIDE_COLUMNS):
        salt = i * (k + 3) + k * 977
        if kind == "string":
            expr = pl.lit(f"S{k}-") + (salt % 100_003).cast(pl.Utf8)
            if k == 0:
                expr = pl.lit("R") + i.cast(pl.Utf8).str.zfill(10)
        elif kind == "int":
            expr = (salt % 1_000_000).cast(pl.Utf8)
        elif kind == "decimal":
            milli = salt % 1_000_000
            expr = (milli // 1000).cast(pl.Utf8) + "." + (milli % 1000).cast(pl.Utf8).str.zfill(3)
        elif kind == "money":
            cents = salt % 10_000_000
            expr = (cents // 100).cast(pl.Utf8) + "." + (cents % 100).cast(pl.Utf8).str.zfill(2)
        elif kind == "date":
            expr = (pl.lit(dt.date(2015, 1, 1)) + pl.duration(days=salt % 3650)).dt.strftime(
                "%Y-%m-%d"
            )
        elif kind == "cn_id":
            expr = ids if k % 2 == 0 else ids2
        elif kind == "person_name":
            expr = pick(SURNAMES, salt) + pick(GIVEN, salt // 20) + pick(GIVEN, salt // 600)
        elif kind == "org_name":
            expr = pl.lit("北京") + pick(GIVEN, salt) + (salt % 5000).cast(pl.Utf8) + "有限公司"
        else:  # phone
            expr = pl.lit("13") + (salt % 1_000_000_000).cast(pl.Utf8).str.zfill(9)
        cols[head] = expr
    pl.DataFrame({"i": i}).select(**cols).write_csv(path)


def to_gbk(src: Path, dst: Path) -> None:
    with src.open("r", encoding="utf-8") as fin, dst.open("w", encoding="gbk") as fout:
        shutil.copyfileobj(fin, fout, 8 << 20)


CONNECTORS = {"plain": PLAIN_CONNECTOR, "personal": CONNECTOR, "wide": WIDE_CONNECTOR}
GENERATORS = {"plain": generate_plain, "personal": generate, "wide": generate_wide}


def as_strings(template: str) -> str:
    """The same connector with every column `string`: reading, accounting, writing, no types."""
    return re.sub(r"(\{\{from: [^,]+, )type: [a-z_]+", r"\1type: string", template)


def child(mode: str, work: Path, name: str, shape: str) -> None:
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
        # without the semantic types
        template = CONNECTORS[shape]
        template = as_strings(template) if mode == "strings" else template
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
    use = resource.getrusage(resource.RUSAGE_SELF)  # CPU seconds: steadier than wall on a busy box
    cpu = use.ru_utime + use.ru_stime
    # VmHWM starts afresh at exec; ru_maxrss would carry the parent's peak over
    status = Path("/proc/self/status").read_text()
    hwm = [ln for ln in status.splitlines() if ln.startswith("VmHWM")]
    rss = int(hwm[0].split()[1]) / 1024 if hwm else 0.0
    print(
        json.dumps(
            {"seconds": seconds, "cpu": cpu, "rows": rows, "rejected": rejected, "rss_mb": rss}
        )
    )


def run(mode: str, work: Path, name: str, shape: str, repeat: int = 1) -> dict:
    """The median of `repeat` fresh processes (the machine is shared: one run is noise)."""
    results = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--child", mode, "--dir", str(work), "--name", name,
             "--shape", shape],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    results.sort(key=lambda r: r["seconds"])
    mid = results[len(results) // 2]
    mid["all"] = [round(r["seconds"], 2) for r in results]
    return mid


def prepare(work: Path, shape: str, rows: int) -> dict[str, Path]:
    data = work / "data"
    files = {"utf8": data / f"{shape}_utf8.csv", "gbk": data / f"{shape}_gbk.csv"}
    if shape == "personal":
        files["noisy"] = data / "personal_noisy.csv"
    stamp = data / f"{shape}.GENERATED"  # regenerate when the row count or the generator changes
    want = f"{rows} rows, generator 5"
    if not stamp.exists() or stamp.read_text() != want:
        GENERATORS[shape](files["utf8"], rows)
        to_gbk(files["utf8"], files["gbk"])
        if shape == "personal":
            generate(files["noisy"], rows, noisy=True)
        stamp.write_text(want)
    return files


def bench_shape(work: Path, shape: str, rows: int, repeat: int) -> None:
    files = prepare(work, shape, rows)
    size = files["utf8"].stat().st_size / 1e6
    runs: list[tuple[str, dict, dict, float]] = []
    duck = run("duckdb", work, files["utf8"].name, shape, repeat)
    runs.append(("DuckDB read_csv → parquet", duck, duck, size))
    ours = run("collide", work, files["utf8"].name, shape, repeat)
    runs.append(("collide ingest UTF-8", ours, duck, size))
    ours_gbk = run("collide", work, files["gbk"].name, shape, repeat)
    runs.append(("collide ingest GBK (vs DuckDB on the UTF-8 twin)", ours_gbk, duck, size))
    strings = run("strings", work, files["utf8"].name, shape, repeat)
    runs.append(("collide ingest UTF-8, every column `string`", strings, duck, size))
    if "noisy" in files:
        nsize = files["noisy"].stat().st_size / 1e6
        duck_noisy = run("duckdb", work, files["noisy"].name, shape, repeat)
        runs.append(
            ("DuckDB, worst-case file (an issue on every row)", duck_noisy, duck_noisy, nsize)
        )
        ours_noisy = run("collide", work, files["noisy"].name, shape, repeat)
        runs.append(("collide ingest, worst-case file", ours_noisy, duck_noisy, nsize))
    load = os.getloadavg()
    print(
        f"### {shape} ({time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()}, "
        f"{os.cpu_count()} cores, load avg {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at end)\n"
    )
    gbk_mb = files["gbk"].stat().st_size / 1e6
    print(
        f"{rows:,} rows, {size:.0f} MB UTF-8 CSV, GBK twin {gbk_mb:.0f} MB; "
        f"median of {repeat} fresh processes.\n"
    )
    print(
        "| run | seconds (median; all) | MB/s | CPU s | peak RSS MB | ratio vs DuckDB | CPU ratio |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, r, base, mb in runs:
        ratio = base["seconds"] / r["seconds"]
        every = ", ".join(f"{x:.1f}" for x in r["all"])
        print(
            f"| {label} | {r['seconds']:.1f} ({every}) | {mb / r['seconds']:.0f} | "
            f"{r['cpu']:.1f} | {r['rss_mb']:.0f} | {ratio:.2f} | {base['cpu'] / r['cpu']:.2f} |"
        )
    print(
        f"\nrows loaded / rejected: UTF-8 {ours['rows']:,} / {ours['rejected']:,}; "
        f"GBK {ours_gbk['rows']:,} / {ours_gbk['rejected']:,}; DuckDB {duck['rows']:,}\n",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--shapes", nargs="+", default=list(CONNECTORS), choices=list(CONNECTORS))
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    ap.add_argument("--dir", default="/tmp/collide-bench-ingest")
    ap.add_argument("--child")
    ap.add_argument("--name")
    ap.add_argument("--shape", default="personal")
    args = ap.parse_args()
    work = Path(args.dir)
    if args.child:
        child(args.child, work, args.name, args.shape)
        return
    (work / "data").mkdir(parents=True, exist_ok=True)
    (work / "connectors").mkdir(exist_ok=True)
    (work / "collide.yaml").write_text("name: bench\n", encoding="utf-8")
    for shape in args.shapes:
        bench_shape(work, shape, args.rows, args.repeat)


if __name__ == "__main__":
    main()
