"""clues.xlsx is written as its XML parts (collide.export.xlsx). What a reader gets from it —
values, types, formats, fonts and fills, links, dropdowns, frozen header, filter, widths — must
equal what xlsxwriter writes from the same rows (tests/xlsx_reference.py), on generated rows with
the texts agency data holds: control characters, texts that look like Excel's own escapes,
spaces at either end, ID numbers to mask, very long texts, dates in every form, odd links.

Intended differences from xlsxwriter, each tested below: an empty text cell is a blank cell
(xlsxwriter wrote an empty string: both read back empty); a text that looks like rich-text XML
(`<r>…</r>`) is kept as text (xlsxwriter's constant-memory mode copied it into the XML raw,
which broke the workbook); a score that is not a finite number is written as its text
(xlsxwriter refused the whole workbook)."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsx_reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collide.export import CLUE_COLUMNS
from collide.export import xlsx as ours


def describe(path: Path) -> list:
    """What a reader of the workbook sees, as plain values."""
    wb = openpyxl.load_workbook(path)
    out: list = []
    for ws in wb.worksheets:
        out.append(("sheet", ws.title, ws.sheet_state, ws.freeze_panes, ws.auto_filter.ref))
        for dim in ws.column_dimensions.values():  # a range of equal columns, one by one
            for n in range(dim.min or 1, (dim.max or dim.min or 1) + 1):
                fmt = dim.number_format if dim.style_id else None
                out.append(("col", n, dim.width, fmt))
        for row in ws.iter_rows():
            for c in row:
                value = None if c.value == "" else c.value
                if value is None and c.hyperlink is None and not c.has_style:
                    continue
                link = c.hyperlink
                out.append(
                    (
                        c.coordinate,
                        type(value).__name__,
                        value,
                        c.number_format,
                        bool(c.font.b),
                        c.font.u,
                        # xlsxwriter names the default text colour by the theme (1): the same
                        c.font.color.rgb
                        if c.font.color is not None and c.font.color.type == "rgb"
                        else None,
                        c.fill.fgColor.rgb if c.fill.fill_type else None,
                        c.border.left.style,
                        c.alignment.wrap_text,
                        c.alignment.vertical,
                        (link.target, link.location, link.tooltip) if link is not None else None,
                    )
                )
        for dv in ws.data_validations.dataValidation:
            out.append(
                (
                    "dv",
                    str(dv.sqref),
                    dv.type,
                    dv.operator,
                    dv.formula1,
                    dv.error,
                    dv.errorTitle,
                    dv.allow_blank,
                    dv.showErrorMessage,
                )
            )
    return out


KEYS = [c.key for c in CLUE_COLUMNS]
NUMBER_KEYS = [c.key for c in CLUE_COLUMNS if c.number]
DATE_KEYS = ["issued_on", "rectify_by", "valid_until"]

texts = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.sampled_from("张三\t\n\r\x0b\x01\x1f _x0041_&<>\"'=+-@"), max_size=20),
    st.sampled_from(
        [
            "110105199003071234",  # an ID: masked
            "身份证号110105199003071234的人",
            " 前后有空格 ",
            "_x000D_",
            "_X00a1_和_x12G4_",
            "=SUM(A1:A2)",
            "\u2028行分隔\u2029",
            "\ufffe\uffff",
            "😀" * 3,
        ]
    ),
)
dates = st.one_of(
    st.none(),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 12, 31)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2100, 1, 1)),
    st.dates(min_value=dt.date(1900, 3, 1)).map(lambda d: d.isoformat() + " 备注"),
    st.sampled_from(["", "  ", "2024-02-30", "明天", "2024-03-01T10:00:00"]),
)
numbers = st.one_of(
    st.none(),
    st.integers(-(10**6), 10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, max_value=10**9, min_value=-(10**9)
    ),
)
links = st.one_of(
    st.none(),
    st.just(""),
    st.builds(
        lambda m, c: f"evidence/{m}.html#{c}",
        st.text(alphabet="abc_-", min_size=1, max_size=8),
        st.text(alphabet="XS0123456789ABCDEF", min_size=1, max_size=12),
    ),
    st.sampled_from(['evidence/a b.html#X"1', "evidence/&<x>.html", "evidence/中文.html#XS1"]),
)


def row_strategy():
    fields = {}
    for key in KEYS:
        if key in NUMBER_KEYS:
            fields[key] = numbers
        elif key in DATE_KEYS:
            fields[key] = dates
        elif key == "evidence_file":
            fields[key] = links
        else:
            fields[key] = st.one_of(st.none(), texts, st.integers(0, 99), dates)
    return st.fixed_dictionaries(fields)


def both(tmp: Path, rows, mask, reasons=None) -> tuple[list, list]:
    kw = {} if reasons is None else {"reasons": reasons}
    ours.write_xlsx(tmp / "ours.xlsx", rows, mask, **kw)
    xlsx_reference.write_xlsx(tmp / "ref.xlsx", rows, mask, **kw)
    return describe(tmp / "ours.xlsx"), describe(tmp / "ref.xlsx")


def _rich_xml(rows) -> bool:
    return any(
        isinstance(v, str) and v.startswith("<r>") and v.endswith("</r>")
        for r in rows
        for v in r.values()
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row_strategy(), max_size=6), mask=st.booleans())
def test_the_workbook_reads_as_xlsxwriters(tmp_path_factory, rows, mask) -> None:
    tmp = tmp_path_factory.mktemp("x")
    a, b = both(tmp, rows, mask)
    assert a == b


def test_the_fixed_parts_read_the_same(tmp_path: Path) -> None:
    """No rows, a few rows, a long list of exclusion reasons (on a hidden sheet), and links past
    Excel's limit (lowered to 2 in both writers)."""
    row = {k: None for k in KEYS} | {"rank": 1, "clue_id": "XS1", "review_status": "待审查"}
    a, b = both(tmp_path, [], False)
    assert a == b
    reasons = [f"本院自定义的第{i}种排除理由" for i in range(40)]
    a, b = both(tmp_path, [row], True, reasons)
    assert a == b and any(x[0] == "sheet" and x[2] == "hidden" for x in a)
    many = [row | {"rank": i, "evidence_file": f"evidence/m.html#XS{i}"} for i in range(1, 6)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ours, "_MAX_LINKS", 2)
        mp.setattr(xlsx_reference, "_MAX_LINKS", 2)
        a, b = both(tmp_path, many, True)
    assert a == b


def test_long_and_rich_looking_texts(tmp_path: Path) -> None:
    """A cell is cut at Excel's 32,767 UTF-16 units (a character outside the BMP counts two and
    is never split); a text shaped like rich-text XML stays that text."""
    long = "甲" * 40_000
    astral = "😀" * 20_000  # 40,000 units
    rich = "<r><t>x</t></r>"
    rows = [{"clue_id": long, "subject_name": astral, "reason": rich, "evidence_file": None}]
    ours.write_xlsx(tmp_path / "o.xlsx", rows, False)
    ws = openpyxl.load_workbook(tmp_path / "o.xlsx")["线索"]
    col = {c.value: c.column for c in ws[1]}
    assert ws.cell(2, col["线索编号"]).value == "甲" * 32_767
    assert ws.cell(2, col["对象名称"]).value == "😀" * 16_383
    assert ws.cell(2, col["线索说明"]).value == rich
    # the reference agrees on the cut (the rich-looking text aside)
    del rows[0]["reason"]
    xlsx_reference.write_xlsx(tmp_path / "r.xlsx", rows, False)
    ours.write_xlsx(tmp_path / "o.xlsx", rows, False)
    assert describe(tmp_path / "o.xlsx") == describe(tmp_path / "r.xlsx")


def test_a_score_that_is_not_a_number_is_kept_as_text(tmp_path: Path) -> None:
    ours.write_xlsx(tmp_path / "o.xlsx", [{"rank": 1, "risk": float("nan")}], False)
    ws = openpyxl.load_workbook(tmp_path / "o.xlsx")["线索"]
    assert ws.cell(2, 8).value == "nan" and ws.cell(1, 8).value == "风险分"


def test_the_package_is_well_formed(tmp_path: Path) -> None:
    """Every part parses as XML and every part a relationship names is in the zip."""
    import re
    import xml.dom.minidom

    rows = [{"rank": 1, "clue_id": "XS1", "evidence_file": "evidence/m.html#XS1"}]
    ours.write_xlsx(tmp_path / "o.xlsx", rows, False, [f"理由{i}" * 20 for i in range(20)])
    with zipfile.ZipFile(tmp_path / "o.xlsx") as z:
        names = set(z.namelist())
        assert z.testzip() is None
        for name in names:
            xml.dom.minidom.parseString(z.read(name))
        types = z.read("[Content_Types].xml").decode()
        for part in re.findall(r'PartName="/([^"]+)"', types):
            assert part in names
        for rels in (n for n in names if n.endswith(".rels")):
            base = rels.replace("_rels/", "").removesuffix(".rels").rpartition("/")[0]
            for target, mode in re.findall(
                r'Target="([^"]+)"(?: TargetMode="(\w+)")?', z.read(rels).decode()
            ):
                if mode != "External":
                    assert (f"{base}/{target}" if base else target) in names


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("&<>\"'\n\r\t a中_x0D;#")) | st.characters()))
def test_xml_escaping_is_the_standard_librarys(text: str) -> None:
    # the writer escapes by itself (importing xml.sax.saxutils costs every run ≈ 0.01 s)
    from xml.sax.saxutils import escape, quoteattr

    assert ours._xml_escape(text) == escape(text)
    assert ours.quoteattr(text) == quoteattr(text)
