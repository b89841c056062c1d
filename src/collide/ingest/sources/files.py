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
import json
import os
import threading
import time
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

    # Where `prepare()` may remember file hashes between runs (set by ingest; None: no cache).
    hash_cache: Path | None = None

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

    def save_hashes(self) -> None:
        """Remember the fingerprints just computed (files only; databases have none)."""
        return None

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


# A file modified this recently may be written again within the same mtime tick: not cached.
RACY_SECONDS = 2.0


class HashCache:
    """SHA-256 of agency files keyed by resolved path, trusted while the file's size, mtime_ns
    and inode are unchanged (README "Caches": a file rewritten in place with the same size and
    the same modification time is not read again). A JSON file; unreadable means empty."""

    def __init__(self, path: Path | None):
        self.path = path
        self.entries: dict[str, list] = {}
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    self.entries = data
            except (OSError, ValueError):
                pass

    @staticmethod
    def stamp(path: Path) -> tuple[int, int, int]:
        st = os.stat(path)
        return st.st_size, st.st_mtime_ns, st.st_ino

    def get(self, path: Path, stamp: tuple[int, int, int]) -> str | None:
        hit = self.entries.get(str(path.resolve()))
        if isinstance(hit, list) and len(hit) == 4 and tuple(hit[:3]) == stamp:
            return str(hit[3])
        return None

    def save(self, known: list[tuple[Path, tuple[int, int, int], str]]) -> None:
        if self.path is None:
            return
        now_ns = time.time_ns()
        changed = False
        for path, stamp, digest in known:
            key = str(path.resolve())
            if now_ns - stamp[1] < RACY_SECONDS * 1e9:
                changed |= self.entries.pop(key, None) is not None
                continue
            entry = [*stamp, digest]
            if self.entries.get(key) != entry:
                self.entries[key] = entry
                changed = True
        if not changed:
            return
        try:
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self.entries, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # only speed is lost


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
        cache = HashCache(self.hash_cache)
        # stat before reading: a file changed while it is hashed has a newer stamp next time
        self._stamps = [HashCache.stamp(p) for p in found]
        sizes = [st[0] for st in self._stamps]
        known = [cache.get(p, st) for p, st in zip(found, self._stamps)]
        todo = [size for size, digest in zip(sizes, known) if digest is None]
        if sum(todo) < BACKGROUND_HASH_MIN:
            for path, digest in zip(found, known):
                disp = self.rel(path)
                if digest is None:
                    digest, _ = sha256_file(path, f"hashing {disp}", self.progress)
                self.files.append(FileInfo(path, disp, digest, self._stamps[len(self.files)][0]))
            return self.files
        jobs: list[tuple[Path, str, Future]] = []
        for path, size, digest in zip(found, sizes, known):
            if digest is None:
                fut: Future = Future()
                jobs.append((path, f"hashing {self.rel(path)}", fut))
            self.files.append(FileInfo(path, self.rel(path), digest or fut, size))
        threading.Thread(target=_hash_all, args=(jobs, self.progress), daemon=True).start()
        return self.files

    def save_hashes(self) -> None:
        stamps = getattr(self, "_stamps", None)
        if self.hash_cache is None or stamps is None or len(stamps) != len(self.files):
            return
        done = [
            (f.path, st, f.sha256)
            for f, st in zip(self.files, stamps)
            if f.hashed and not (isinstance(f.digest, Future) and f.digest.exception())
        ]
        HashCache(self.hash_cache).save(done)

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
