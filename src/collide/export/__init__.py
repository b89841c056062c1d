"""What prosecutors open: ranked CSV/XLSX hit lists, evidence sheets, the run manifest and report.

columns.py   the hit-list columns (one list drives every writer) and masking of cells
hitlist.py   which clues a run lists and how they are counted
csv.py       clues.csv / clues_<model>.csv, safe in Excel/WPS
xlsx.py      clues.xlsx (the only xlsxwriter importer)
evidence.py  evidence JSON + the 线索核查单 sheet
report.py    report.md
render.py    the Jinja2 environments (templates/: HTML autoescaped, Markdown escaped)
folder.py    a run's folder, built aside and swapped in
"""

from __future__ import annotations

from collide.export.columns import CLUE_COLUMNS, Column, mask_text
from collide.export.csv import spreadsheet_safe, write_csv
from collide.export.folder import export_run
from collide.export.hitlist import ClueCounts, run_clue_rows

__all__ = [
    "CLUE_COLUMNS",
    "ClueCounts",
    "Column",
    "export_run",
    "mask_text",
    "run_clue_rows",
    "spreadsheet_safe",
    "write_csv",
]
