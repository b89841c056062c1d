"""What every source shares: the `Source` interface, the raw-table shape, file discovery
(confined to the project folder and `data_dirs:`) and fingerprinting.

A source does two things. `prepare()` fingerprints the input (file SHA-256s; a database extract
is first staged to a local Parquet file and hashed) so the snapshot id is known before any row is
written. `tables()` then yields one `RawTable` per file or sheet: its headers and batches of raw
text cells, each row carrying the row number a person sees when opening the file. `headers()`
reads only the header of each file or sheet, cheaply, for `collide check`.

Raw batches have columns `__c0 … __c{n-1}` (Utf8, one per physical column), `__row` (Int64),
`__bad` (Utf8: why the row cannot be read, else null) and, for Excel ID columns, `__num{j}`
(Boolean: the cell was a number, so Excel has already dropped its last digits).
"""

from __future__ import annotations

import abc
import glob
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collide.config.catalog import Connector
from collide.errors import CollideError, Problem
from collide.ingest.headers import Header, alias_set, find_header

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
class HeaderInfo:
    """The header of one table as `collide check` reads it (no rows)."""

    file: str
    sheet: str | None
    names: list[str] | None  # None: could not be read (see `problem`)
    problem: Problem | None = None


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

    def __init__(
        self,
        conn: Connector,
        root: Path,
        workdir: Path,
        progress: Progress | None,
        data_dirs: list[str] | tuple[str, ...] = (),
    ):
        self.conn = conn
        self.spec = conn.spec.source
        self.root = root
        self.roots = allowed_roots(root, data_dirs)
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

    @abc.abstractmethod
    def headers(self) -> Iterator[HeaderInfo]:
        """Only the header of each table, read as cheaply as the format allows (for `check`)."""

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


class MissingFile(CollideError):
    """No file matches a connector's `path:` (yet): at `collide check`, only a warning."""


def allowed_roots(root: Path, data_dirs: list[str] | tuple[str, ...]) -> list[Path]:
    """The folders agency files may be read from: the project and its `data_dirs:`."""
    out = [Path(root).resolve()]
    for d in data_dirs:
        p = Path(os.path.expanduser(d))
        out.append((p if p.is_absolute() else Path(root) / p).resolve())
    return out


def _inside(real: Path, roots: list[Path]) -> bool:
    return any(real == r or real.is_relative_to(r) for r in roots)


def _glob_base(pattern: str) -> str:
    """The part of a path pattern before its first wildcard (the folder a glob starts in)."""
    parts = Path(pattern).parts
    keep: list[str] = []
    for part in parts:
        if glob.has_magic(part):
            break
        keep.append(part)
    return os.path.join(*keep) if keep else "."


class FileSource(Source):
    def find(self) -> list[Path]:
        """The files the connector's `path:` names, each checked to lie (links resolved) in
        the project folder or a `data_dirs:` folder: anything else is refused, never read."""
        found: list[Path] = []
        for i, pattern in enumerate(self.spec.paths):
            loc = ("path", i) if isinstance(self.spec.path, list) else ("path",)
            full = pattern if os.path.isabs(pattern) else str(self.root / pattern)
            base = Path(_glob_base(full)).resolve()
            if not _inside(base, self.roots):
                raise self._outside(pattern, base, loc)
            hits = sorted(Path(p) for p in glob.glob(full, recursive=True) if Path(p).is_file())
            if not hits:
                raise MissingFile(
                    self.problem(
                        f'no file matches "{pattern}" (looked in {self.root})',
                        "Check the path (relative to the project folder) or put the agency file "
                        "there",
                        *loc,
                    ).problems
                )
            for h in hits:
                real = h.resolve()
                if not _inside(real, self.roots):
                    raise self._outside(pattern, real, loc, link=h)
            found.extend(h for h in hits if h not in found)
        return found

    def _outside(
        self, pattern: str, real: Path, loc: tuple[Any, ...], link: Path | None = None
    ) -> CollideError:
        what = f'path "{pattern}"'
        if link is not None and link.absolute() != real:
            what += f" (through a link: {self.rel(link)} → {real})"
        else:
            what += f" ({real})"
        return self.problem(
            f"{what} is outside the project folder and the folders listed under `data_dirs:` "
            "in collide.yaml, so it is not read",
            "Copy the agency file into the project folder, or add the folder it lives in to "
            "`data_dirs:` in collide.yaml",
            *loc,
        )

    def prepare(self) -> list[FileInfo]:
        found = self.find()
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

    def unhashed(self) -> list[FileInfo]:
        """The files found, not fingerprinted (what `headers()` needs)."""
        self.files = [FileInfo(p, self.rel(p), "", p.stat().st_size) for p in self.find()]
        return self.files

    def rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


class Restart(Exception):
    """The fast reader failed after rows were written: read the table again another way."""

    def __init__(self, again: Callable[[], Iterator[pl.DataFrame]]):
        super().__init__("read again")
        self.again = again
