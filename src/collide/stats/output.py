"""The figures written out: a console table, CSV (UTF-8 with BOM, for Excel/WPS) or XLSX."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from collide.stats.figures import Figures, cell

RATIOS = ("准确率", "成案率")


def to_csv(f: Figures) -> str:
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(f.columns)
    for r in f.rows:
        w.writerow([cell(r.get(c), c) for c in f.columns])
    return buf.getvalue()


def write_csv(f: Figures, path: Path) -> None:
    path.write_text("\ufeff" + to_csv(f), encoding="utf-8", newline="")


def write_xlsx(f: Figures, path: Path, paragraph: str) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet("统计")
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    pct = wb.add_format({"num_format": "0.0%"})
    bold = wb.add_format({"bold": True})
    for j, c in enumerate(f.columns):
        ws.write_string(0, j, c, head)
        ws.set_column(j, j, 28 if c == "模型名称" else 12)
    for i, r in enumerate(f.rows, 1):
        for j, c in enumerate(f.columns):
            value: Any = r.get(c)
            if value is None:
                continue
            if isinstance(value, (int, float)):
                ws.write_number(i, j, value, pct if c in RATIOS else None)
            else:
                ws.write_string(i, j, str(value), bold if i == len(f.rows) else None)
    ws.write_string(len(f.rows) + 2, 0, paragraph)
    ws.freeze_panes(1, 0)
    wb.close()


def print_table(f: Figures, paragraph: str, echo: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="统计")
    for c in f.columns:
        table.add_column(
            c, justify="left" if c in ("模型", "模型名称", "条线", "承办人") else "right"
        )
    for r in f.rows:
        table.add_row(*[cell(r.get(c), c) for c in f.columns])
    console = Console(highlight=False, soft_wrap=True, width=200)
    with console.capture() as cap:
        console.print(table)
    echo(cap.get().rstrip("\n"))
    echo(paragraph)
