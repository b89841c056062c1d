"""分流: one hit list per 条线 or per 承办人, cut from the run's clues.csv (the same cells, the
same neutralising), so each line or prosecutor gets exactly their rows of the ranked list."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from collide.errors import CollideError, Problem

COLUMN = {"line": "条线", "assignee": "承办人"}
EMPTY = {"line": "未分流", "assignee": "未分配"}
_UNSAFE = re.compile(r"[^\w·]+")


def _file_stem(value: str, taken: set[str]) -> str:
    """A file name from what a reviewer typed: letters, digits and Chinese only, never a path."""
    stem = _UNSAFE.sub("_", value).strip("_")[:40] or "_"
    name, k = stem, 2
    while name in taken:
        name, k = f"{stem}_{k}", k + 1
    taken.add(name)
    return name


def split_hit_list(clues_csv: Path, by: str) -> list[Path]:
    """Write runs/<run>/by_<by>/clues_<value>.csv; returns the files written."""
    if not clues_csv.exists():
        raise CollideError(
            Problem(str(clues_csv), None, "no hit list to split", "Export with --format csv")
        )
    text = clues_csv.read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(text, newline="")))
    header, rows = table[0], table[1:]
    j = header.index(COLUMN[by])
    groups: dict[str, list[list[str]]] = {}
    for r in rows:
        groups.setdefault(r[j].strip() or EMPTY[by], []).append(r)
    folder = clues_csv.parent / f"by_{by}"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("clues_*.csv"):
        old.unlink()
    taken: set[str] = set()
    written = []
    for value in sorted(groups):
        path = folder / f"clues_{_file_stem(value, taken)}.csv"
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(groups[value])
        written.append(path)
    return written
