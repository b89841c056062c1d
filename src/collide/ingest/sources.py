"""Sources: one small class per `source.type`, behind the `SOURCES` registry.

A source does two things. `prepare()` fingerprints the input (file SHA-256s; a database extract
is first staged to a local Parquet file and hashed) so the snapshot id is known before any row is
written. `tables()` then yields one `RawTable` per file or sheet: its headers and batches of raw
text cells, each row carrying the row number a person sees when opening the file.

Raw batches have columns `__c0 … __c{n-1}` (Utf8, one per physical column), `__row` (Int64),
`__bad` (Utf8: why the row cannot be read, else null) and, for Excel ID columns, `__num{j}`
(Boolean: the cell was a number, so Excel has already dropped its last digits).
"""

from __future__ import annotations

import abc
import codecs
import csv
import glob
import hashlib
import io
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collide.config.catalog import Connector
from collide.errors import CollideError, Problem, did_you_mean
from collide.ingest.headers import SCAN_ROWS, Header, alias_set, find_header

if TYPE_CHECKING:
    import polars as pl

Progress = Callable[[str, int, "int | None"], None]
CHUNK = 8 << 20  # bytes per read when hashing / transcoding
# Inputs at least this large are hashed in a background thread (hashlib releases the GIL) while
# they are transcoded, read and normalised; the snapshot id waits for the hash only where it is
# first needed (see `snapshot.ingest_dataset`).
BACKGROUND_HASH_MIN = 32 << 20


def _noop(label: str, done: int, total: int | None) -> None:
    pass


@dataclass
class RawTable:
    file: str  # project-relative path
    sheet: str | None
    header: Header
    batches: Iterator[pl.DataFrame]
    drop_totals: bool = True
    notes: list[str] = field(default_factory=list)
    numeric_flags: set[int] = field(default_factory=set)  # columns with __num{j}


@dataclass
class FileInfo:
    path: Path
    display: str
    digest: str | Future  # the SHA-256, or its future while a background thread hashes the file
    bytes: int

    @property
    def sha256(self) -> str:
        """The file's SHA-256 (waits for the background hash if it is still running)."""
        if isinstance(self.digest, Future):
            self.digest = self.digest.result()
        return self.digest

    @property
    def hashed(self) -> bool:
        return not isinstance(self.digest, Future) or self.digest.done()


class Source(abc.ABC):
    """Base class: a connector's source, prepared once per ingest."""

    def __init__(self, conn: Connector, root: Path, workdir: Path, progress: Progress | None):
        self.conn = conn
        self.spec = conn.spec.source
        self.root = root
        self.workdir = workdir
        self.progress = progress or _noop
        self.files: list[FileInfo] = []
        self.aliases = alias_set(conn)

    @abc.abstractmethod
    def prepare(self) -> list[FileInfo]:
        """Find the inputs and fingerprint them (files: SHA-256; databases: the rows)."""

    @abc.abstractmethod
    def tables(self) -> Iterator[RawTable]:
        """The raw text tables, with headers found and row numbers as a person counts them."""

    def problem(self, message: str, fix: str, *loc: Any) -> CollideError:
        line = self.conn.line("source", *loc) if loc else self.conn.line("source")
        return CollideError(Problem(self.conn.display, line, message, fix))

    def _header(self, rows: list[list[str | None]], where: str, offset: int = 1) -> Header:
        """The header row; `offset` is the sheet row of `rows[0]` (Excel skips blank top rows)."""
        at = None if self.spec.header_row is None else self.spec.header_row - offset + 1
        try:
            return find_header(rows, self.aliases, at, where)
        except IndexError:
            raise self.problem(
                f"header_row {self.spec.header_row} is past the end of {where}",
                "Fix header_row, or remove it to find the header automatically",
                "header_row",
            ) from None


# --------------------------------------------------------------------------- files


def sha256_file(path: Path, label: str, progress: Progress) -> tuple[str, int]:
    h = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            done += len(chunk)
            progress(label, done, total)
    return h.hexdigest(), total


def _hash_all(jobs: list[tuple[Path, str, Future]], progress: Progress) -> None:
    """Hash files one after another, each into its future (in a background thread)."""
    for k, (path, label, fut) in enumerate(jobs):
        try:
            fut.set_result(sha256_file(path, label, progress)[0])
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the hash
            fut.set_exception(exc)
            for _, _, rest in jobs[k + 1 :]:
                rest.set_exception(exc)
            return


class FileSource(Source):
    def prepare(self) -> list[FileInfo]:
        found: list[Path] = []
        for i, pattern in enumerate(self.spec.paths):
            full = pattern if os.path.isabs(pattern) else str(self.root / pattern)
            hits = sorted(Path(p) for p in glob.glob(full, recursive=True) if Path(p).is_file())
            if not hits:
                loc = ("path", i) if isinstance(self.spec.path, list) else ("path",)
                raise self.problem(
                    f'no file matches "{pattern}" (looked in {self.root})',
                    "Check the path (relative to the project folder) or put the agency file there",
                    *loc,
                )
            found.extend(h for h in hits if h not in found)
        sizes = [p.stat().st_size for p in found]
        if sum(sizes) < BACKGROUND_HASH_MIN:
            for path in found:
                disp = self.rel(path)
                digest, size = sha256_file(path, f"hashing {disp}", self.progress)
                self.files.append(FileInfo(path, disp, digest, size))
            return self.files
        futures: list[Future] = []
        for path, size in zip(found, sizes):
            futures.append(Future())
            self.files.append(FileInfo(path, self.rel(path), futures[-1], size))
        jobs = [(f.path, f"hashing {f.display}", fut) for f, fut in zip(self.files, futures)]
        threading.Thread(target=_hash_all, args=(jobs, self.progress), daemon=True).start()
        return self.files

    def rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


# --------------------------------------------------------------------------- CSV

BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


def detect_encoding(head: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 with BOM, else GB18030 (a superset of GBK and GB2312)."""
    for bom, name in BOMS:
        if head.startswith(bom):
            return name
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # Not all UTF-8. GBK text almost never decodes as UTF-8, so if most non-ASCII lines do,
    # the file is UTF-8 with a few pasted-in GBK lines (handled line by line when decoding).
    utf8 = other = 0
    for line in head.splitlines()[:-1] or head.splitlines():
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8 += 1
        except UnicodeDecodeError:
            other += 1
    if utf8 > other:
        return "utf-8"
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        return "utf-8"


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


PARALLEL_MIN = 64 << 20  # bytes: a larger file is transcoded by several processes at once


def transcode(
    src: Path, dst: Path, encoding: str, label: str, progress: Progress
) -> tuple[int, str | None]:
    """Stream `src` in `encoding` to UTF-8 `dst`, chunk by chunk (never the whole file).

    A chunk that does not decode is decoded line by line, each line trying the declared encoding
    and then the other common one (agency files are sometimes concatenated from two exports).
    Returns (lines read with the fallback encoding, first undecodable line's excerpt or None).
    A large file is split at newlines and its parts decoded in parallel processes
    (`_transcode.py`), then joined in order: the same bytes as one serial pass.
    """
    from collide.ingest._transcode import transcode_range

    primary = _codec(encoding) or "utf-8"
    fallback = "utf-8" if primary not in ("utf-8",) else "gb18030"
    if primary.startswith("utf-16"):
        fallback = primary
    total = src.stat().st_size
    workers = min(os.cpu_count() or 1, 8)
    if total >= PARALLEL_MIN and workers > 1 and not primary.startswith("utf-16"):
        try:
            return _transcode_parallel(src, dst, primary, fallback, total, workers, label, progress)
        except (_WorkerFailed, OSError):
            pass  # e.g. no way to start a process: the serial pass below (same result)
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        progress(label, done, total)

    return transcode_range(str(src), 0, total, str(dst), primary, fallback, step)


class _WorkerFailed(Exception):
    pass


def _line_starts(src: Path, total: int, parts: int) -> list[int]:
    """Offsets that split `src` into about `parts` ranges, each just after a b"\\n"."""
    cuts = [0]
    with src.open("rb") as f:
        for k in range(1, parts):
            at = max(total * k // parts, cuts[-1])
            f.seek(at)
            while True:
                block = f.read(1 << 20)
                if not block:
                    at = total
                    break
                i = block.find(b"\n")
                if i >= 0:
                    at += i + 1
                    break
                at += len(block)
            if at < total and at > cuts[-1]:
                cuts.append(at)
    return cuts + [total]


def _transcode_parallel(
    src: Path,
    dst: Path,
    primary: str,
    fallback: str,
    total: int,
    workers: int,
    label: str,
    progress: Progress,
) -> tuple[int, str | None]:
    import json
    import subprocess
    import sys

    script = str(Path(__file__).with_name("_transcode.py"))
    cuts = _line_starts(src, total, workers)
    parts = [dst.with_name(f"{dst.name}.part{k}") for k in range(len(cuts) - 1)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-S",
                script,
                str(src),
                str(a),
                str(b),
                str(p),
                primary,
                fallback,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for a, b, p in zip(cuts, cuts[1:], parts)
    ]
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate()
            if proc.returncode != 0:
                raise _WorkerFailed(err.decode("utf-8", "replace"))
            try:
                results.append(json.loads(out))
            except ValueError:
                raise _WorkerFailed(out.decode("utf-8", "replace")) from None
        odd = sum(r[0] for r in results)
        bad = next((r[1] for r in results if r[1] is not None), None)
        with dst.open("wb") as fout:
            done = 0
            for (a, b), p in zip(zip(cuts, cuts[1:]), parts):
                with p.open("rb") as fin:
                    _copy(fin, fout)
                p.unlink()
                done += b - a
                progress(label, done, total)
        return odd, bad
    except BaseException:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        raise
    finally:
        for p in parts:
            p.unlink(missing_ok=True)


def _copy(fin: Any, fout: Any) -> None:
    """Append one open file to another (in the kernel where it can)."""
    try:
        while os.copy_file_range(fin.fileno(), fout.fileno(), 1 << 30):
            pass
    except (AttributeError, OSError):
        import shutil

        shutil.copyfileobj(fin, fout, CHUNK)
        fout.flush()


class CsvSource(FileSource):
    """Delimited text: encoding detection, streaming transcode, polars' multithreaded reader.

    A file polars cannot parse (an unterminated quote, say) is read again with Python's csv
    module, which reads every row it can and lets the bad ones be rejected one by one.
    """

    def tables(self) -> Iterator[RawTable]:
        for info in self.files:
            yield self._table(info)

    def _table(self, info: FileInfo) -> RawTable:
        notes: list[str] = []
        if info.bytes == 0:
            notes.append(f"{info.display}: file is empty")
            return RawTable(info.display, None, Header(0, []), iter(()), notes=notes)
        with info.path.open("rb") as f:
            head = f.read(1 << 16)
        declared = self.spec.encoding.lower()
        if declared == "auto":
            enc = detect_encoding(head)
        else:
            enc = _codec(declared)
            if enc is None:
                raise self.problem(
                    f'unknown encoding "{self.spec.encoding}"',
                    "Use auto, utf-8, gb18030, gbk or utf-16",
                    "encoding",
                )
            if enc == "utf-8" and head.startswith(codecs.BOM_UTF8):
                enc = "utf-8-sig"
            self._check_declared(info, head, enc, declared)
        path = info.path
        if enc not in ("utf-8", "utf-8-sig"):
            path = self.workdir / f"transcoded-{len(list(self.workdir.glob('transcoded-*')))}.csv"
            odd, bad = transcode(info.path, path, enc, f"decoding {info.display}", self.progress)
            if odd:
                notes.append(f"{info.display}: {odd} lines were not {enc} and were read as UTF-8")
            self._check_bad(bad, info, enc)
        sample = self._sample(path)
        delim = self.spec.delimiter or self._sniff(sample)
        rows = list(csv.reader(io.StringIO(sample), delimiter=delim))[:SCAN_ROWS]
        rows = [[c if c != "" else None for c in r] for r in rows]
        if not any(any(not _blank(c) for c in r) for r in rows):
            notes.append(f"{info.display}: file has no header and no rows")
            return RawTable(info.display, None, Header(0, []), iter(()), notes=notes)
        header = self._header(rows, info.display)
        batches = self._batches(path, info, header, delim, notes, enc)
        return RawTable(info.display, None, header, batches, notes=notes)

    def _check_bad(self, bad: str | None, info: FileInfo, enc: str) -> None:
        if bad is not None:
            raise CollideError(
                Problem(
                    info.display,
                    None,
                    f'cannot decode the file as {enc} (for example the line "{bad}")',
                    "Ask the agency to export it again as UTF-8 or GBK, "
                    f"or set `encoding:` in {self.conn.display}",
                )
            )

    def _check_declared(self, info: FileInfo, head: bytes, enc: str, declared: str) -> None:
        try:
            codecs.getincrementaldecoder(enc)().decode(head, final=False)
        except UnicodeDecodeError as exc:
            guess = detect_encoding(head)
            raise CollideError(
                Problem(
                    self.conn.display,
                    self.conn.line("source", "encoding"),
                    f"{info.display} is not {declared}: byte {exc.start} cannot be decoded "
                    f"(it looks like {guess})",
                    f"Set `encoding: auto` (or {guess})",
                )
            ) from None

    @staticmethod
    def _sample(path: Path) -> str:
        with path.open("rb") as f:
            raw = f.read(1 << 16)
        text = raw.decode("utf-8", errors="replace")
        if len(raw) == 1 << 16 and "\n" in text:
            text = text[: text.rfind("\n") + 1]
        return text.lstrip("\ufeff")

    @staticmethod
    def _sniff(sample: str) -> str:
        lines = [ln for ln in sample.splitlines() if ln.strip()][:SCAN_ROWS]
        best, best_score = ",", -1
        for d in (",", "\t", ";", "|"):
            counts = [ln.count(d) for ln in lines]
            if not counts or max(counts) == 0:
                continue
            # the delimiter that splits most lines into the most common field count
            common = max(set(counts), key=counts.count)
            score = counts.count(common) * 1000 + common
            if common > 0 and score > best_score:
                best, best_score = d, score
        return best

    def _batches(
        self, path: Path, info: FileInfo, header: Header, delim: str, notes: list[str], enc: str
    ) -> Iterator[pl.DataFrame]:
        import polars as pl

        n = len(header.names)
        schema = {f"__c{j}": pl.String for j in range(n)} | {"__extra": pl.String}
        lf = pl.scan_csv(
            path,
            has_header=False,
            separator=delim,
            skip_rows=header.data_start,
            schema=schema,
            infer_schema=False,
            truncate_ragged_lines=True,
            missing_columns="insert",
            row_index_name="__idx",
            raise_if_empty=False,
        )
        first_row = header.data_start + 1
        lf = lf.select(
            *(pl.col(f"__c{j}") for j in range(n)),
            (pl.col("__idx").cast(pl.Int64) + first_row).alias("__row"),
            pl.when(pl.col("__extra").is_not_null())
            .then(pl.lit(f"row has more fields than the {n} header columns"))
            .alias("__bad"),
        )
        done = 0
        try:
            for df in lf.collect_batches(chunk_size=self.spec.batch_rows):
                done += df.height
                self.progress(f"reading {info.display}", done, None)
                yield df
        except pl.exceptions.PolarsError as exc:
            first = str(exc).strip().splitlines()[0]
            if enc in ("utf-8", "utf-8-sig") and "utf" in str(exc).lower():
                # not all UTF-8 after all (two exports pasted together): decode line by line
                def again() -> Iterator[pl.DataFrame]:
                    fixed = self.workdir / f"transcoded-{info.sha256[:12]}.csv"
                    odd, bad = transcode(
                        path, fixed, "utf-8", f"decoding {info.display}", self.progress
                    )
                    notes.append(
                        f"{info.display}: {odd} lines were not UTF-8 and were read as GB18030"
                    )
                    self._check_bad(bad, info, "utf-8")
                    return self._batches(fixed, info, header, delim, notes, "transcoded")
            else:

                def again() -> Iterator[pl.DataFrame]:
                    notes.append(f"{info.display}: read row by row (fast reader: {first})")
                    return self._python_batches(path, info, header, delim)

            if done:
                raise Restart(again) from None
            yield from again()

    def _python_batches(
        self, path: Path, info: FileInfo, header: Header, delim: str
    ) -> Iterator[pl.DataFrame]:
        import polars as pl

        n = len(header.names)
        cols: list[list[str | None]] = [[] for _ in range(n)]
        rows: list[int] = []
        bad: list[str | None] = []

        def flush() -> pl.DataFrame:
            data: dict[str, Any] = {
                f"__c{j}": pl.Series(cols[j], dtype=pl.String) for j in range(n)
            }
            data["__row"] = pl.Series(rows, dtype=pl.Int64)
            data["__bad"] = pl.Series(bad, dtype=pl.String)
            for c in cols:
                c.clear()
            rows.clear()
            bad.clear()
            return pl.DataFrame(data)

        with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as f:
            reader = csv.reader(f, delimiter=delim, strict=False)
            record = 0
            for rec in reader:
                record += 1
                if record <= header.data_start:
                    continue
                bad.append(
                    f"row has {len(rec)} fields, the header has {n}" if len(rec) > n else None
                )
                for j in range(n):
                    v = rec[j] if j < len(rec) else None
                    cols[j].append(None if v == "" else v)
                rows.append(record)
                if len(rows) >= self.spec.batch_rows:
                    yield flush()
            if rows:
                yield flush()
        self.progress(f"reading {info.display}", record, None)


class Restart(Exception):
    """The fast reader failed after rows were written: read the table again another way."""

    def __init__(self, again: Callable[[], Iterator[pl.DataFrame]]):
        super().__init__("read again")
        self.again = again


# --------------------------------------------------------------------------- Excel


class ExcelSource(FileSource):
    """.xlsx/.xls via fastexcel (calamine, Rust); all cells read as text, numbers noted."""

    def tables(self) -> Iterator[RawTable]:
        for info in self.files:
            yield from self._workbook(info)

    def _open(self, info: FileInfo) -> Any:
        import fastexcel

        with info.path.open("rb") as f:
            magic = f.read(8)
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
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CollideError(
                Problem(
                    info.display,
                    None,
                    f"cannot open the Excel file ({first})",
                    "The file is damaged or not really an Excel workbook: open it in Excel/WPS "
                    "and save it again as .xlsx, or ask the agency for a new copy",
                )
            ) from None

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

    def _workbook(self, info: FileInfo) -> Iterator[RawTable]:
        if info.bytes == 0:
            raise CollideError(
                Problem(
                    info.display,
                    None,
                    "the Excel file is empty (0 bytes)",
                    "Ask the agency for the file again",
                )
            )
        book = self._open(info)
        for name in self._sheets(book, info):
            yield self._sheet(book, info, name)

    def _first_row(self, info: FileInfo, sheet: str) -> int:
        """1-based row of the first non-empty cell: calamine drops leading empty rows."""
        suffix = info.path.suffix.lower()
        try:
            if suffix == ".xls":
                import xlrd

                book = xlrd.open_workbook(str(info.path), on_demand=True)
                ws = book.sheet_by_name(sheet)
                for r in range(ws.nrows):
                    if any(not _blank(v) for v in ws.row_values(r)):
                        return r + 1
                return 1
            import openpyxl

            wb = openpyxl.load_workbook(info.path, read_only=True, data_only=True)
            try:
                ws = wb[sheet]
                for r, row in enumerate(ws.iter_rows(values_only=True), start=1):
                    if any(not _blank(v) for v in row):
                        return r
            finally:
                wb.close()
        except Exception:  # noqa: BLE001 - driver errors become one line
            return 1
        return 1

    def _sheet(self, book: Any, info: FileInfo, sheet: str) -> RawTable:
        import polars as pl

        where = f"{info.display} [{sheet}]"
        notes: list[str] = []
        grid = pl.from_arrow(book.load_sheet(sheet, header_row=None, dtypes="string").to_arrow())
        assert isinstance(grid, pl.DataFrame)
        if grid.height == 0:
            notes.append(f"{where}: sheet is empty")
            return RawTable(info.display, sheet, Header(0, []), iter(()), notes=notes)
        offset = self._first_row(info, sheet)
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
        data = self._excel_dates(book, sheet, cols, header, data)
        data_text = [data[f"__c{j}"] for j in range(n)]
        flags = self._numeric_ids(book, sheet, cols, header, data.height, data_text)
        if any(any(m) for m in flags.values()):
            # fastexcel reads a text cell holding an exactly representable 18-digit number the
            # same way as a number cell; ask the workbook which cells really are numbers.
            numbers = _numeric_cell_texts(info.path, sheet)
            flags = {
                j: [bool(m) and t in numbers for m, t in zip(mask, data_text[j].to_list())]
                for j, mask in flags.items()
            }
        for j, mask in flags.items():
            data = data.with_columns(pl.Series(f"__num{j}", mask, dtype=pl.Boolean))
        return RawTable(
            info.display, sheet, header, iter([data]), notes=notes, numeric_flags=set(flags)
        )

    def _excel_dates(
        self, book: Any, sheet: str, cols: list[str], header: Header, data: Any
    ) -> Any:
        """Numeric cells of date/datetime columns as the dates they stand for (Excel day
        numbers within `EXCEL_SERIAL_DATES`); text cells stay text (`79999` is no date)."""
        import polars as pl

        from collide.ingest.headers import fold
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
            got = book.load_sheet(
                sheet, header_row=None, use_columns=[cols[j]], dtypes={cols[j]: "datetime"}
            ).to_arrow_with_errors()[0]
            when = pl.Series(got.column(0)).cast(pl.Datetime("ms"))
            when = when.slice(header.data_start, data.height).extend_constant(
                None, max(0, data.height - max(0, len(when) - header.data_start))
            )
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

    def _numeric_ids(
        self,
        book: Any,
        sheet: str,
        cols: list[str],
        header: Header,
        height: int,
        data_text: list[Any],
    ) -> dict[int, Any]:
        """For ID columns: which cells Excel stored as numbers of 16+ digits (digits lost)."""
        from collide.ingest.headers import fold

        id_aliases = {
            fold(a)
            for c in self.conn.spec.columns.values()
            if c.type in ("cn_id", "cn_uscc")
            for a in c.from_
        }
        out: dict[int, Any] = {}
        for j, name in enumerate(header.names):
            if fold(name) not in id_aliases or j >= len(cols):
                continue
            sheet_obj = book.load_sheet(
                sheet, header_row=None, use_columns=[cols[j]], dtypes={cols[j]: "float"}
            )
            table, _errors = sheet_obj.to_arrow_with_errors()
            import polars as pl

            # Text that looks numeric is coerced to a float too; a real number cell is the one
            # whose text is exactly that float written out in full.
            f = pl.from_arrow(table.column(0)).slice(header.data_start, height)
            text = data_text[j] if j < len(data_text) else None
            whole = (f.abs() >= 1e15) & (f.abs() < 9e18)
            as_text = f.cast(pl.Int64, strict=False).cast(pl.String)
            out[j] = ((as_text == text).fill_null(False) & whole.fill_null(False)).to_list()
        return out


def _numeric_cell_texts(path: Path, sheet: str) -> set[str]:
    """Digits of every number cell of 15+ digits in a sheet (as Excel would have lost them)."""
    out: set[str] = set()

    def add(value: Any) -> None:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= 1e15:
            out.add(str(int(value)))

    if path.suffix.lower() == ".xls":
        import xlrd

        book = xlrd.open_workbook(str(path), on_demand=True)
        try:
            ws = book.sheet_by_name(sheet)
            for r in range(ws.nrows):
                for c, kind in enumerate(ws.row_types(r)):
                    if kind == xlrd.XL_CELL_NUMBER:
                        add(ws.cell_value(r, c))
        finally:
            book.release_resources()
        return out
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for row in wb[sheet].iter_rows():
            for cell in row:
                if getattr(cell, "data_type", None) == "n":
                    add(cell.value)
    finally:
        wb.close()
    return out


# --------------------------------------------------------------------------- Parquet


class ParquetSource(FileSource):
    """Parquet files: columns are headers, every value is read as text like any other source."""

    def tables(self) -> Iterator[RawTable]:
        import polars as pl

        for info in self.files:
            try:
                lf = pl.scan_parquet(info.path)
                names = lf.collect_schema().names()
            except Exception as exc:  # noqa: BLE001 - driver errors become one line
                raise CollideError(
                    Problem(
                        info.display,
                        None,
                        f"cannot read the Parquet file ({exc})",
                        "Check that the file is complete; write it again",
                    )
                ) from None
            yield _columnar_table(
                info.display, None, lf, names, self.spec.batch_rows, self.progress
            )


def _columnar_table(
    display: str,
    sheet: str | None,
    lf: Any,
    names: list[str],
    batch_rows: int,
    progress: Progress,
) -> RawTable:
    import polars as pl

    notes: list[str] = []
    header = Header(0, [])
    from collide.ingest.headers import _disambiguate

    header.names = _disambiguate([str(n) for n in names], display, notes)
    lf = lf.select(
        *(pl.col(c).alias(f"__c{j}") for j, c in enumerate(names)),
        pl.lit(None, pl.String).alias("__bad"),
    ).with_row_index("__idx")

    def batches() -> Iterator[pl.DataFrame]:
        done = 0
        for df in lf.collect_batches(chunk_size=batch_rows):
            df = df.select(
                *(
                    pl.col(f"__c{j}").cast(pl.String)
                    if df.schema[f"__c{j}"] != pl.String
                    else pl.col(f"__c{j}")
                    for j in range(len(names))
                ),
                (pl.col("__idx").cast(pl.Int64) + 1).alias("__row"),
                pl.col("__bad"),
            )
            done += df.height
            progress(f"reading {display}", done, None)
            yield df

    return RawTable(display, sheet, header, batches(), drop_totals=False, notes=notes)


# --------------------------------------------------------------------------- databases


class DatabaseSource(Source):
    """A table or query read in Arrow batches, staged to Parquet so it can be hashed first."""

    kind = ""

    def dsn(self) -> str:
        name = self.spec.dsn_env or ""
        value = os.environ.get(name)
        if not value:
            raise self.problem(
                f"environment variable {name} is not set (it should hold the {self.kind} "
                "connection string)",
                f"Set it before running, e.g. export {name}="
                + (
                    "postgresql://user@host:5432/db"
                    if self.kind == "postgres"
                    else "mysql://user:password@host:3306/db"
                ),
                "dsn_env",
            )
        return value

    def query(self) -> str:
        if self.spec.query:
            return self.spec.query
        table = self.spec.table or ""
        q = "`" if self.kind == "mysql" else '"'
        return "SELECT * FROM " + ".".join(q + p.replace(q, q + q) + q for p in table.split("."))

    @property
    def display(self) -> str:
        return f"{self.kind}:{self.spec.table}" if self.spec.table else f"{self.kind}:query"

    def prepare(self) -> list[FileInfo]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        staged = self.workdir / "staged.parquet"
        h = hashlib.sha256()
        writer = None
        rows = 0
        try:
            for batch in self.record_batches():
                batch = _plain_types(batch)
                if writer is None:
                    writer = pq.ParquetWriter(staged, batch.schema, compression="zstd")
                    h.update(batch.schema.serialize().to_pybytes())
                if batch.num_rows == 0:
                    continue
                sink = pa.BufferOutputStream()
                with pa.ipc.new_stream(sink, batch.schema) as w:
                    w.write_batch(batch)
                h.update(sink.getvalue().to_pybytes())
                writer.write_batch(batch)
                rows += batch.num_rows
                self.progress(f"reading {self.display}", rows, None)
        finally:
            if writer is not None:
                writer.close()
        if writer is None:  # no batch at all: an empty result with no schema
            pq.write_table(pa.table({}), staged)
        self.staged = staged
        self.files = [FileInfo(staged, self.display, h.hexdigest(), staged.stat().st_size)]
        return self.files

    @abc.abstractmethod
    def record_batches(self) -> Iterator[Any]:
        """The query's rows as Arrow record batches, read by the database driver."""

    def tables(self) -> Iterator[RawTable]:
        import polars as pl

        lf = pl.scan_parquet(self.staged)
        names = lf.collect_schema().names()
        yield _columnar_table(self.display, None, lf, names, self.spec.batch_rows, self.progress)

    def fail(self, exc: Exception) -> CollideError:
        text = " ".join(str(exc).split())
        low = text.lower()
        loc: tuple[str, ...] = ("table",) if self.spec.table else ("query",)
        if (
            "password" in low
            or "authentication" in low
            or "access denied" in low
            or ("role" in low and "does not exist" in low)
        ):
            msg = f"{self.kind} refused the login ({_short(text)})"
            fix = f"Check the user and password in the environment variable {self.spec.dsn_env}"
            loc = ("dsn_env",)
        elif ("does not exist" in low or "doesn't exist" in low) and self.spec.table:
            msg = f'table "{self.spec.table}" does not exist in the {self.kind} database'
            fix = "Check the table name (and schema) with the agency's DBA"
        elif "connection refused" in low or "could not connect" in low or "can't connect" in low:
            msg = f"cannot connect to the {self.kind} server ({_short(text)})"
            fix = f"Check host and port in {self.spec.dsn_env} and that the server is running"
            loc = ("dsn_env",)
        else:
            msg = f"{self.kind} query failed: {_short(text)}"
            fix = "Check the table/query and the connection string"
        return self.problem(msg, fix, *loc)


def _plain_types(batch: Any) -> Any:
    """Extension types (PostgreSQL numeric arrives as arrow.opaque) → their plain storage."""
    import pyarrow as pa

    if not any(isinstance(f.type, pa.BaseExtensionType) for f in batch.schema):
        return batch
    arrays = [c.storage if isinstance(c.type, pa.BaseExtensionType) else c for c in batch.columns]
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class PostgresSource(DatabaseSource):
    """PostgreSQL through ADBC (libpq, Arrow-native COPY): batches, never row by row."""

    kind = "postgres"

    def record_batches(self) -> Iterator[Any]:
        import adbc_driver_postgresql.dbapi as pg

        dsn = self.dsn()
        if dsn.startswith("postgres+"):
            dsn = "postgresql" + dsn[dsn.index("://") :]
        try:
            conn = pg.connect(dsn)
        except Exception as exc:  # noqa: BLE001 - driver errors become one line
            raise self.fail(exc) from None
        try:
            cur = conn.cursor()
            try:
                cur.execute(self.query())
                reader = cur.fetch_record_batch()
            except Exception as exc:  # noqa: BLE001 - driver errors become one line
                raise self.fail(exc) from None
            yield from reader
        finally:
            conn.close()


class MysqlSource(DatabaseSource):
    """MySQL/MariaDB through connectorx (Rust) as an Arrow stream."""

    kind = "mysql"

    def record_batches(self) -> Iterator[Any]:
        import connectorx as cx

        dsn = self.dsn()
        self._check_login(dsn)
        try:
            reader = cx.read_sql(
                dsn, self.query(), return_type="arrow_stream", batch_size=self.spec.batch_rows
            )
        except Exception as exc:  # noqa: BLE001 - driver errors become one line
            raise self.fail(exc) from None
        try:
            yield from reader
        except Exception as exc:  # noqa: BLE001 - driver errors become one line
            raise self.fail(exc) from None

    def _check_login(self, dsn: str) -> None:
        """connectorx retries a refused login for 30 s; pymysql says no at once."""
        from urllib.parse import unquote, urlsplit

        import pymysql

        u = urlsplit(dsn)
        try:
            con = pymysql.connect(
                host=u.hostname or "localhost",
                port=u.port or 3306,
                user=unquote(u.username or ""),
                password=unquote(u.password or ""),
                database=(u.path or "/").lstrip("/") or None,
                connect_timeout=10,
            )
        except Exception as exc:  # noqa: BLE001 - every driver error becomes one line
            raise self.fail(exc) from None
        con.close()


SOURCES: dict[str, type[Source]] = {
    "csv": CsvSource,
    "excel": ExcelSource,
    "parquet": ParquetSource,
    "postgres": PostgresSource,
    "mysql": MysqlSource,
}
