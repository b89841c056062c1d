"""The sample project on Spark (local mode) against DuckDB: the same clues, byte for byte.

Spark starts once for the module (local[2], 4 shuffle partitions) and every test reuses it."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java (17) on the machine", allow_module_level=True)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from compare_runs import files, normalise, read  # noqa: E402

SPARK_BLOCK = """
spark:
  master: local[2]
  conf: {spark.sql.shuffle.partitions: "4", spark.default.parallelism: "2"}
"""


def copy_sample(root: Path, engine: str) -> Path:
    root.mkdir(parents=True)
    for name in ("collide.yaml", "connectors", "expectations", "models", "sample_data"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    text = (root / "collide.yaml").read_text(encoding="utf-8")
    assert "\nengine: duckdb" in text
    text = text.replace("\nengine: duckdb", f"\nengine: {engine}")
    # the sample's own spark: block (four indented lines) gives way to the test's
    text = re.sub(r"\nspark:\n(?:  .*\n)+", "\n", text)
    (root / "collide.yaml").write_text(text + SPARK_BLOCK, encoding="utf-8")
    return root


def run_dir(project: Path) -> Path:
    return sorted(p for p in (project / "runs").iterdir() if not p.name.startswith("."))[-1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One fresh copy of the sample project per engine, each run once (same run date)."""
    from collide.cli.main import main

    out = {}
    for engine in ("duckdb", "spark"):
        project = copy_sample(tmp_path_factory.mktemp(engine) / "sample", engine)
        try:
            main(["run", "--project", str(project)])
        except SystemExit as exc:
            assert exc.code in (0, None), f"collide run on {engine} failed"
        out[engine] = project
    return out


def test_sample_gives_the_same_clues_and_evidence_on_both_engines(runs):
    duck, spark = run_dir(runs["duckdb"]), run_dir(runs["spark"])
    names = sorted(set(files(duck)) | {p.relative_to(duck) for p in duck.glob("evidence/*")})
    assert "clues.csv" in {str(n) for n in names}
    assert any(str(n).startswith("evidence/") for n in names)
    assert names == sorted(
        set(files(spark)) | {p.relative_to(spark) for p in spark.glob("evidence/*")}
    )
    clues = (duck / "clues.csv").read_text(encoding="utf-8-sig")
    assert len(clues.splitlines()) > 10  # the sample has clues of every model
    for rel in names:
        if rel.name == "report.md":
            continue  # names the engine and timings
        # (clues.xlsx as its cells, links and dropdowns: compare_runs.read)
        a = normalise(read(duck / rel))
        b = normalise(read(spark / rel))
        assert a == b, f"{rel} differs between DuckDB and Spark"


def stored(project: Path) -> dict[str, list[tuple]]:
    """The store's clues, sightings and evidence rows without run ids and timestamps."""
    import duckdb

    con = duckdb.connect(str(project / "output" / "collide.duckdb"), read_only=True)
    try:
        out = {}
        for table in ("clues", "sightings", "evidence"):
            cols = [
                r[0]
                for r in con.execute(f"DESCRIBE {table}").fetchall()
                if "run" not in r[0] and not r[0].endswith("_at")
            ]
            listed = ", ".join(cols)
            out[table] = [cols] + con.execute(
                f"SELECT {listed} FROM {table} ORDER BY ALL"
            ).fetchall()
        return out
    finally:
        con.close()


def test_store_holds_the_same_evidence_hashes_on_both_engines(runs):
    """Reviews carry over between engines by evidence hash: the stored rows must agree."""
    duck, spark = stored(runs["duckdb"]), stored(runs["spark"])
    assert len(duck["evidence"]) > 10
    for table in duck:
        assert duck[table] == spark[table], f"{table} differs between DuckDB and Spark"


def test_every_model_ran_on_spark(runs):
    """Not an empty run agreeing with an empty run: each model has hits on both engines."""
    import csv
    import io

    def models(project: Path) -> set[str]:
        text = (run_dir(project) / "clues.csv").read_text(encoding="utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
        return {r["模型"] for r in rows}

    assert models(runs["spark"]) == models(runs["duckdb"])
    assert len(models(runs["spark"])) == len(list((REPO / "models").glob("*.yaml")))


def test_model_unit_tests_pass_on_spark(runs, cli):
    code, out, err = cli("test", "--engine", "spark", "--project", str(runs["spark"]))
    assert code == 0, out + err
    assert " 0 failed" in out
    assert "water_zero_use_streak" in out


def test_polars_rule_without_partition_by_is_refused_for_spark(tmp_path, cli):
    project = copy_sample(tmp_path / "p", "duckdb")
    code, out, err = cli("check", "--engine", "spark", "--project", str(project))
    assert code == 0, out + err  # every shipped model translates, the rule declares its key
    rule = project / "models" / "water_zero_use_streak.yaml"
    text = rule.read_text(encoding="utf-8")
    rule.write_text(text.replace("partition_by: account_no\n", ""), encoding="utf-8")
    code, out, err = cli("check", "--project", str(project))
    assert code == 0, out + err  # DuckDB runs it whole
    code, out, err = cli("check", "--engine", "spark", "--project", str(project))
    text = " ".join((out + err).split())
    assert code == 1
    assert "models/water_zero_use_streak.yaml" in text
    assert "partition_by" in text
    rule.write_text(
        (REPO / "models" / "water_zero_use_streak.yaml")
        .read_text(encoding="utf-8")
        .replace("partition_by: account_no", "partition_by: meter_no"),
        encoding="utf-8",
    )
    code, out, err = cli("check", "--engine", "spark", "--project", str(project))
    text = " ".join((out + err).split())
    assert code == 1
    assert 'has no column "meter_no"' in text


def _meters_project(root: Path, engine: str, table: str) -> Path:
    (root / "connectors").mkdir(parents=True)
    (root / "models").mkdir()
    (root / "collide.yaml").write_text(
        f"name: 测试项目\nengine: {engine}\n" + SPARK_BLOCK, encoding="utf-8"
    )
    (root / "connectors" / "meters.yaml").write_text(
        "id: meters\ntitle: 水表\nagency: 自来水公司\n"
        f"source: {{type: spark_table, table: {table}}}\n"
        "columns:\n"
        "  meter_no: {from: 户号, type: string, required: true}\n"
        "  holder_name: {from: 户名, type: org_name}\n"
        "  reading: {from: 读数, type: int}\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture
def meters_table(tmp_path):
    """A Parquet table in a local warehouse folder, made in the test's own Spark session: the
    rows the ingest must number in (户号, 户名, 读数) order across several partitions (adaptive
    execution off, so the sort's four range partitions are not coalesced into one)."""
    from collide.engine.spark import session

    spark = session("local[2]", {"spark.sql.shuffle.partitions": "4"})
    adaptive = spark.conf.get("spark.sql.adaptive.enabled")
    spark.conf.set("spark.sql.adaptive.enabled", "false")
    spark.sql("DROP TABLE IF EXISTS collide_test_meters")
    spark.sql(
        f"CREATE TABLE collide_test_meters USING parquet "
        f"LOCATION '{tmp_path / 'warehouse' / 'meters'}' AS "
        "SELECT * FROM VALUES ('M3', '乙公司', 7), ('M1', '甲公司', 0), ('M2', NULL, 12), "
        "(NULL, '丙公司', 5), (NULL, NULL, NULL) AS t(`户号`, `户名`, `读数`) "
        "UNION ALL SELECT concat('N', lpad(CAST(id AS STRING), 4, '0')), '丁公司', "
        "CAST(id AS INT) FROM range(100)"
    )
    yield spark
    spark.sql("DROP TABLE IF EXISTS collide_test_meters")
    spark.conf.set("spark.sql.adaptive.enabled", adaptive)


def test_spark_table_is_written_by_the_cluster_with_row_accounting_and_provenance(
    tmp_path, cli, meters_table
):
    """The cluster writes the snapshot (a folder of Spark part files); rows are numbered in
    their stable order, a row without its required 户号 is rejected, a blank row skipped, and
    the manifest's accounts add up."""
    import json

    import pyarrow.parquet as pq

    from collide.engine.duckdb import BACKEND as DUCKDB
    from collide.quality.gx import count_rows
    from collide.snapshot_files import parquet_files

    project = _meters_project(tmp_path / "p", "spark", "collide_test_meters")
    code, out, err = cli("ingest", "--project", str(project))
    assert code == 0, out + err
    snaps = project / "output" / "snapshots" / "meters"
    (folder,) = [p for p in snaps.iterdir() if p.is_dir() and not p.name.startswith(".")]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    data = folder / "data.parquet"
    assert data.is_dir()  # Spark's own output, not the driver's single file
    parts = parquet_files(data)
    assert len(parts) > 1  # several partitions: the numbering crosses partition boundaries
    rows = pq.read_table(data).to_pylist()
    assert {r["_source_file"] for r in rows} == {"spark_table:collide_test_meters"}
    assert {r["_snapshot_id"] for r in rows} == {manifest["snapshot_id"]}
    assert {r["_source_sheet"] for r in rows} == {None}
    # NULLs sort first: the blank row is 1, the rejected row 2, then M1, M2, M3, N0000…N0099
    expected = ["M1", "M2", "M3"] + [f"N{i:04d}" for i in range(100)]
    numbered = {r["meter_no"]: r["_source_row"] for r in rows}
    assert numbered == {m: k + 3 for k, m in enumerate(expected)}
    assert [r["meter_no"] for r in pq.read_table(parts).to_pylist()] == expected  # in order
    by_meter = {r["meter_no"]: r for r in rows}
    assert (by_meter["M1"]["reading"], by_meter["M2"]["holder_name"]) == (0, None)
    assert by_meter["M3"]["holder_name"] == "乙公司"
    rejects = pq.read_table(folder / "rejects.parquet").to_pylist()
    assert [(r["_source_row"], r["_source_file"]) for r in rejects] == [
        (2, "spark_table:collide_test_meters")
    ]
    assert "meter_no" in rejects[0]["_reason"]
    assert json.loads(rejects[0]["_raw"]) == {"户号": None, "户名": "丙公司", "读数": "5"}
    assert (manifest["rows_read"], manifest["rows_loaded"], manifest["rows_rejected"]) == (
        104,
        103,
        1,
    )
    assert manifest["blank_rows_skipped"] == 1
    assert manifest["columns"]["holder_name"]["filled"] == 102  # M2 has none
    assert manifest["columns"]["meter_no"]["filled"] == 103
    assert " 103 " in " ".join(out.split())  # rows loaded, in the ingest table
    # the driver-side readers take the folder: the quality gate's count and a DuckDB session
    assert count_rows(data) == 103
    with DUCKDB.open({"meters": data}) as s:
        got = s.query("SELECT max(_source_row) AS m, count(*) AS n FROM meters").to_pylist()
    assert got == [{"m": 105, "n": 103}]
    # and a whole run over it on Spark: the gate, a model, its evidence from the part files
    (project / "models" / "meters_zero.yaml").write_text(
        "id: meters_zero\ntitle: 零读数水表\ndomain: 测试\ndescription: 测试。\nseverity: low\n"
        "inputs: [meters]\nsubject: {type: account, id: meter_no, name: holder_name}\n"
        'score: "1"\nreason: "{holder_name}"\n'
        "evidence:\n  - {dataset: meters, on: {meter_no: meter_no}}\n",
        encoding="utf-8",
    )
    (project / "models" / "meters_zero.sql").write_text(
        "SELECT meter_no, holder_name FROM meters WHERE reading = 0\n", encoding="utf-8"
    )
    code, out, err = cli("run", "--project", str(project))
    assert code == 0, out + err
    run = run_dir(project)
    clues = (run / "clues.csv").read_text(encoding="utf-8-sig")
    assert "M1" in clues and "N0000" in clues and "M3" not in clues
    evidence = "".join(p.read_text(encoding="utf-8") for p in run.glob("evidence/*.jsonl"))
    assert '"_source_row": 3' in evidence or '"_source_row":3' in evidence

    # unchanged table: the same snapshot; one more row: a new one
    code, out, err = cli("ingest", "--project", str(project))
    assert code == 0, out + err
    assert "(unchanged)" in out
    meters_table.sql("INSERT INTO collide_test_meters VALUES ('M0', '戊公司', 1)")
    code, out, err = cli("ingest", "--project", str(project))
    assert code == 0, out + err
    assert "(unchanged)" not in out
    latest = (snaps / "LATEST").read_text(encoding="utf-8").strip()
    assert latest != manifest["snapshot_id"]
    again = pq.read_table(snaps / latest / "data.parquet").to_pylist()
    assert {r["meter_no"]: r["_source_row"] for r in again}["M0"] == 3


def test_spark_table_needs_engine_spark(tmp_path, cli, meters_table):
    project = _meters_project(tmp_path / "p", "duckdb", "collide_test_meters")
    code, out, err = cli("ingest", "--project", str(project))
    text = " ".join((out + err).split())
    assert code == 1
    assert "connectors/meters.yaml" in text
    assert "engine: duckdb" in text and "Set `engine: spark`" in text
    assert not list((project / "output" / "snapshots" / "meters").glob("*/manifest.json"))
    code, out, err = cli("check", "--project", str(project))
    text = " ".join((out + err).split())
    assert code == 1, text  # an error of `collide check` too, not a warning
    assert "connectors/meters.yaml" in text and "engine: duckdb" in text


def test_spark_table_that_does_not_exist_is_one_line(tmp_path, cli, meters_table):
    project = _meters_project(tmp_path / "p", "spark", "no_such_table")
    code, out, err = cli("ingest", "--project", str(project))
    text = " ".join((out + err).split())
    assert code == 1
    assert "Spark cannot read spark_table:no_such_table" in text
    assert "Traceback" not in text
