"""An 18-digit ID typed as text in Excel is kept even when a float could hold it exactly;
the same digits stored as a number cell are rejected (Excel may have rounded them)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import polars as pl
from conftest import write_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


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
    sheet is not read again for its number cells (row numbers still count the title rows)."""
    import openpyxl

    from collide.ingest.sources import excel
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
    opened: list[tuple] = []
    real = excel._numeric_cell_texts
    monkeypatch.setattr(
        excel, "_numeric_cell_texts", lambda *a, **k: opened.append(a) or real(*a, **k)
    )
    rep = Project(root).ingest(["people"])["people"]
    assert (rep.rows_loaded, rep.rows_rejected) == (2, 0)
    assert opened == []
    df = pl.read_parquet(rep.snapshot_dir / "data.parquet")
    assert df["_source_row"].to_list() == [5, 6]


# --------------------------------------------------------------------------- number cells
# Which cells of a sheet are numbers of 1e15 or more is read from the sheet's XML by a regular
# expression (excel._xlsx_number_cells); openpyxl's reader, which it replaced (one Python
# object per cell: 40 s for a 13 MB workbook), is the reference. Intended difference: a
# number cell with a date format is a number here (openpyxl makes it a date).


def _openpyxl_number_texts(path: Path, sheet: str) -> set[str]:
    import openpyxl

    out: set[str] = set()
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for row in wb[sheet].iter_rows():
            for cell in row:
                v = cell.value
                if getattr(cell, "data_type", None) != "n" or isinstance(v, bool):
                    continue
                if isinstance(v, (int, float)) and 1e15 <= abs(v) < 9e18:
                    out.add(str(int(v)))
    finally:
        wb.close()
    return out


_CELL_VALUES = st.one_of(
    st.integers(-(10**19), 10**19),
    st.integers(10**14, 10**18),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(1e14, 1e19),
    st.sampled_from([1e15, 999_999_999_999_999, 10**15, 110101199003071000, 9e18, 2**63 - 1]),
    st.text(st.sampled_from("0123456789X.E+-"), max_size=20),
    st.booleans(),
    st.none(),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.lists(_CELL_VALUES, min_size=1, max_size=5), min_size=1, max_size=30),
    st.sampled_from(["openpyxl", "xlsxwriter"]),
    st.sampled_from(["Sheet1", "数据 & <名单>", "a'b"]),
)
def test_number_cells_read_as_openpyxl_reads_them(tmp_path_factory, rows, writer, name) -> None:
    from collide.ingest.sources.excel import _numeric_cell_texts

    path = tmp_path_factory.mktemp("x") / "book.xlsx"
    if writer == "openpyxl":
        import openpyxl

        wb = openpyxl.Workbook()
        wb.active.title = "first"
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
        ws.append(["=1+1", 1.5e17])  # a formula (no cached value) and a number
        wb.save(path)
    else:
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(path))
        wb.add_worksheet("first").write_number(0, 0, 3e17)
        ws = wb.add_worksheet(name)
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                ws.write(i, j, v)
        ws.write_formula(len(rows), 0, "=A1", None, 1234567890123456789)  # a cached number
        ws.write_formula(len(rows), 1, '="2222222222222222222"', None, "2222222222222222222")
        wb.close()
    assert _numeric_cell_texts(path, name) == _openpyxl_number_texts(path, name)


def test_number_cells_under_a_namespace_prefix_and_across_chunks(tmp_path: Path, monkeypatch):
    """A sheet written with a prefixed namespace (`<x:c>`, as some .NET writers do) and read in
    pieces smaller than a row."""
    import openpyxl

    from collide.ingest.sources import excel

    plain = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "s"
    for i in range(300):
        ws.append([f"名{i}", 110101199003070000 + i * 10_000, i, 1.5 * 10 ** (i % 20)])
    wb.save(plain)
    prefixed = tmp_path / "prefixed.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(prefixed, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                text = text.replace('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
                                    'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"')  # fmt: skip
                text = re.sub(r"<(/?)(?!\?)(?!x:)([a-zA-Z])", r"<\1x:\2", text)
                data = text.encode("utf-8")
            dst.writestr(item, data)
    want = _openpyxl_number_texts(plain, "s")
    assert len(want) > 300
    assert _openpyxl_number_texts(prefixed, "s") == want
    for chunk in (1 << 20, 100, 7):
        monkeypatch.setattr(excel, "_CHUNK", chunk)
        assert excel._numeric_cell_texts(plain, "s") == want
        assert excel._numeric_cell_texts(prefixed, "s") == want
