"""clues.csv and clues_<model>.csv: UTF-8 with BOM, Chinese headers, safe to open in Excel/WPS."""

from __future__ import annotations

import contextlib
import csv
import re
from pathlib import Path
from typing import Any

from collide.clues.build import display
from collide.export.columns import CLUE_COLUMNS, masked

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_LONG_DIGITS = re.compile(r"^\d{12,}$")


def spreadsheet_safe(value: Any) -> str:
    """A CSV cell that Excel/WPS open as text: no formula runs, long digit strings stay text."""
    text = display(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    if _LONG_DIGITS.match(text):
        return "\t" + text  # a leading tab keeps 18-digit IDs from becoming 1.10105E+17
    return text


_KEYS = [c.key for c in CLUE_COLUMNS]


def _cells(r: dict[str, Any], mask: bool) -> list[str]:
    """A row's cells: `spreadsheet_safe(cell_text(...))`, with the common cases inline (text
    too short to hold an ID, no formula start, no long digit run), as it runs per cell."""
    out = []
    for value in map(r.get, _KEYS):
        if value is None:
            out.append("")
            continue
        text = value if type(value) is str else display(value)
        if len(text) >= 12 or text.startswith(_FORMULA_START):
            text = spreadsheet_safe(masked(text, mask))
        out.append(text)
    return out


def write_csv(path: Path, rows: list[dict[str, Any]], mask: bool) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
        w.writerow([c.header for c in CLUE_COLUMNS])
        w.writerows(_cells(r, mask) for r in rows)


def write_hit_lists(
    folder: Path, rows: list[dict[str, Any]], models: list[str], mask: bool
) -> None:
    """clues.csv and one clues_<model>.csv per model in `models` (a model without clues gets
    the header alone), in one pass: each row's cells are worked out once for both files."""
    with contextlib.ExitStack() as stack:

        def writer(path: Path) -> Any:
            fh = stack.enter_context(open(path, "w", encoding="utf-8-sig", newline=""))
            w = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
            w.writerow([c.header for c in CLUE_COLUMNS])
            return w

        everything = writer(folder / "clues.csv")
        per_model = {mid: writer(folder / f"clues_{mid}.csv") for mid in models}
        for r in rows:
            cells = _cells(r, mask)
            everything.writerow(cells)
            per_model[r["model_id"]].writerow(cells)
