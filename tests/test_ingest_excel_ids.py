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
