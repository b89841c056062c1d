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
    from collide.export.xlsx import write_table

    rows = [[r.get(c) for c in f.columns] for r in f.rows]
    write_table(
        path, "统计", f.columns, rows, percent=set(RATIOS), wide={"模型名称"}, note=paragraph
    )


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
