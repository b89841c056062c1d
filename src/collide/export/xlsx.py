"""clues.xlsx: the hit list with typed columns. The only module that imports xlsxwriter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from collide.export.columns import CLUE_COLUMNS, cell_text


def write_xlsx(path: Path, rows: list[dict[str, Any]], mask: bool) -> None:
    import xlsxwriter

    # No string is ever read as a formula, a number or a link: cells show what the store holds.
    wb = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
    )
    ws = wb.add_worksheet("线索")
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    text = wb.add_format({"num_format": "@", "text_wrap": True, "valign": "top"})
    num = wb.add_format({"num_format": "0.0", "valign": "top"})
    for c, col in enumerate(CLUE_COLUMNS):
        ws.write_string(0, c, col.header, head)
        ws.set_column(c, c, col.width)
    for i, r in enumerate(rows, 1):
        for c, col in enumerate(CLUE_COLUMNS):
            value = r.get(col.key)
            if col.number and value is not None:
                ws.write_number(i, c, float(value), num)
            else:
                ws.write_string(i, c, cell_text(r, col.key, mask), text)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), len(CLUE_COLUMNS) - 1)
    wb.close()


def write_table(
    path: Path,
    sheet: str,
    columns: list[str],
    rows: list[list[Any]],
    *,
    percent: set[str] = frozenset(),  # type: ignore[assignment]
    wide: set[str] = frozenset(),  # type: ignore[assignment]
    note: str = "",
) -> None:
    """A plain table (`collide stats --format xlsx`): a bold header, numbers as numbers (the
    `percent` columns as 0.0%), the last row (合计) bold, and `note` below the table."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet(sheet)
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    pct = wb.add_format({"num_format": "0.0%"})
    bold = wb.add_format({"bold": True})
    for j, c in enumerate(columns):
        ws.write_string(0, j, c, head)
        ws.set_column(j, j, 28 if c in wide else 12)
    for i, r in enumerate(rows, 1):
        for j, (c, value) in enumerate(zip(columns, r)):
            if value is None:
                continue
            if isinstance(value, (int, float)):
                ws.write_number(i, j, value, pct if c in percent else None)
            else:
                ws.write_string(i, j, str(value), bold if i == len(rows) else None)
    if note:
        ws.write_string(len(rows) + 2, 0, note)
    ws.freeze_panes(1, 0)
    wb.close()
