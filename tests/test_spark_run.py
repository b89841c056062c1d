"""The sample project on Spark (local mode) against DuckDB: the same clues, byte for byte.

Spark starts once for the module (local[2], 4 shuffle partitions) and every test reuses it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyspark")

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
        key = next(k for k in rows[0] if "模型编号" in k or k == "model_id")
        return {r[key] for r in rows}

    assert models(runs["spark"]) == models(runs["duckdb"])
    assert len(models(runs["spark"])) == len(list((REPO / "models").glob("*.yaml")))


def test_model_unit_tests_pass_on_spark(runs, cli):
    code, out, err = cli("test", "--engine", "spark", "--project", str(runs["spark"]))
    assert code == 0, out + err
    assert " 0 failed" in out
    assert "water_zero_use_streak" in out
