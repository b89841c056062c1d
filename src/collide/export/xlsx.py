"""clues.xlsx: the hit list a reviewer fills in.

Typed columns, and the review columns made for filling in: 审查结论 and 排除理由 are dropdowns
(data validation), 制发日期/整改期限/有效期至 are real dates, 证据文件 is a relative link that opens
the clue's 线索核查单 (evidence/<model>.html#<clue> beside the workbook, offline, one click).
`collide review import clues.xlsx` reads back exactly these cells.

The workbook is written here as its parts (Office Open XML, ECMA-376: a zip of a few XML
files) rather than cell by cell through a library: a list of 100k clues is 2.7 M cells, and a
cell is one formatted string here. The sheet goes to the zip row block by row block, so memory
holds one block. `write_table` (collide stats) is small and still goes through xlsxwriter.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from collide.clues.build import REVIEW_STATES, display
from collide.clues.dispositions import DATE_FIELDS
from collide.config.specs import DEFAULT_EXCLUSION_REASONS
from collide.export.columns import CLUE_COLUMNS, masked

# Rows below the clues that still carry the dropdowns and date format (a reviewer may add rows).
_SPARE_ROWS = 200
# Excel keeps at most 65,530 links per worksheet: later clues' 证据文件 is a HYPERLINK() formula
# instead, which has no such limit and opens the same file (its cached value is the path, so a
# reader that does not calculate still shows it).
_MAX_LINKS = 65_530
# A cell holds at most 32,767 UTF-16 code units (Excel's limit); longer text is cut there.
_CELL_MAX = 32_767
_ROWS_PER_WRITE = 2_000

# The cell styles of styles.xml, by index (cellXfs)
_HEAD, _FILL, _TEXT, _NUM, _DATE, _LINK = 1, 2, 3, 4, 5, 6

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# Text Excel would misread: control characters are written as _xHHHH_ (the only way XML 1.0
# can carry them), and a text that already looks like such an escape gets its underscore
# escaped (_x005F_), so it reads back as typed.
_LOOKS_ESCAPED = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def _letters(n: int) -> str:
    """Column letters of the 0-based column n (0 → A, 26 → AA)."""
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _cut(text: str) -> str:
    """`text` within a cell's limit, never splitting a character."""
    if len(text) <= _CELL_MAX // 2 or _utf16_len(text) <= _CELL_MAX:
        return text
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > _CELL_MAX:
            return text[:i]
    return text


def inline_text(text: str) -> str:
    """The `<is>` content of a text cell: cut to the limit, escaped as Excel reads it back,
    spaces at either end kept."""
    text = _cut(text)
    if "_x" in text:
        text = _LOOKS_ESCAPED.sub(r"_x005F\1", text)
    if _CONTROL.search(text):
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    if "\ufffe" in text or "\uffff" in text:
        text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    body = _xml_escape(text)
    if text[:1].isspace() or text[-1:].isspace():
        return f'<is><t xml:space="preserve">{body}</t></is>'
    return f"<is><t>{body}</t></is>"


def _xml_escape(text: str) -> str:
    """`&`, `<`, `>` as entities (what xml.sax.saxutils.escape does; that module imports
    urllib.request and http.client, ≈ 0.01 s of every run)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def quoteattr(text: str) -> str:
    """An attribute value with its quotes, as xml.sax.saxutils.quoteattr writes it."""
    text = _xml_escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' in text:
        if "'" in text:
            return '"' + text.replace('"', "&quot;") + '"'
        return "'" + text + "'"
    return '"' + text + '"'


_URL_ESCAPES = {c: f"%{ord(c):02x}" for c in '%" <>[]^`{}'}


def _link_target(path: str) -> str:
    """A link's file as a URI (spaces and quotes %-escaped, as Excel writes them), left alone
    when it already holds an escape."""
    if re.search("%[0-9a-fA-F]{2}", path):
        return path
    return "".join(_URL_ESCAPES.get(ch, ch) for ch in path)


def _serial(day: dt.date) -> int:
    """Excel's day number of a date (1900 date system)."""
    return (day - _EXCEL_EPOCH).days


def _number(value: float) -> str:
    return f"{value:.16G}"


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _width(chars: float) -> str:
    """A column width as Excel stores it: characters of the default font's digit (7 px),
    plus Excel's 5 px padding, rounded to 1/256 of a character."""
    pixels = int(chars * 7 + 0.5) + 5
    return f"{(pixels * 256 // 7) / 256.0:.16g}"


_STYLES = (
    _XML + f'<styleSheet xmlns="{_NS}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="0.0"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="3">'
    '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><u/><sz val="11"/><color rgb="FF0000FF"/><name val="Calibri"/><family val="2"/></font>'
    "</fonts>"
    '<fills count="4"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/>'
    "</patternFill></fill>"
    '<fill><patternFill patternType="solid"><fgColor rgb="FFFFF2CC"/><bgColor indexed="64"/>'
    "</patternFill></fill></fills>"
    '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    '<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/>'
    '</right><top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/>'
    "</bottom><diagonal/></border></borders>"
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="7">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    # 1 header, 2 header of a column the reviewer fills in
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1"'
    ' applyBorder="1" applyAlignment="1"><alignment wrapText="1"/></xf>'
    '<xf numFmtId="0" fontId="1" fillId="3" borderId="1" xfId="0" applyFont="1" applyFill="1"'
    ' applyBorder="1" applyAlignment="1"><alignment wrapText="1"/></xf>'
    # 3 text (format @: what is typed stays text), 4 number, 5 date, 6 link
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"'
    ' applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"'
    ' applyAlignment="1"><alignment vertical="top"/></xf>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"'
    ' applyAlignment="1"><alignment vertical="top"/></xf>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"'
    ' applyAlignment="1"><alignment vertical="top"/></xf>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/><tableStyles count="0"/></styleSheet>'
)


class _Sheet:
    """One worksheet's XML, streamed into the zip: head, rows, then what follows the rows."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.pending: list[str] = []

    def write(self, text: str) -> None:
        self.pending.append(text)
        if len(self.pending) >= _ROWS_PER_WRITE:
            self.flush()

    def flush(self) -> None:
        self.out.write("".join(self.pending).encode("utf-8"))
        self.pending.clear()


def _validation(
    kind: str, sqref: str, formula: str, title: str, message: str, extra: str = ""
) -> str:
    return (
        f'<dataValidation type="{kind}"{extra} allowBlank="1" showInputMessage="1"'
        f' showErrorMessage="1" errorTitle={quoteattr(title)} error={quoteattr(message)}'
        f' sqref="{sqref}"><formula1>{_xml_escape(formula)}</formula1></dataValidation>'
    )


def write_xlsx(
    path: Path,
    rows: list[dict[str, Any]],
    mask: bool,
    reasons: Sequence[str] = DEFAULT_EXCLUSION_REASONS,
) -> None:
    """Write the hit list `rows` (in their order) as clues.xlsx at `path`."""
    keys = [c.key for c in CLUE_COLUMNS]
    letters = [_letters(c) for c in range(len(keys))]
    last_col = letters[-1]
    review_from = keys.index("review_status")
    data_end = max(len(rows), 1) + 1  # the autofilter covers the header and the clues
    spare_end = len(rows) + _SPARE_ROWS + 1  # dropdowns and dates reach below them

    reason_list = list(dict.fromkeys(reasons))
    if len(",".join(reason_list)) <= 250:
        reason_source = '"' + ",".join(reason_list) + '"'
        lists_sheet = False
    else:  # Excel caps an inline list at 255 characters: a hidden sheet holds a long one
        reason_source = f"'下拉选项'!$A$1:$A${len(reason_list)}"
        lists_sheet = True

    cols = []
    for c, col in enumerate(CLUE_COLUMNS):
        if col.key in DATE_FIELDS:
            style = f' style="{_DATE}"'
            width = max(col.width, 12)
        else:
            style = f' style="{_TEXT}"' if c >= review_from else ""
            width = col.width
        cols.append(
            f'<col min="{c + 1}" max="{c + 1}" width="{_width(width)}"{style} customWidth="1"/>'
        )

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        z.writestr("[Content_Types].xml", _content_types(lists_sheet))
        z.writestr(
            "_rels/.rels",
            _XML + f'<Relationships xmlns="{_NS_PKG}"><Relationship Id="rId1" '
            f'Type="{_NS_R}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr("xl/workbook.xml", _workbook(lists_sheet, f"$A$1:${last_col}${data_end}"))
        z.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(lists_sheet))
        z.writestr("xl/styles.xml", _STYLES)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=len(rows) > 1_000_000) as fh:
            sheet = _Sheet(fh)
            sheet.write(
                _XML + f'<worksheet xmlns="{_NS}" xmlns:r="{_NS_R}">'
                f'<dimension ref="A1:{last_col}{len(rows) + 1}"/>'
                '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
                '<sheetFormatPr defaultRowHeight="15"/>'
                f"<cols>{''.join(cols)}</cols><sheetData>"
            )
            sheet.write(
                '<row r="1">'
                + "".join(
                    f'<c r="{letters[c]}1" s="{_FILL if c >= review_from else _HEAD}"'
                    f' t="inlineStr">{inline_text(col.header)}</c>'
                    for c, col in enumerate(CLUE_COLUMNS)
                )
                + "</row>"
            )
            links = _clue_rows(sheet, rows, mask, letters)
            sheet.write("</sheetData>")
            sheet.write(f'<autoFilter ref="A1:{last_col}{data_end}"/>')

            def rng(key: str) -> str:  # a column's cells from the first clue to the spare rows
                letter = letters[keys.index(key)]
                return f"{letter}2:{letter}{spare_end}"

            checks = [
                _validation(
                    "list",
                    rng("review_status"),
                    '"' + ",".join(REVIEW_STATES) + '"',
                    "审查结论",
                    "请从下拉列表中选择：" + "、".join(REVIEW_STATES),
                ),
                _validation(
                    "list",
                    rng("exclusion_reason"),
                    reason_source,
                    "排除理由",
                    "请从下拉列表中选择排除理由"
                    "（可在 collide.yaml 的 review.exclusion_reasons 中增加）",
                ),
            ]
            for key in DATE_FIELDS:
                header = CLUE_COLUMNS[keys.index(key)].header
                checks.append(
                    _validation(
                        "date",
                        rng(key),
                        str(_serial(dt.date(1990, 1, 1))),
                        header,
                        "请填写日期，如 2026-03-01",
                        ' operator="greaterThanOrEqual"',
                    )
                )
            sheet.write(
                f'<dataValidations count="{len(checks)}">{"".join(checks)}</dataValidations>'
            )
            if links:
                sheet.write("<hyperlinks>")
                for n, (ref, _target, location) in enumerate(links, 1):
                    at = f" location={quoteattr(location)}" if location else ""
                    sheet.write(
                        f'<hyperlink ref="{ref}" r:id="rId{n}"{at} tooltip="打开线索核查单"/>'
                    )
                sheet.write("</hyperlinks>")
            sheet.write(
                '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3"'
                ' footer="0.3"/></worksheet>'
            )
            sheet.flush()
        if links:
            z.writestr(
                "xl/worksheets/_rels/sheet1.xml.rels",
                _XML
                + f'<Relationships xmlns="{_NS_PKG}">'
                + "".join(
                    f'<Relationship Id="rId{n}" Type="{_NS_R}/hyperlink"'
                    f' Target={quoteattr(target)} TargetMode="External"/>'
                    for n, (_ref, target, _location) in enumerate(links, 1)
                )
                + "</Relationships>",
            )
        if lists_sheet:
            z.writestr("xl/worksheets/sheet2.xml", _list_sheet(reason_list))


def _clue_rows(
    sheet: _Sheet, rows: list[dict[str, Any]], mask: bool, letters: list[str]
) -> list[tuple[str, str, str]]:
    """Write the clue rows; return the links to record: (cell, file, place in the file)."""
    links: list[tuple[str, str, str]] = []
    known: dict[str, str] = {}  # a text → its <is> content (model names, states repeat)
    spec = []
    for c, col in enumerate(CLUE_COLUMNS):
        if col.number:
            kind = "number"
        elif col.key in DATE_FIELDS:
            kind = "date"
        elif col.key == "evidence_file":
            kind = "link"
        else:
            kind = "text"
        spec.append((col.key, kind, letters[c]))
    blank_text = f' s="{_TEXT}"/>'
    for i, r in enumerate(rows, 2):
        cells = [f'<row r="{i}">']
        for key, kind, letter in spec:
            value = r.get(key)
            if kind == "text" or (kind == "number" and value is None):
                if value is None:
                    cells.append(f'<c r="{letter}{i}"{blank_text}')
                    continue
                text = masked(value if type(value) is str else display(value), mask)
                body = known.get(text)
                if body is None:
                    if len(known) > 10_000:
                        known.clear()
                    body = known[text] = inline_text(text)
                cells.append(f'<c r="{letter}{i}" s="{_TEXT}" t="inlineStr">{body}</c>')
            elif kind == "number":
                number = float(value)
                if math.isfinite(number):
                    cells.append(f'<c r="{letter}{i}" s="{_NUM}"><v>{_number(number)}</v></c>')
                else:  # no number Excel can hold: the value as it reads
                    body = inline_text(display(value))
                    cells.append(f'<c r="{letter}{i}" s="{_TEXT}" t="inlineStr">{body}</c>')
            elif kind == "date":
                day = _as_date(value)
                if day is None:
                    cells.append(f'<c r="{letter}{i}" s="{_DATE}"/>')
                else:
                    cells.append(f'<c r="{letter}{i}" s="{_DATE}"><v>{_serial(day)}</v></c>')
            elif not value:  # link column without a sheet
                cells.append(f'<c r="{letter}{i}"{blank_text}')
            else:
                # relative: the run folder opens wherever it is copied; the text stays the path
                path = str(value)
                if len(links) < _MAX_LINKS:
                    target, _, location = path.partition("#")
                    links.append((f"{letter}{i}", _link_target(target), location))
                    cells.append(
                        f'<c r="{letter}{i}" s="{_LINK}" t="inlineStr">{inline_text(path)}</c>'
                    )
                else:
                    quoted = path.replace('"', '""')
                    formula = _xml_escape(f'HYPERLINK("{quoted}","{quoted}")')
                    cells.append(
                        f'<c r="{letter}{i}" s="{_LINK}" t="str"><f>{formula}</f>'
                        f"<v>{_xml_escape(path)}</v></c>"
                    )
        cells.append("</row>")
        sheet.write("".join(cells))
    return links


def _content_types(lists_sheet: bool) -> str:
    sheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    parts = [
        (
            "/xl/workbook.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        ),
        (
            "/xl/styles.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml",
        ),
        ("/xl/worksheets/sheet1.xml", sheet),
    ]
    if lists_sheet:
        parts.append(("/xl/worksheets/sheet2.xml", sheet))
    return (
        _XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels"'
        ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in parts)
        + "</Types>"
    )


def _workbook(lists_sheet: bool, filter_range: str) -> str:
    hidden = (
        '<sheet name="下拉选项" sheetId="2" state="hidden" r:id="rId2"/>' if lists_sheet else ""
    )
    return (
        _XML + f'<workbook xmlns="{_NS}" xmlns:r="{_NS_R}"><workbookPr/>'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f'<sheets><sheet name="线索" sheetId="1" r:id="rId1"/>{hidden}</sheets>'
        '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
        f"'线索'!{filter_range}</definedName></definedNames>"
        '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
    )


def _workbook_rels(lists_sheet: bool) -> str:
    rels = [("worksheet", "worksheets/sheet1.xml")]
    if lists_sheet:
        rels.append(("worksheet", "worksheets/sheet2.xml"))
    rels.append(("styles", "styles.xml"))
    return (
        _XML
        + f'<Relationships xmlns="{_NS_PKG}">'
        + "".join(
            f'<Relationship Id="rId{n}" Type="{_NS_R}/{kind}" Target="{target}"/>'
            for n, (kind, target) in enumerate(rels, 1)
        )
        + "</Relationships>"
    )


def _list_sheet(values: list[str]) -> str:
    rows = "".join(
        f'<row r="{k}"><c r="A{k}" t="inlineStr">{inline_text(v)}</c></row>'
        for k, v in enumerate(values, 1)
    )
    return (
        _XML + f'<worksheet xmlns="{_NS}" xmlns:r="{_NS_R}">'
        f'<dimension ref="A1:A{max(len(values), 1)}"/><sheetData>{rows}</sheetData>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3"'
        ' footer="0.3"/></worksheet>'
    )


def write_table(
    path: Path,
    sheet: str,
    columns: list[str],
    rows: list[list[Any]],
    *,
    percent: set[str] = frozenset(),  # type: ignore[assignment]
    wide: set[str] = frozenset(),  # type: ignore[assignment]
    note: str = "",
) -> None:
    """A plain table (`collide stats --format xlsx`): a bold header, numbers as numbers (the
    `percent` columns as 0.0%), the last row (合计) bold, and `note` below the table."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet(sheet)
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    pct = wb.add_format({"num_format": "0.0%"})
    bold = wb.add_format({"bold": True})
    for j, c in enumerate(columns):
        ws.write_string(0, j, c, head)
        ws.set_column(j, j, 28 if c in wide else 12)
    for i, r in enumerate(rows, 1):
        for j, (c, value) in enumerate(zip(columns, r)):
            if value is None:
                continue
            if isinstance(value, (int, float)):
                ws.write_number(i, j, value, pct if c in percent else None)
            else:
                ws.write_string(i, j, str(value), bold if i == len(rows) else None)
    if note:
        ws.write_string(len(rows) + 2, 0, note)
    ws.freeze_panes(1, 0)
    wb.close()
