"""Results derived from text that has not changed, kept across commands (README "Caches").

The static check of a model's SQL and score, and the columns a model reads, come from sqlglot
(half a second to import and parse on a busy machine), on every command that runs a model,
although the SQL changes only when someone edits it. Each result is stored under the SHA-256 of
everything it is derived from: the text and arguments, and the stamps (size, mtime_ns, inode) of
the code that derives it (collide's modules, sqlglot's and DuckDB's installed packages), so an
edit to any of them misses and derives afresh. Only clean verdicts are stored: SQL with a problem
is checked again each time, so its messages are always the checker's own.

The cache is `output/.cache/derived.json` of the project the facade loaded
(`collide.project.Project`); without one (a test calling the checker directly) results are kept
for the process only. Plain JSON, so reading it back runs no code; an unreadable or unwritable
file only costs speed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CACHE_FILE = Path("output") / ".cache" / "derived.json"
_VERSION = 1
_MAX_ENTRIES = 5000  # the oldest go first (every edit of a model's SQL adds one)

_path: Path | None = None
_entries: dict[str, Any] = {}
_loaded_from: Path | None = None
_stamps: dict[tuple[str, ...], str] = {}


def use_project(root: Path) -> None:
    """Keep results in `root`'s cache file from now on (the project the facade loaded)."""
    global _path
    _path = root / CACHE_FILE


def _load() -> None:
    global _loaded_from
    if _path is None or _loaded_from == _path:
        return
    _loaded_from = _path
    try:
        blob = json.loads(_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(blob, dict) and blob.get("version") == _VERSION:
        found = blob.get("entries")
        if isinstance(found, dict):
            _entries.update(found)


def _save() -> None:
    if _path is None:
        return
    while len(_entries) > _MAX_ENTRIES:
        del _entries[next(iter(_entries))]
    try:
        _path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _path.with_name(f".{_path.name}.{os.getpid()}.tmp")
        tmp.write_text(
            json.dumps({"version": _VERSION, "entries": _entries}, ensure_ascii=False),
            encoding="utf-8",
        )
        os.replace(tmp, _path)
    except OSError:
        pass


def code_stamp(files: Iterable[Path], packages: Iterable[str] = ()) -> str:
    """The stamps of the files (and of the installed `packages`, found without importing them)
    that a result is derived with; computed once per process."""
    files, packages = tuple(files), tuple(packages)
    key = (*map(str, files), "|", *packages)
    if key not in _stamps:
        parts = []
        for f in (*files, *(_origin(p) for p in packages)):
            try:
                st = os.stat(f)
                parts.append(f"{f}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}")
            except (OSError, TypeError):
                parts.append(f"{f}:missing")
        _stamps[key] = "\n".join(parts)
    return _stamps[key]


def _origin(package: str) -> str | None:
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None else None


def _key(kind: str, stamp: str, args: Any) -> str:
    text = json.dumps([kind, stamp, args], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def lookup(kind: str, stamp: str, args: Any) -> Any | None:
    """The value stored for `kind` derived with code `stamp` from `args` (plain JSON data), or
    None."""
    _load()
    return _entries.get(_key(kind, stamp, args))


def store(kind: str, stamp: str, args: Any, value: Any) -> None:
    """Remember `value` (plain JSON data, not None) for `lookup(kind, stamp, args)`."""
    _entries[_key(kind, stamp, args)] = value
    _save()
