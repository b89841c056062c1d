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
