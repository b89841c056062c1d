"""The bad-input corpus: messy agency files, written fresh into a folder at test time.

Each `Case` writes its file(s) under `data/` and gives the connector's source block and the
expected outcome: rows loaded and rejected plus a substring of a note, reason or issue — or, for
input that cannot be read at all, a substring of the one-line error. Run it by hand to look at
the files: `python tests/corpus/make_corpus.py /tmp/corpus`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HEAD = ["姓名", "身份证号", "死亡日期", "金额"]
GOOD = [
    ["张三", "11010519491231002X", "2023-05-01", "1,234.50"],
    ["李四", "440305198506070011", "2023/5/1", "88"],
    ["王五", "110101200001010010", "2023年5月1日", "12.5元"],
]

COLUMNS = """\
columns:
  id_number:
    from: [身份证号, 公民身份号码]
    type: cn_id
    required: true
  person_name:
    from: 姓名
    type: person_name
  death_date:
    from: 死亡日期
    type: date
  amount:
    from: [金额, 发放金额]
    type: money
keys: [id_number]
"""


def connector_yaml(source: str) -> str:
    return f"id: deaths\ntitle: 死亡登记\nagency: 民政局\nsource:\n{source}{COLUMNS}"


def csv_text(rows: list[list[str]], sep: str = ",") -> str:
    def cell(v: str) -> str:
        return f'"{v}"' if any(ch in v for ch in (sep, '"', "\n")) else v

    return "".join(sep.join(cell(v) for v in r) + "\n" for r in rows)


@dataclass
class Case:
    name: str
    write: Callable[[Path], None]  # writes into the data folder
    source: str  # the YAML source block (indented by 2)
    loaded: int = 0
    rejected: int = 0
    expect: str = ""  # substring of a note, a reject reason or an issue key
    error: str = ""  # substring of the CollideError text, when nothing can be loaded
    totals: int = 0


def _csv(
    rows: list[list[str]],
    encoding: str = "utf-8",
    sep: str = ",",
    name: str = "d.csv",
    prefix: bytes = b"",
) -> Callable[[Path], None]:
    def write(d: Path) -> None:
        (d / name).write_bytes(prefix + csv_text(rows, sep).encode(encoding))

    return write


def _raw(data: bytes, name: str = "d.csv") -> Callable[[Path], None]:
    def write(d: Path) -> None:
        (d / name).write_bytes(data)

    return write


CSV = "  type: csv\n  path: data/d.csv\n"
XLSX = "  type: excel\n  path: data/d.xlsx\n"


def _mixed(d: Path) -> None:
    text = csv_text([HEAD, *GOOD[:2]]).encode("utf-8") + csv_text([GOOD[2]]).encode("gbk")
    (d / "d.csv").write_bytes(text)


def _xlsx_report(d: Path) -> None:
    """Title row, a two-row header with merged cells, a blank row and a 合计 row."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "死亡名单"
    ws.append(["XX区民政局死亡人员登记表"])
    ws.merge_cells("A1:E1")
    ws.append(["填报单位：XX区民政局", None, None, "单位：元"])
    ws.append(["序号", "人员信息", None, "死亡\n日期", "发放金额"])
    ws.append([None, "姓名", "公民身份号码", None, None])
    ws.merge_cells("B3:C3")
    ws.merge_cells("A3:A4")
    ws.merge_cells("D3:D4")
    ws.merge_cells("E3:E4")
    for i, r in enumerate(GOOD, start=1):
        ws.append([i, r[0], r[1], r[2], r[3]])
    ws.append([None] * 5)
    ws.append(["合计", None, None, None, 1334.5])
    wb.save(d / "d.xlsx")


def _xlsx_numbers(d: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEAD)
    ws.append(["张三", 110105194912310000, "2023-05-01", 1])  # 18 digits typed as a number
    ws.append(["李四", 11010519491231002, "2023-05-01", 2])  # 17 digits, also lost
    ws.append(["王五", 110105491231002, "2023-05-01", 3])  # 15-digit legacy: exact in a float
    ws.append(["赵六", "11010519491231002X", "2023-05-01", 4])
    wb.save(d / "d.xlsx")


def _xlsx_dates(d: Path) -> None:
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEAD)
    ws.append(["张三", "11010519491231002X", dt.datetime(2023, 5, 1), 1])
    ws.append(["李四", "440305198506070011", 45047, 2])
    ws.append(["王五", "110101200001010010", "2023.05.01", 3])
    wb.save(d / "d.xlsx")


def _xlsx_sheets(d: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "一季度"
    ws.append(HEAD)
    ws.append(GOOD[0])
    ws2 = wb.create_sheet("二季度")
    ws2.append(["全区死亡人员名单（二季度）"])
    ws2.append(HEAD)
    ws2.append(GOOD[1])
    ws2.append(GOOD[2])
    wb.save(d / "d.xlsx")


def _xls(d: Path) -> None:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Sheet1")
    ws.write(0, 0, "XX区死亡人员名单")
    for j, h in enumerate(HEAD):
        ws.write(2, j, h)
    for i, r in enumerate(GOOD, start=3):
        for j, v in enumerate(r):
            ws.write(i, j, v)
    ws.write(6, 0, "总计")
    wb.save(str(d / "d.xls"))


def _locked(d: Path) -> None:
    # Excel saves a password-protected .xlsx as an OLE compound file, not a zip.
    (d / "d.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)


def _corrupt(d: Path) -> None:
    _xlsx_sheets(d)
    data = (d / "d.xlsx").read_bytes()
    (d / "d.xlsx").write_bytes(data[: len(data) // 2])  # a download cut in half


def _xlsx_as_csv(d: Path) -> None:
    _xlsx_sheets(d)
    (d / "d.xlsx").rename(d / "d.csv")


def _text(sep: str = ",") -> str:
    return csv_text([HEAD, *GOOD], sep)


def _eol(eol: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    return _raw(_text().replace("\n", eol).encode(encoding))


def _mixed_eol(d: Path) -> None:
    lines = _text().splitlines()
    (d / "d.csv").write_bytes(
        (lines[0] + "\r\n" + lines[1] + "\n" + lines[2] + "\r" + lines[3] + "\r\n").encode()
    )


_RANDOM = bytes((k * 7919 + 13) % 251 for k in range(4000))  # fixed "random" bytes

CASES: list[Case] = [
    Case("utf8", _csv([HEAD, *GOOD]), CSV, 3, 0, ""),
    Case("utf8_bom", _csv([HEAD, *GOOD], prefix=b"\xef\xbb\xbf"), CSV, 3, 0),
    Case("gbk", _csv([HEAD, *GOOD], "gbk"), CSV, 3, 0),
    Case(
        "gb18030_rare_chars", _csv([HEAD, ["㐂㐄", *GOOD[0][1:]], *GOOD[1:]], "gb18030"), CSV, 3, 0
    ),
    Case("gbk_declared", _csv([HEAD, *GOOD], "gbk"), CSV + "  encoding: gbk\n", 3, 0),
    Case("utf16_tab", _csv([HEAD, *GOOD], "utf-16", sep="\t"), CSV, 3, 0),
    Case(
        "wrong_declared_encoding",
        _csv([HEAD, *GOOD], "gbk"),
        CSV + "  encoding: utf-8\n",
        error="connectors/deaths.yaml:7: data/d.csv is not utf-8: byte 0 cannot be decoded "
        "(it looks like gb18030). Set `encoding: auto` (or gb18030).",
    ),
    Case(
        "mixed_encodings",
        _mixed,
        CSV,
        3,
        0,
        "data/d.csv: 1 lines were not UTF-8 and were read as GB18030",
    ),
    Case("semicolons", _csv([HEAD, *GOOD], sep=";"), CSV, 3, 0),
    Case(
        "quoted_newlines",
        _csv(
            [HEAD + ["备注"], GOOD[0] + ["第一行\n第二行"], GOOD[1] + [""], GOOD[2] + ['他说"好"']]
        ),
        CSV,
        3,
        0,
        "data/d.csv: ignored extra columns: 备注",
    ),
    Case(
        "title_rows",
        _csv([["XX区死亡人员登记表"], ["导出时间：2024-01-02"], HEAD, *GOOD]),
        CSV,
        3,
        0,
        "data/d.csv: header found on row 3; rows above it skipped",
    ),
    Case(
        "duplicate_headers",
        _csv([HEAD + ["金额"], *(r + ["0"] for r in GOOD)]),
        CSV,
        3,
        0,
        "data/d.csv: duplicate headers renamed (the first one is used): 金额 → 金额(2)",
    ),
    Case(
        "missing_required_column",
        _csv([["姓名", "身份号码", "死亡日期", "金额"], *GOOD]),
        CSV,
        error='connectors/deaths.yaml:8: column "id_number" (aliases: 身份证号, 公民身份号码) '
        "not found in data/d.csv. Headers found: 姓名, 身份号码, 死亡日期, 金额. "
        'Did you mean "身份号码"? Add the header to `from:` of id_number',
    ),
    Case(
        "missing_optional_column",
        _csv([HEAD[:3], *(r[:3] for r in GOOD)]),
        CSV,
        3,
        0,
        'data/d.csv: column "amount" (aliases: 金额, 发放金额) not found; left empty',
    ),
    Case(
        "extra_columns",
        _csv([["联系人", *HEAD, "备注"], *(["某", *r, ""] for r in GOOD)]),
        CSV,
        3,
        0,
        "data/d.csv: ignored extra columns: 联系人, 备注",
    ),
    Case("empty_file", _raw(b""), CSV, error="data/d.csv: the file is empty (0 bytes)"),
    Case("header_only", _csv([HEAD]), CSV, 0, 0, "data/d.csv: a header and no data rows"),
    Case(
        "truncated_last_line",
        _raw(csv_text([HEAD, *GOOD]).encode() + "赵六,1101051949".encode()),
        CSV,
        3,
        1,
        'id_number: invalid ID length 10 (expected 18 characters) "1101051949"',
    ),
    Case(
        "unterminated_quote",
        _raw(csv_text([HEAD, *GOOD]).encode() + '赵六,"11010519491231002X,2023'.encode()),
        CSV,
        3,
        1,
        "read row by row",
    ),
    Case(
        "ragged_rows",
        _csv([HEAD, GOOD[0], GOOD[1] + ["多出来"], GOOD[2][:3], ["钱七", "11010519491231002X"]]),
        CSV,
        3,
        1,
        "row has more fields than the 4 header columns",
    ),
    Case(
        "ids_as_excel_numbers",
        _csv(
            [
                HEAD,
                GOOD[0],
                ["李四", "1.10105E+17", "2023-1-1", "1"],
                ["王五", "110105194912310000", "2023-1-1", "1"],
            ]
        ),
        CSV,
        1,
        2,
        "rejected: id_number: ID mangled by Excel (scientific notation)",
    ),
    Case(
        "fullwidth_ids",
        _csv([HEAD, ["张 三", "１１０１０５１９４９１２３１００２Ｘ", "2023-05-01", "1"], GOOD[1]]),
        CSV,
        2,
        0,
    ),
    Case("lowercase_x", _csv([HEAD, ["张三", "11010519491231002x", "2023-05-01", "1"]]), CSV, 1, 0),
    Case(
        "legacy_15_digit_ids",
        _csv([HEAD, ["张三", "110105491231002", "2023-05-01", "1"]]),
        CSV,
        1,
        0,
        "id_number: legacy 15-digit ID upgraded to 18 digits",
    ),
    Case(
        "invalid_checksums",
        _csv([HEAD, ["张三", "110105194912310021", "2023-05-01", "1"], GOOD[0]]),
        CSV,
        2,
        0,
        "id_number: invalid ID checksum",
    ),
    Case(
        "every_date_format",
        _csv(
            [
                HEAD,
                *(
                    ["某", GOOD[0][1], d, "1"]
                    for d in [
                        "2023-05-01",
                        "2023/5/1",
                        "2023.05.01",
                        "20230501",
                        "2023年5月1日",
                        "45047",
                        "/",
                        "—",
                        "长期",
                        "",
                    ]
                ),
            ]
        ),
        CSV,
        10,
        0,
        "death_date: placeholder date read as empty",
    ),
    Case(
        "money_with_units",
        _csv(
            [
                HEAD,
                *(
                    ["某", GOOD[0][1], "2023-05-01", m]
                    for m in ["1,234.50", "1234.5元", "￥1234", "¥1,234", "1234", "一千元"]
                ),
            ]
        ),
        CSV,
        6,
        0,
        "amount: unparseable amount",
    ),
    Case(
        "no_matching_file",
        lambda d: None,
        CSV,
        error='connectors/deaths.yaml:6: no file matches "data/d.csv"',
    ),
    Case(
        "xlsx_title_merged_totals",
        _xlsx_report,
        XLSX,
        3,
        0,
        "data/d.xlsx [死亡名单]: header found on row 3; rows above it skipped",
        totals=1,
    ),
    Case(
        "xlsx_ids_as_numbers",
        _xlsx_numbers,
        XLSX,
        2,
        2,
        "rejected: id_number: ID mangled by Excel (stored as a number)",
    ),
    Case("xlsx_date_cells", _xlsx_dates, XLSX, 3, 0),
    Case("xlsx_all_sheets", _xlsx_sheets, XLSX + '  sheet: "*"\n', 3, 0),
    Case("xlsx_sheet_by_name", _xlsx_sheets, XLSX + "  sheet: 二季度\n", 2, 0),
    Case(
        "xlsx_unknown_sheet",
        _xlsx_sheets,
        XLSX + "  sheet: 二季\n",
        error='connectors/deaths.yaml:7: sheet "二季" not found in data/d.xlsx. '
        'Sheets: 一季度, 二季度. Did you mean "二季度"?',
    ),
    Case("xls_legacy", _xls, "  type: excel\n  path: data/d.xls\n", 3, 0, totals=1),
    Case(
        "xlsx_locked",
        _locked,
        XLSX,
        error="data/d.xlsx: the workbook is password-protected (encrypted), so it cannot be read",
    ),
    Case("xlsx_corrupt", _corrupt, XLSX, error="data/d.xlsx: cannot open the Excel file ("),
    # line ends and encodings that older exports and other platforms write
    Case("cr_only", _eol("\r"), CSV, 3, 0),
    Case("cr_only_gbk", _eol("\r", "gbk"), CSV, 3, 0),
    Case("mixed_line_ends", _mixed_eol, CSV, 3, 0),
    Case("utf16le_no_bom", _raw(_text().encode("utf-16-le")), CSV, 3, 0),
    Case("utf16be_no_bom", _raw(_text().encode("utf-16-be")), CSV, 3, 0),
    Case("utf16_cr_only", _raw(_text().replace("\n", "\r").encode("utf-16")), CSV, 3, 0),
    Case("utf32_bom", _raw(_text().encode("utf-32")), CSV, 3, 0),
    Case("utf32le_no_bom", _raw(_text().encode("utf-32-le")), CSV, 3, 0),
    Case("utf32be_no_bom", _raw(_text().encode("utf-32-be")), CSV, 3, 0),
    # files that are not CSV text at all: one message naming what they are
    Case(
        "xlsx_named_csv",
        _xlsx_as_csv,
        CSV,
        error="data/d.csv: this is not a CSV file: it is an Excel workbook (.xlsx) with a .csv "
        "name. Set `type: excel` in the connector and rename the file to .xlsx.",
    ),
    Case(
        "xls_named_csv",
        lambda d: _xls(d) or (d / "d.xls").rename(d / "d.csv"),
        CSV,
        error="data/d.csv: this is not a CSV file: it is an old Excel workbook (.xls)",
    ),
    Case(
        "zip_named_csv",
        _raw(b"PK\x03\x04\x14\x00\x00\x00\x08\x00data.csv" + bytes(200)),
        CSV,
        error="data/d.csv: this is not a CSV file: it is a zip archive",
    ),
    Case(
        "pdf_named_csv",
        _raw(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"),
        CSV,
        error="data/d.csv: this is not a CSV file: it is a PDF document",
    ),
    Case(
        "random_bytes",
        _raw(_RANDOM),
        CSV,
        error="data/d.csv: this is not a CSV file: it is binary data, not text",
    ),
    Case(
        "nul_bytes",
        _raw(_text().encode().replace(b"\n", b"\x00\x00\n", 1)),
        CSV,
        error="data/d.csv: this is not a CSV file: it is binary data, not text (a zero byte at "
        "byte 39)",
    ),
    Case(
        "quote_never_closed_long",
        _raw((_text() + '赵六,"' + "长" * 200_000 + "\n" + _text()).encode()),
        CSV,
        error='data/d.csv: a quote (") opened on line 5 is never closed',
    ),
    Case(
        "utf16_cut_short",
        _raw(_text().encode("utf-16") + b"\x00"),
        CSV,
        error="data/d.csv: cannot decode the file: the bytes from byte 267 on are not utf-16",
    ),
    Case(
        "html_named_xls",
        _raw(b"<html><body><table><tr><td>\xe5\xa7\x93\xe5\x90\x8d</td></tr></table>", "d.xls"),
        "  type: excel\n  path: data/d.xls\n",
        error="data/d.xls: this file is a web page (an HTML table saved with an Excel name)",
    ),
    Case(
        "csv_named_xlsx",
        _raw(_text().encode("gbk"), "d.xlsx"),
        XLSX,
        error="data/d.xlsx: this file is a text (CSV) file with an Excel name, not an Excel "
        "workbook. Set `type: csv`",
    ),
    Case(
        "pdf_named_xlsx",
        _raw(b"%PDF-1.4\n", "d.xlsx"),
        XLSX,
        error="data/d.xlsx: this file is not an Excel workbook: it is a PDF document",
    ),
    Case(
        "xlsx_named_csv_declared_gbk",
        _xlsx_as_csv,
        CSV + "  encoding: gbk\n",
        error="data/d.csv: this is not a CSV file: it is an Excel workbook (.xlsx)",
    ),
    Case(
        "bom_then_random_bytes",
        _raw(b"\xef\xbb\xbf" + _RANDOM),
        CSV,
        error="data/d.csv: this is not a CSV file: it is binary data, not text",
    ),
    Case(
        "latin1_bytes",
        _raw(_text().encode().replace("张三".encode(), b"Jos\xe9")),
        CSV,
        error="data/d.csv: cannot decode the file: the line starting at byte 40 is neither "
        "UTF-8 nor GBK",
    ),
    Case(
        "truncated_multibyte_at_end",
        _raw(_text().encode() + "赵六,110105194912310".encode() + "号".encode()[:2]),
        CSV,
        3,
        1,
    ),
]


def write_case(case: Case, root: Path) -> Path:
    """A tiny project for one case: collide.yaml, connectors/deaths.yaml and data/."""
    (root / "connectors").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "collide.yaml").write_text("name: corpus\n", encoding="utf-8")
    (root / "connectors" / "deaths.yaml").write_text(connector_yaml(case.source), encoding="utf-8")
    case.write(root / "data")
    return root


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "corpus")
    for c in CASES:
        write_case(c, out / c.name)
    print(f"{len(CASES)} cases written to {out}")
