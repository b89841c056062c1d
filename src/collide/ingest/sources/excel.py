"""Excel workbooks (.xlsx/.xls): the only module of ingest that imports fastexcel, openpyxl or
xlrd (clues/reviews.py reads the reviewers' .xlsx on its own).

Each sheet is read once, by fastexcel (calamine, Rust), every cell as text. Only when an ID
column holds long digit strings that a float could have produced is the sheet read once more
(its XML in the .xlsx zip; xlrd for .xls), to ask which of those cells Excel stored as numbers
(digits lost).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from collide.errors import CollideError, Problem, did_you_mean
from collide.ingest.headers import SCAN_ROWS, Header, fold
from collide.ingest.sources.files import FileInfo, FileSource, HeaderInfo, RawTable


class ExcelSource(FileSource):
    """.xlsx/.xls via fastexcel (calamine, Rust); all cells read as text, numbers noted."""

    def tables(self) -> Iterator[RawTable]:
        for info in self.files:
            yield from self._workbook(info)

    def headers(self) -> Iterator[HeaderInfo]:
        """The header rows only: fastexcel reads the first `SCAN_ROWS` rows of each sheet."""
        for info in self.unhashed():
            try:
                self._not_empty(info)
                book = self._open(info)
                for sheet in self._sheets(book, info):
                    grid, offset = self._grid(book, info, sheet, SCAN_ROWS)
                    if grid.height == 0:
                        where = f"{info.display} [{sheet}]"
                        empty = Problem(where, None, "the sheet is empty", severity="warning")
                        yield HeaderInfo(info.display, sheet, None, empty)
                        continue
                    top = [list(r) for r in grid.iter_rows()]
                    where = f"{info.display} [{sheet}]"
                    yield HeaderInfo(info.display, sheet, self._header(top, where, offset).names)
            except CollideError as exc:
                yield HeaderInfo(info.display, None, None, exc.problems[0])

    def _open(self, info: FileInfo) -> Any:
        import fastexcel

        with info.path.open("rb") as f:
            head = f.read(4096)
        magic = head[:8]
        if not magic.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
            raise self._not_workbook(info, head)
        if info.path.suffix.lower() in (".xlsx", ".xlsm") and magic.startswith(b"\xd0\xcf\x11\xe0"):
            raise CollideError(
                Problem(
                    info.display,
                    None,
                    "the workbook is password-protected (encrypted), so it cannot be read",
                    "Ask the agency for a copy without a password, or open it in Excel/WPS, "
                    "remove the password and save it again",
                )
            )
        try:
            return fastexcel.read_excel(info.path)
        except Exception as exc:  # noqa: BLE001 - driver errors become one line
            raise self._damaged(info, exc, "open") from None

    @staticmethod
    def _not_workbook(info: FileInfo, head: bytes) -> CollideError:
        """Neither a zip (.xlsx) nor an OLE file (.xls): say what it is instead. Government
        systems often export a web page or a CSV under an .xls name."""
        from collide.ingest.sources.csv import NotText, detect_encoding

        text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if text.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"<meta", b"<head")):
            what = "a web page (an HTML table saved with an Excel name), not an Excel workbook"
            fix = "Open it in Excel/WPS and save it as .xlsx, or ask the agency for a real export"
        else:
            try:
                detect_encoding(head)
                what = "a text (CSV) file with an Excel name, not an Excel workbook"
                fix = "Set `type: csv` in the connector (and rename the file to .csv)"
            except NotText as kind:
                what = f"not an Excel workbook: it is {kind.what}"
                fix = kind.fix
        return CollideError(Problem(info.display, None, f"this file is {what}", fix))

    def _sheets(self, book: Any, info: FileInfo) -> list[str]:
        names: list[str] = list(book.sheet_names)
        want = self.spec.sheet
        if want is None:
            return names[:1]
        if want == "*":
            return names
        wanted = want if isinstance(want, list) else [want]
        out = []
        for w in wanted:
            if isinstance(w, int):
                if not 0 <= w < len(names):
                    raise self.problem(
                        f"sheet index {w} does not exist in {info.display} "
                        f"(it has {len(names)} sheets: {', '.join(names)})",
                        "Sheet indexes start at 0; or give the sheet name",
                        "sheet",
                    )
                out.append(names[w])
            elif w in names:
                out.append(w)
            else:
                raise self.problem(
                    f'sheet "{w}" not found in {info.display}. Sheets: {", ".join(names)}',
                    did_you_mean(str(w), names) or "Use one of the sheet names",
                    "sheet",
                )
        return out

    def _not_empty(self, info: FileInfo) -> None:
        if info.bytes == 0:
            raise CollideError(
                Problem(
                    info.display,
                    None,
                    "the Excel file is empty (0 bytes)",
                    "Ask the agency for the file again",
                )
            )

    def _workbook(self, info: FileInfo) -> Iterator[RawTable]:
        self._not_empty(info)
        book = self._open(info)
        for name in self._sheets(book, info):
            yield self._sheet(book, info, name)

    @staticmethod
    def _damaged(info: FileInfo, exc: BaseException, what: str = "read") -> CollideError:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return CollideError(
            Problem(
                info.display,
                None,
                f"cannot {what} the Excel file ({first[:120]})",
                "The file is damaged or not really an Excel workbook: open it in Excel/WPS "
                "and save it again as .xlsx, or ask the agency for a new copy",
            )
        )

    def _grid(self, book: Any, info: FileInfo, sheet: str, rows: int | None = None) -> Any:
        """The sheet as text cells (one open), without its leading blank rows, and the sheet
        row number of its first row (`skip_rows=0` keeps the blank rows calamine would drop)."""
        import polars as pl

        try:
            loaded = book.load_sheet(
                sheet, header_row=None, skip_rows=0, n_rows=rows, dtypes="string"
            )
            grid = pl.from_arrow(loaded.to_arrow())
        except Exception as exc:  # noqa: BLE001 - driver errors become one line
            raise self._damaged(info, exc) from None
        assert isinstance(grid, pl.DataFrame)
        filled = grid.select(
            pl.any_horizontal(pl.col(c).str.strip_chars().str.len_chars() > 0 for c in grid.columns)
            if grid.columns
            else pl.lit(False)
        ).to_series()
        first = filled.arg_true()
        if len(first) == 0:
            return grid.clear(), 1
        lead = int(first[0])
        return grid.slice(lead), lead + 1

    def _sheet(self, book: Any, info: FileInfo, sheet: str) -> RawTable:
        import polars as pl

        where = f"{info.display} [{sheet}]"
        notes: list[str] = []
        grid, offset = self._grid(book, info, sheet)
        if grid.height == 0:
            notes.append(f"{where}: sheet is empty")
            return RawTable(info.display, sheet, Header(0, []), iter(()), notes=notes)
        cols = grid.columns
        grid = grid.rename({c: f"__c{j}" for j, c in enumerate(cols)})
        top = [list(r) for r in grid.head(SCAN_ROWS).iter_rows()]
        header = self._header(top, where, offset)
        if header.notes and offset > 1:
            header.notes = [
                nt.replace(f"row {header.data_start}", f"row {header.data_start + offset - 1}")
                for nt in header.notes
            ]
        n = len(header.names)
        data = grid.slice(header.data_start).select(
            *(
                pl.col(f"__c{j}") if j < len(cols) else pl.lit(None, pl.String).alias(f"__c{j}")
                for j in range(n)
            ),
            (pl.int_range(pl.len(), dtype=pl.Int64) + header.data_start + offset).alias("__row"),
            pl.lit(None, pl.String).alias("__bad"),
        )
        data = self._excel_dates(book, sheet, cols, header, data, offset - 1, notes)
        flags = self._numeric_ids(header, data, min(n, len(cols)))
        if any(any(m) for m in flags.values()):
            # A text cell of digits reads the same as a number cell: ask the workbook which of
            # the suspects really are numbers (the one further pass, and only in this case).
            try:
                numbers = _numeric_cell_texts(info.path, sheet)
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
                # a part of the zip whose compressed data is damaged (zlib.error, EOFError)
                # is the same user problem as a damaged zip
                raise self._damaged(info, exc) from None
            flags = {
                j: [bool(m) and t in numbers for m, t in zip(mask, data[f"__c{j}"].to_list())]
                for j, mask in flags.items()
            }
        for j, mask in flags.items():
            data = data.with_columns(pl.Series(f"__num{j}", mask, dtype=pl.Boolean))
        return RawTable(
            info.display, sheet, header, iter([data]), notes=notes, numeric_flags=set(flags)
        )

    def _excel_dates(
        self,
        book: Any,
        sheet: str,
        cols: list[str],
        header: Header,
        data: Any,
        lead: int,
        notes: list[str],
    ) -> Any:
        """Numeric cells of date/datetime columns as the dates they stand for (Excel day
        numbers within `EXCEL_SERIAL_DATES`); text cells stay text (`79999` is no date).
        `lead`: blank sheet rows above the grid's first row."""
        import polars as pl

        from collide.standards.dates import EXCEL_SERIAL_DATES

        aliases = {
            fold(a)
            for c in self.conn.spec.columns.values()
            if c.type in ("date", "datetime")
            for a in c.from_
        }
        first, last = EXCEL_SERIAL_DATES
        for j, name in enumerate(header.names):
            if fold(name) not in aliases or j >= len(cols):
                continue
            # fastexcel converts number and date cells to datetimes, never text cells
            try:
                got = book.load_sheet(
                    sheet,
                    header_row=None,
                    skip_rows=0,
                    use_columns=[cols[j]],
                    dtypes={cols[j]: "datetime"},
                ).to_arrow_with_errors()[0]
            except BaseException as exc:  # noqa: BLE001 - the Rust reader panics on huge numbers
                if type(exc).__name__ != "PanicException":
                    raise
                notes.append(
                    f"column {name}: a number in it is too large for a date, so no cell of it "
                    "was read as an Excel date; its cells are read as text"
                )
                continue
            when = pl.Series(got.column(0)).cast(pl.Datetime("ms"))
            start = lead + header.data_start
            when = when.slice(start, data.height)
            when = when.extend_constant(None, max(0, data.height - len(when)))
            c = pl.col(f"__c{j}")
            number = c.str.contains(r"^-?[0-9]+(\.[0-9]+)?$") & pl.col(
                "__when"
            ).dt.date().is_between(first, last)
            data = (
                data.with_columns(when.alias("__when"))
                .with_columns(
                    pl.when(number)
                    .then(pl.col("__when").dt.strftime("%Y-%m-%d %H:%M:%S"))
                    .otherwise(c)
                    .alias(f"__c{j}")
                )
                .drop("__when")
            )
        return data

    def _numeric_ids(self, header: Header, data: Any, width: int) -> dict[int, Any]:
        """For ID columns: the cells that may be Excel numbers of 16+ digits (digits lost) —
        digit strings that a float prints exactly the same."""
        import polars as pl

        id_aliases = {
            fold(a)
            for c in self.conn.spec.columns.values()
            if c.type in ("cn_id", "cn_uscc")
            for a in c.from_
        }
        out: dict[int, Any] = {}
        for j, name in enumerate(header.names[:width]):
            if fold(name) not in id_aliases:
                continue
            text = data[f"__c{j}"]
            f = text.str.strip_chars().cast(pl.Float64, strict=False)
            whole = (f.abs() >= 1e15) & (f.abs() < 9e18)
            as_text = f.cast(pl.Int64, strict=False).cast(pl.String)
            out[j] = ((as_text == text).fill_null(False) & whole.fill_null(False)).to_list()
        return out


def _numeric_cell_texts(path: Path, sheet: str) -> set[str]:
    """Digits of every number cell of 15+ digits in a sheet (as Excel would have lost them)."""
    out: set[str] = set()

    def add(value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return
        if 1e15 <= abs(value) < 9e18:  # (also keeps out inf and NaN)
            out.add(str(int(value)))

    if path.suffix.lower() == ".xls":
        import xlrd

        try:
            book = xlrd.open_workbook(str(path), on_demand=True)
        except xlrd.XLRDError as exc:
            raise ValueError(str(exc)) from None
        try:
            ws = book.sheet_by_name(sheet)
            for r in range(ws.nrows):
                for c, kind in enumerate(ws.row_types(r)):
                    if kind == xlrd.XL_CELL_NUMBER:
                        add(ws.cell_value(r, c))
        finally:
            book.release_resources()
        return out
    for value in _xlsx_number_cells(path, sheet):
        add(value)
    return out


# A cell element of a sheet's XML (any namespace prefix): its attributes, an optional formula,
# then its value when that is written as a number of 16+ integer digits or with an exponent
# (the only ways to write a number of 1e15 or more). Shared-string indexes, dates, amounts and flags
# are shorter and never match, so the Python work is per long number, not per cell.
_P = rb"(?:[A-Za-z_][\w.-]*:)?"
_LONG_NUMBER_CELL = re.compile(
    rb"<" + _P + rb"c\b([^>]*)>"
    rb"(?:<" + _P + rb"f\b[^>]*/>|<" + _P + rb"f\b[^>]*>[^<]*</" + _P + rb"f>)?"
    rb"<" + _P + rb"v>\s*([-+]?(?:[0-9]{16,}(?:\.[0-9]*)?|[0-9]*\.?[0-9]+[eE][-+]?[0-9]+))\s*</"
)
_TYPE_ATTR = re.compile(rb"""(?:^|\s)t\s*=\s*["']([^"']*)["']""")
_CHUNK = 8 << 20


def _xlsx_number_cells(path: Path, sheet: str) -> Iterator[int | float]:
    """The values of a sheet's number cells of 1e15 or more, read from the sheet's XML in the
    zip (what openpyxl's reader makes of them — `int` for plain digits, `float` otherwise — in a
    regular-expression pass over the XML instead of one Python object per cell: 33.9 s → 3.2 s
    for a 13 MB workbook). A number cell is one without a type or with `t="n"`, whatever its
    display format (openpyxl turns a date-formatted one into a date)."""
    with zipfile.ZipFile(path) as z, z.open(_sheet_part(z, sheet)) as f:
        rest = b""
        while True:
            chunk = f.read(_CHUNK)
            buf = rest + chunk
            if chunk:  # cut after the last row tag: the cells before it are whole
                cut = buf.rfind(b"row>") + 4
                if cut < 4:  # no row boundary in this piece yet
                    rest = buf
                    continue
            else:
                cut = len(buf)
            for m in _LONG_NUMBER_CELL.finditer(buf, 0, cut):
                t = _TYPE_ATTR.search(m.group(1))
                if t is None or t.group(1) == b"n":
                    text = m.group(2).decode("ascii")
                    yield float(text) if "." in text or "e" in text.lower() else int(text)
            if not chunk:
                return
            rest = buf[cut:]


def _sheet_part(z: zipfile.ZipFile, sheet: str) -> str:
    """The zip member holding the sheet named `sheet`: the package's relationships name the
    workbook part, the workbook's name the sheet's (ECMA-376 part 2)."""
    import posixpath
    import xml.etree.ElementTree as ET

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    def xml(member: str) -> ET.Element:
        try:
            return ET.fromstring(z.read(member))
        except ET.ParseError as exc:
            raise ValueError(f"{member}: {exc}") from None

    def target(rels_of: str, match: Callable[[ET.Element], bool]) -> str | None:
        """The part a relationship of `rels_of` ("" for the package) points at."""
        folder, name = posixpath.split(rels_of)
        rels = xml(posixpath.join(folder, "_rels", f"{name}.rels"))
        for el in rels.iter():
            if local(el.tag) == "Relationship" and match(el):
                t = (el.get("Target") or "").replace("\\", "/")
                return (
                    t.lstrip("/")
                    if t.startswith("/")
                    else posixpath.normpath(posixpath.join(folder, t))
                )
        return None

    book_part = target("", lambda el: (el.get("Type") or "").endswith("/officeDocument"))
    if book_part is None:
        raise KeyError("no workbook in the package")
    rid = next(
        (
            next((v for k, v in el.attrib.items() if local(k) == "id"), None)
            for el in xml(book_part).iter()
            if local(el.tag) == "sheet" and el.get("name") == sheet
        ),
        None,
    )
    part = target(book_part, lambda el: el.get("Id") == rid) if rid else None
    if part is None:
        raise KeyError(f"sheet {sheet!r} not in the workbook")
    return part
