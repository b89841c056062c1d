"""Ingest: snapshot layout, provenance, row accounting, idempotency, the typed schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl
import pytest

from collide.config.catalog import load_catalog
from collide.ingest import ingest_dataset, latest_snapshot, load_snapshot

sys.path.insert(0, str(Path(__file__).parent / "corpus"))
from make_corpus import CASES, GOOD, HEAD, csv_text, write_case

CASE = {c.name: c for c in CASES}


def _ingest(root: Path, **kw):
    conn = load_catalog(root).connectors["deaths"]
    return ingest_dataset(conn, root, root / "snapshots", **kw)


def test_snapshot_layout_schema_and_manifest(tmp_path: Path) -> None:
    import duckdb

    root = write_case(CASE["title_rows"], tmp_path)
    seen: list[str] = []
    rep = _ingest(root, progress=lambda label, done, total: seen.append(label))
    assert rep.new and len(rep.snapshot_id) == 16
    assert rep.snapshot_dir == root / "snapshots" / "deaths" / rep.snapshot_id
    assert sorted(p.name for p in rep.snapshot_dir.iterdir()) == [
        "data.parquet",
        "manifest.json",
        "rejects.parquet",
    ]
    assert (root / "snapshots" / "deaths" / "LATEST").read_text().strip() == rep.snapshot_id
    assert [
        p.name for p in (root / "snapshots" / "deaths").iterdir() if p.name.startswith(".")
    ] == []
    assert "hashing data/d.csv" in seen
    snap = latest_snapshot(root / "snapshots", "deaths")
    assert snap is not None and snap.snapshot_id == rep.snapshot_id
    conn = load_catalog(root).connectors["deaths"]
    assert snap.schema == conn.spec.schema()
    described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{snap.data_path}')").fetchall()
    assert {r[0]: r[1] for r in described} == conn.spec.schema()
    assert [r[0] for r in described] == list(conn.spec.schema())
    m = json.loads((rep.snapshot_dir / "manifest.json").read_text(encoding="utf-8"))
    for key in (
        "rows_read",
        "rows_loaded",
        "rows_rejected",
        "totals_rows_dropped",
        "issues_by_kind",
        "files",
        "schema",
        "timings",
        "notes",
        "connector_hash",
        "created_at",
    ):
        assert key in m, key
    assert m["files"] == [
        {
            "path": "data/d.csv",
            "sha256": m["files"][0]["sha256"],
            "bytes": (root / "data/d.csv").stat().st_size,
            "rows_read": 3,
            "sheet": None,
        }
    ]
    df = pl.read_parquet(snap.data_path)
    # title rows on lines 1-2, header on line 3: the first person is on line 4
    assert df["_source_row"].to_list() == [4, 5, 6]
    assert df["_snapshot_id"].unique().to_list() == [rep.snapshot_id]
    assert df["death_date"].cast(pl.Utf8).to_list() == ["2023-05-01"] * 3
    assert [str(v) for v in df["amount"]] == ["1234.50", "88.00", "12.50"]


def test_same_input_same_snapshot_nothing_rewritten(tmp_path: Path) -> None:
    root = write_case(CASE["utf8"], tmp_path)
    first = _ingest(root)
    mtime = (first.snapshot_dir / "data.parquet").stat().st_mtime_ns
    again = _ingest(root)
    assert (again.snapshot_id, again.new) == (first.snapshot_id, False)
    assert (again.rows_loaded, again.rows_rejected) == (3, 0)
    assert (first.snapshot_dir / "data.parquet").stat().st_mtime_ns == mtime
    # a changed file is a new snapshot, and LATEST moves to it
    (root / "data" / "d.csv").write_text(csv_text([HEAD, *GOOD[:2]]), encoding="utf-8")
    changed = _ingest(root)
    assert changed.new and changed.snapshot_id != first.snapshot_id
    assert latest_snapshot(root / "snapshots", "deaths").snapshot_id == changed.snapshot_id
    assert (
        load_snapshot(root / "snapshots", "deaths", first.snapshot_id).manifest["rows_loaded"] == 3
    )


def test_rejects_keep_raw_values_and_row_numbers(tmp_path: Path) -> None:
    root = write_case(CASE["ids_as_excel_numbers"], tmp_path)
    rep = _ingest(root)
    rej = pl.read_parquet(rep.snapshot_dir / "rejects.parquet")
    assert rej.columns == ["_source_file", "_source_sheet", "_source_row", "_reason", "_raw"]
    assert rej["_source_row"].to_list() == [3, 4]
    assert rej["_reason"][0] == (
        'id_number: ID mangled by Excel (scientific notation) "1.10105E+17", unrecoverable; '
        "ask the agency for the file with IDs as text"
    )
    assert json.loads(rej["_raw"][0]) == {
        "姓名": "李四",
        "身份证号": "1.10105E+17",
        "死亡日期": "2023-1-1",
        "金额": "1",
    }


def test_quoted_newlines_keep_row_numbers(tmp_path: Path) -> None:
    root = write_case(CASE["quoted_newlines"], tmp_path)
    df = pl.read_parquet(_ingest(root).snapshot_dir / "data.parquet")
    assert df["_source_row"].to_list() == [2, 3, 4]  # rows as Excel numbers them


def test_issues_are_recorded_on_kept_rows(tmp_path: Path) -> None:
    root = write_case(CASE["invalid_checksums"], tmp_path)
    rep = _ingest(root)
    df = pl.read_parquet(rep.snapshot_dir / "data.parquet")
    assert df["_issues"].to_list() == ['id_number: invalid ID checksum "110105194912310021"', None]
    assert rep.issues_by_kind == {"id_number: invalid ID checksum": 1}


def test_excel_title_rows_merged_header_totals(tmp_path: Path) -> None:
    root = write_case(CASE["xlsx_title_merged_totals"], tmp_path)
    rep = _ingest(root)
    df = pl.read_parquet(rep.snapshot_dir / "data.parquet")
    assert df["_source_sheet"].unique().to_list() == ["死亡名单"]
    assert df["_source_row"].to_list() == [5, 6, 7]  # title, note, two header rows above
    assert df["person_name"].to_list() == ["张三", "李四", "王五"]
    assert [str(v) for v in df["amount"]] == ["1234.50", "88.00", "12.50"]
    assert df["death_date"].null_count() == 0
    assert rep.totals_rows_dropped == 1
    assert "data/d.xlsx [死亡名单]: ignored extra columns: 序号" in rep.notes


def test_excel_numeric_ids_rejected_not_fixed(tmp_path: Path) -> None:
    root = write_case(CASE["xlsx_ids_as_numbers"], tmp_path)
    rep = _ingest(root)
    rej = pl.read_parquet(rep.snapshot_dir / "rejects.parquet")
    assert rej["_source_row"].to_list() == [2, 3]
    assert rej["_reason"][0] == (
        'id_number: ID mangled by Excel (stored as a number) "110105194912310000", '
        "unrecoverable; ask the agency for the file with IDs as text"
    )
    df = pl.read_parquet(rep.snapshot_dir / "data.parquet")
    assert df["id_number"].to_list() == ["11010519491231002X", "11010519491231002X"]


def test_gbk_transcode_streams_in_chunks(tmp_path: Path, monkeypatch) -> None:
    from collide.ingest import _transcode

    monkeypatch.setattr(_transcode, "CHUNK", 64)  # many chunk boundaries inside multibyte text
    rows = [HEAD] + [[f"张{i}", GOOD[0][1], "2023-05-01", str(i)] for i in range(500)]
    root = write_case(CASE["gbk"], tmp_path)
    (root / "data" / "d.csv").write_bytes(csv_text(rows).encode("gbk"))
    rep = _ingest(root)
    assert (rep.rows_loaded, rep.rows_rejected) == (500, 0)
    df = pl.read_parquet(rep.snapshot_dir / "data.parquet")
    assert df["person_name"][499] == "张499" and df["_source_row"][499] == 501


def test_fast_reader_failing_midway_is_read_again(tmp_path: Path, monkeypatch) -> None:
    rows = [HEAD] + [[f"张{i}", GOOD[0][1], "2023-05-01", str(i)] for i in range(3000)]
    root = write_case(CASE["utf8"], tmp_path)
    text = csv_text(rows) + '赵六,"11010519491231002X,2023\n'
    (root / "data" / "d.csv").write_text(text, encoding="utf-8")
    conn = load_catalog(root).connectors["deaths"]
    conn.spec.source.batch_rows = 1000
    rep = ingest_dataset(conn, root, root / "snapshots")
    assert (rep.rows_read, rep.rows_loaded, rep.rows_rejected) == (3001, 3000, 1)
    assert any("read row by row" in n for n in rep.notes)


@pytest.mark.parametrize("bad", ["data.parquet"])
def test_crash_leaves_no_half_snapshot(tmp_path: Path, monkeypatch, bad: str) -> None:
    from collide.ingest import snapshot

    root = write_case(CASE["utf8"], tmp_path)

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(snapshot, "_concat_parquet", boom)
    with pytest.raises(OSError):
        _ingest(root)
    assert list((root / "snapshots" / "deaths").iterdir()) == []
    assert latest_snapshot(root / "snapshots", "deaths") is None
