"""clues.csv and clues_<model>.csv: UTF-8 with BOM, Chinese headers, safe to open in Excel/WPS."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from collide.clues.build import display
from collide.export.columns import CLUE_COLUMNS, cell_text

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


def write_csv(path: Path, rows: list[dict[str, Any]], mask: bool) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
        w.writerow([c.header for c in CLUE_COLUMNS])
        for r in rows:
            w.writerow([spreadsheet_safe(cell_text(r, c.key, mask)) for c in CLUE_COLUMNS])
