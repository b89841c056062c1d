"""Delimited text files: what the bytes are (encoding, or not text at all), streaming transcode
to UTF-8 with one kind of line end, polars' multithreaded reader with Python's csv module as the
fallback for files polars cannot parse.

Every agency file gets either rows or one clear message: a workbook or PDF named .csv, binary
zeros, random bytes, an encoding that cannot be told are each named, never a parser's error.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collide.errors import CollideError, Problem
from collide.ingest.headers import SCAN_ROWS, Header
from collide.ingest.sources.files import (
    CHUNK,
    FileInfo,
    FileSource,
    HeaderInfo,
    Progress,
    RawTable,
    Restart,
    _blank,
)

if TYPE_CHECKING:
    import polars as pl

HEAD_BYTES = 1 << 16  # what encoding detection, sniffing and the header search look at

BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]

# Files that are not text, by their first bytes: what they are, and what to do.
MAGIC: list[tuple[bytes, str, str]] = [
    (
        b"PK\x03\x04",
        "a zip archive",
        "Unpack it and point `path:` at the CSV inside",
    ),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an old Excel workbook (.xls) or another Office document",
        "Set `type: excel` and name the file .xls, or save it from Excel/WPS as CSV",
    ),
    (b"%PDF", "a PDF document", "Ask the agency for the data as CSV or Excel, not PDF"),
    (b"\x1f\x8b", "a gzip archive", "Unpack it and point `path:` at the file inside"),
    (b"Rar!", "a RAR archive", "Unpack it and point `path:` at the file inside"),
    (b"7z\xbc\xaf", "a 7-Zip archive", "Unpack it and point `path:` at the file inside"),
    (b"PAR1", "a Parquet file", "Set `type: parquet` in the connector"),
    (b"SQLite format 3\x00", "a SQLite database", "Ask the agency for a CSV export"),
]
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_LONE_CR = re.compile(rb"\r(?!\n)")


class NotText(Exception):
    """The bytes are not a text table: `what` it is and `fix`, in a data clerk's words."""

    def __init__(self, what: str, fix: str):
        super().__init__(what)
        self.what = what
        self.fix = fix


def _magic(head: bytes) -> NotText | None:
    for magic, what, fix in MAGIC:
        if head.startswith(magic):
            if magic == b"PK\x03\x04" and (b"xl/" in head or b"[Content_Types]" in head):
                if b"word/" in head:
                    return NotText(
                        "a Word document (.docx)", "Ask the agency for the data as CSV or Excel"
                    )
                return NotText(
                    "an Excel workbook (.xlsx) with a .csv name",
                    "Set `type: excel` in the connector and rename the file to .xlsx",
                )
            return NotText(what, fix)
    return None


def _wide_encoding(head: bytes) -> str | None:
    """UTF-32 or UTF-16 without a BOM, told by where the zero bytes fall (CSV text always has
    ASCII: delimiters, digits, line ends); None when the bytes do not say so clearly."""
    n = len(head) - len(head) % 4
    if n >= 8:
        q = n // 4
        zeros = [head[k:n:4].count(0) for k in range(4)]
        if zeros[2] == q and zeros[3] == q and zeros[0] < q:
            return _decodes(head[:n], "utf-32-le")
        if zeros[0] == q and zeros[1] == q and zeros[3] < q:
            return _decodes(head[:n], "utf-32-be")
    n = len(head) - len(head) % 2
    if n >= 4:
        half = n // 2
        even, odd = head[0:n:2].count(0), head[1:n:2].count(0)
        if odd >= half // 5 and even * 10 <= odd:
            return _decodes(head[:n], "utf-16-le")
        if even >= half // 5 and odd * 10 <= even:
            return _decodes(head[:n], "utf-16-be")
    return None


def _decodes(data: bytes, enc: str) -> str | None:
    try:
        text = codecs.getincrementaldecoder(enc)().decode(data, final=False)
    except UnicodeDecodeError:
        return None
    return enc if "\x00" not in text else None


def detect_encoding(head: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16/32 (BOM or not), else GB18030 (a superset of GBK and
    GB2312). Raises `NotText` for bytes that are no text table at all."""
    for bom, name in BOMS:
        if head.startswith(bom):
            if name == "utf-8-sig" and (kind := _magic(head[len(bom) :])) is not None:
                raise kind  # (a workbook behind a stray BOM)
            _check_text(head, name)
            return name
    if (kind := _magic(head)) is not None:
        raise kind
    if b"\x00" in head:
        wide = _wide_encoding(head)
        if wide is not None:
            return wide
        at = head.index(b"\x00")
        raise NotText(
            f"binary data, not text (a zero byte at byte {at})",
            "The file is damaged or not a CSV export: ask the agency to export it again as "
            "CSV (UTF-8 or GBK)",
        )
    enc = _text_encoding(head)
    _check_text(head, enc)
    return enc


def _check_text(head: bytes, enc: str) -> None:
    """Text tables hold almost no control characters (a zero byte included); random or binary
    bytes hold many, in whatever encoding they are read."""
    text = codecs.getincrementaldecoder(enc)(errors="replace").decode(head)
    controls = len(_CONTROL.findall(text))
    if controls > max(2, len(text) // 200):
        raise NotText(
            f"binary data, not text ({controls} control characters in the first {len(head)} bytes)",
            "The file is damaged or not a CSV export: ask the agency to export it again as "
            "CSV (UTF-8 or GBK)",
        )


def _text_encoding(head: bytes) -> str:
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
) -> tuple[int, int | None]:
    """Stream `src` in `encoding` to UTF-8 `dst`, chunk by chunk (never the whole file).

    A chunk that does not decode is decoded line by line, each line trying the declared encoding
    and then the other common one (agency files are sometimes concatenated from two exports).
    Returns (lines read with the fallback encoding, byte offset of the first undecodable line
    or None).
    A large file is split at newlines and its parts decoded in parallel processes
    (`_transcode.py`), then joined in order: the same bytes as one serial pass.
    """
    from collide.ingest._transcode import transcode_range

    primary = _codec(encoding) or "utf-8"
    fallback = "utf-8" if primary not in ("utf-8",) else "gb18030"
    wide = primary.startswith(("utf-16", "utf-32"))
    if wide:
        fallback = primary
    total = src.stat().st_size
    workers = min(os.cpu_count() or 1, 8)
    if total >= PARALLEL_MIN and workers > 1 and not wide:
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
) -> tuple[int, int | None]:
    import json
    import subprocess
    import sys

    script = str(Path(__file__).parent.parent / "_transcode.py")
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


def _records(reader: Any, info: FileInfo) -> Iterator[list[str]]:
    """The csv module's records; its one error on agency files (a quote opened and never
    closed swallows the rest of the file into one cell past the field size limit) is named."""
    last = 0  # the line the last good record ended on: the bad one starts right after it
    try:
        for rec in reader:
            last = reader.line_num
            yield rec
    except csv.Error:
        raise CollideError(
            Problem(
                info.display,
                None,
                f'a quote (") opened on line {last + 1} is never closed, so the rest of '
                "the file reads as one cell",
                "Open the file and remove the stray quote on that line (or close it), or ask the "
                "agency to export the file again",
            )
        ) from None


def unify_line_ends(src: Path, dst: Path, label: str, progress: Progress) -> None:
    """Copy UTF-8 `src` to `dst` with every line end a b"\\n" (old Mac files end lines with a
    bare CR, which polars' reader does not take). Byte-wise: in UTF-8 a CR is always a CR."""
    total = src.stat().st_size
    done = 0
    with src.open("rb") as fin, dst.open("wb") as fout:
        carry = b""
        while chunk := fin.read(CHUNK):
            done += len(chunk)
            data = carry + chunk
            carry = b""
            if data.endswith(b"\r"):  # its \n may start the next chunk
                data, carry = data[:-1], b"\r"
            fout.write(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
            progress(label, done, total)
        fout.write(carry.replace(b"\r", b"\n"))


class CsvSource(FileSource):
    """Delimited text: encoding detection, streaming transcode, polars' multithreaded reader.

    A file polars cannot parse (an unterminated quote, say) is read again with Python's csv
    module, which reads every row it can and lets the bad ones be rejected one by one.
    """

    def tables(self) -> Iterator[RawTable]:
        for info in self.files:
            yield self._table(info)

    def headers(self) -> Iterator[HeaderInfo]:
        for info in self.unhashed():
            try:
                with info.path.open("rb") as f:
                    head = f.read(HEAD_BYTES)
                enc = self._encoding(info, head)
                text = head.decode(enc, errors="replace")
                if len(head) == HEAD_BYTES and "\n" in text:
                    text = text[: text.rfind("\n") + 1]
                rows = self._rows(text.lstrip("\ufeff"))
            except CollideError as exc:
                yield HeaderInfo(info.display, None, None, exc.problems[0])
                continue
            if rows is None:
                yield HeaderInfo(
                    info.display,
                    None,
                    None,
                    Problem(info.display, None, "the file has no rows", severity="warning"),
                )
                continue
            yield HeaderInfo(info.display, None, self._header(rows, info.display).names)

    def _not_text(self, info: FileInfo, kind: NotText) -> CollideError:
        return CollideError(
            Problem(info.display, None, f"this is not a CSV file: it is {kind.what}", kind.fix)
        )

    def _encoding(self, info: FileInfo, head: bytes) -> str:
        if info.bytes == 0:
            raise CollideError(
                Problem(
                    info.display,
                    None,
                    "the file is empty (0 bytes)",
                    "Ask the agency for the file again: the export may have failed",
                )
            )
        declared = self.spec.encoding.lower()
        if declared == "auto":
            try:
                return detect_encoding(head)
            except NotText as kind:
                raise self._not_text(info, kind) from None
        if (kind := _magic(head)) is not None and not head.startswith(codecs.BOM_UTF8):
            raise self._not_text(info, kind)
        enc = _codec(declared)
        if enc is None:
            raise self.problem(
                f'unknown encoding "{self.spec.encoding}"',
                "Use auto, utf-8, gb18030, gbk, utf-16 or utf-32",
                "encoding",
            )
        if enc == "utf-8" and head.startswith(codecs.BOM_UTF8):
            enc = "utf-8-sig"
        self._check_declared(info, head, enc, declared)
        return enc

    def _rows(self, sample: str) -> list[list[str | None]] | None:
        delim = self.spec.delimiter or self._sniff(sample)
        try:
            rows = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delim))[:SCAN_ROWS]
        except csv.Error:  # (a NUL, say) read the header lines plainly
            rows = [ln.split(delim) for ln in sample.splitlines()[:SCAN_ROWS]]
        out = [[c if c != "" else None for c in r] for r in rows]
        if not any(any(not _blank(c) for c in r) for r in out):
            return None
        return out

    def _table(self, info: FileInfo) -> RawTable:
        notes: list[str] = []
        with info.path.open("rb") as f:
            head = f.read(HEAD_BYTES)
        enc = self._encoding(info, head)
        path = info.path
        if enc not in ("utf-8", "utf-8-sig"):
            path = self.workdir / f"transcoded-{len(list(self.workdir.glob('transcoded-*')))}.csv"
            odd, bad = transcode(info.path, path, enc, f"decoding {info.display}", self.progress)
            if odd:
                notes.append(f"{info.display}: {odd} lines were not {enc} and were read as UTF-8")
            self._check_bad(bad, info, enc)
        with path.open("rb") as f:
            utf8_head = f.read(HEAD_BYTES)
        if _LONE_CR.search(utf8_head[:-1]):
            unified = self.workdir / f"lines-{len(list(self.workdir.glob('lines-*')))}.csv"
            unify_line_ends(path, unified, f"reading {info.display}", self.progress)
            path = unified
        sample = self._sample(path)
        delim = self.spec.delimiter or self._sniff(sample)
        rows = self._rows(sample)
        if rows is None:
            raise CollideError(
                Problem(
                    info.display,
                    None,
                    "the file has no rows (only blank lines)",
                    "Ask the agency for the file again: the export may have failed",
                )
            )
        header = self._header(rows, info.display)
        batches = self._batches(path, info, header, delim, notes, enc)
        return RawTable(info.display, None, header, batches, notes=notes)

    def _check_bad(self, bad: int | None, info: FileInfo, enc: str) -> None:
        if bad is not None:
            raise CollideError(
                Problem(
                    info.display,
                    None,
                    "cannot decode the file: "
                    + (
                        f"the bytes from byte {bad} on are not {enc}"
                        if enc.startswith(("utf-16", "utf-32"))
                        else f"the line starting at byte {bad} is neither UTF-8 nor GBK"
                    )
                    + " (the file may be cut short or damaged)",
                    "Ask the agency to export it again as UTF-8 or GBK, "
                    f"or set `encoding:` in {self.conn.display}",
                )
            )

    def _check_declared(self, info: FileInfo, head: bytes, enc: str, declared: str) -> None:
        try:
            codecs.getincrementaldecoder(enc)().decode(head, final=False)
        except UnicodeDecodeError as exc:
            try:
                guess = detect_encoding(head)
            except NotText as kind:
                raise self._not_text(info, kind) from None
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
            # (the kind of error only: polars' message may quote the file)
            first = f"the fast reader stopped: {type(exc).__name__}"
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
                    notes.append(f"{info.display}: read row by row ({first})")
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
            for rec in _records(reader, info):
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
