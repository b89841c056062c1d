"""An 18-digit ID typed as text in Excel is kept even when a float could hold it exactly;
the same digits stored as a number cell are rejected (Excel may have rounded them)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from conftest import write_project


def test_text_id_exactly_representable_as_float_is_kept(tmp_path: Path) -> None:
    import xlsxwriter

    from collide.project import Project

    root = write_project(
        tmp_path / "p",
        {
            "connectors/people.yaml": """
            id: people
            title: 人员
            source: {type: excel, path: data/people.xlsx}
            columns:
              person_name: {from: 姓名, type: person_name}
              id_number: {from: 身份证号码, type: cn_id, required: true}
        """,
        },
    )
    (root / "data").mkdir()
    wb = xlsxwriter.Workbook(str(root / "data" / "people.xlsx"))
    ws = wb.add_worksheet()
    ws.write_string(0, 0, "人员名单")
    ws.write_row(1, 0, ["姓名", "身份证号码"])
    # 339012196405087616 is a multiple of 64: a float64 holds it exactly.
    assert float(339012196405087616) == 339012196405087616
    ws.write_row(2, 0, ["潘东静"])
    ws.write_string(2, 1, "339012196405087616")
    ws.write_row(3, 0, ["王五"])
    ws.write_number(3, 1, 110101199003071000)
    wb.close()
    report = Project.load(root).ingest(["people"], keep_going=False)["people"]
    assert (report.rows_loaded, report.rows_rejected) == (1, 1)
    data = pl.read_parquet(report.snapshot_dir / "data.parquet")
    assert data["person_name"].to_list() == ["潘东静"]
    rejects = pl.read_parquet(report.snapshot_dir / "rejects.parquet")
    assert rejects["_source_row"].to_list() == [4]
    assert "ID mangled by Excel" in rejects["_reason"][0]


def test_excel_libraries_are_imported_by_one_module() -> None:
    """fastexcel, openpyxl and xlrd live behind ingest/sources/excel.py (clues/reviews.py reads
    reviewers' workbooks on its own)."""
    import re

    ingest = Path(__file__).resolve().parents[1] / "src" / "collide" / "ingest"
    importers = sorted(
        p.relative_to(ingest).as_posix()
        for p in ingest.rglob("*.py")
        if re.search(r"^\s*(import|from)\s+(fastexcel|openpyxl|xlrd)\b", p.read_text(), re.M)
    )
    assert importers == ["sources/excel.py"]


def test_a_sheet_with_text_ids_is_read_once(tmp_path: Path, monkeypatch) -> None:
    """Title rows above the header and ordinary text IDs: fastexcel's one read is all; the
    workbook is not opened again by openpyxl (row numbers still count the title rows)."""
    import openpyxl

    from collide.project import Project

    root = write_project(
        tmp_path / "p",
        {
            "connectors/people.yaml": """
            id: people
            title: 人员
            source: {type: excel, path: data/people.xlsx}
            columns:
              person_name: {from: 姓名, type: person_name}
              id_number: {from: 身份证号码, type: cn_id, required: true}
        """,
        },
    )
    (root / "data").mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["B3"] = "人员名单"
    ws.append([None, "姓名", "身份证号码"])
    ws.append([None, "张三", "11010519491231002X"])
    ws.append([None, "李四", "110105195001010012"])
    wb.save(root / "data" / "people.xlsx")
    opened: list[str] = []
    real = openpyxl.load_workbook
    monkeypatch.setattr(
        openpyxl, "load_workbook", lambda *a, **k: opened.append(a) or real(*a, **k)
    )
    rep = Project(root).ingest(["people"])["people"]
    assert (rep.rows_loaded, rep.rows_rejected) == (2, 0)
    assert opened == []
    df = pl.read_parquet(rep.snapshot_dir / "data.parquet")
    assert df["_source_row"].to_list() == [5, 6]
