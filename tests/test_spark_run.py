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

from compare_runs import files, normalise  # noqa: E402

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
        a = normalise((duck / rel).read_text(encoding="utf-8-sig"))
        b = normalise((spark / rel).read_text(encoding="utf-8-sig"))
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


def test_spark_table_source_is_ingested_with_row_accounting_and_provenance(tmp_path, cli):
    """A table already on the cluster (here: a Parquet table in a local warehouse folder)."""
    import pyarrow.parquet as pq

    from collide.engine.spark import session

    spark = session("local[2]", {"spark.sql.shuffle.partitions": "4"})
    warehouse = tmp_path / "warehouse" / "meters"
    spark.sql("DROP TABLE IF EXISTS collide_test_meters")
    spark.sql(
        f"CREATE TABLE collide_test_meters USING parquet LOCATION '{warehouse}' AS "
        "SELECT * FROM VALUES ('M3', '乙公司', 7), ('M1', '甲公司', 0), ('M2', NULL, 12) "
        "AS t(`户号`, `户名`, `读数`)"
    )
    project = tmp_path / "p"
    (project / "connectors").mkdir(parents=True)
    (project / "models").mkdir()
    (project / "collide.yaml").write_text(
        "name: 测试项目\nengine: spark\n" + SPARK_BLOCK, encoding="utf-8"
    )
    (project / "connectors" / "meters.yaml").write_text(
        "id: meters\ntitle: 水表\nagency: 自来水公司\n"
        "source: {type: spark_table, table: collide_test_meters}\n"
        "columns:\n"
        "  meter_no: {from: 户号, type: string, required: true}\n"
        "  holder_name: {from: 户名, type: org_name}\n"
        "  reading: {from: 读数, type: int}\n",
        encoding="utf-8",
    )
    code, out, err = cli("ingest", "--project", str(project))
    assert code == 0, out + err
    data = next((project / "output" / "snapshots" / "meters").glob("*/data.parquet"))
    rows = pq.read_table(data).to_pylist()
    assert len(rows) == 3
    assert {r["_source_file"] for r in rows} == {"spark_table:collide_test_meters"}
    # a stable order: the same row has the same number on every ingest
    assert [
        (r["_source_row"], r["meter_no"]) for r in sorted(rows, key=lambda r: r["_source_row"])
    ][:1][0][1] == "M1"
    assert {r["meter_no"]: r["reading"] for r in rows} == {"M1": 0, "M2": 12, "M3": 7}
    assert " 3 " in " ".join(out.split())  # rows read / loaded in the ingest table
