"""The clue list as xlsxwriter writes it: the reference the OOXML writer of
collide.export.xlsx is compared with (tests/test_xlsx_writer.py). The same workbook, cell for cell,
written by an independent library."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from collide.clues.build import REVIEW_STATES
from collide.clues.dispositions import DATE_FIELDS
from collide.config.specs import DEFAULT_EXCLUSION_REASONS
from collide.export.columns import CLUE_COLUMNS, cell_text

# which date a cell holds is not the writing: both writers read it the same way
from collide.export.xlsx import _as_date

_SPARE_ROWS = 200
_MAX_LINKS = 65_530


def write_xlsx(
    path: Path,
    rows: list[dict[str, Any]],
    mask: bool,
    reasons: Sequence[str] = DEFAULT_EXCLUSION_REASONS,
) -> None:
    import xlsxwriter

    # No string is ever read as a formula, a number or a link: cells show what the store holds.
    # constant_memory: each row goes to disk once the next one starts (strings inline, no
    # shared table), so a list of 100k clues holds one row in memory, not the whole sheet.
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "constant_memory": True,
        },
    )
    ws = wb.add_worksheet("线索")
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    fill = wb.add_format(
        {"bold": True, "bg_color": "#FFF2CC", "border": 1, "text_wrap": True}
    )  # the columns a reviewer fills in
    text = wb.add_format({"num_format": "@", "text_wrap": True, "valign": "top"})
    num = wb.add_format({"num_format": "0.0", "valign": "top"})
    date = wb.add_format({"num_format": "yyyy-mm-dd", "valign": "top"})
    link = wb.add_format({"font_color": "blue", "underline": 1, "valign": "top"})
    keys = [c.key for c in CLUE_COLUMNS]
    review_from = keys.index("review_status")
    for c, col in enumerate(CLUE_COLUMNS):
        ws.write_string(0, c, col.header, fill if c >= review_from else head)
        if col.key in DATE_FIELDS:
            ws.set_column(c, c, max(col.width, 12), date)
        elif c >= review_from:
            ws.set_column(c, c, col.width, text)
        else:
            ws.set_column(c, c, col.width)
    for i, r in enumerate(rows, 1):
        for c, col in enumerate(CLUE_COLUMNS):
            value = r.get(col.key)
            if col.number and value is not None:
                ws.write_number(i, c, float(value), num)
            elif col.key in DATE_FIELDS:
                day = _as_date(value)
                if day is not None:
                    ws.write_datetime(i, c, dt.datetime(day.year, day.month, day.day), date)
                else:
                    ws.write_blank(i, c, None, date)
            elif col.key == "evidence_file" and value and i <= _MAX_LINKS:
                # relative: the run folder opens wherever it is copied; the text stays the path
                ws.write_url(
                    i, c, "external:" + str(value), link, string=str(value), tip="打开线索核查单"
                )
            elif col.key == "evidence_file" and value:
                quoted = str(value).replace('"', '""')
                ws.write_formula(i, c, f'=HYPERLINK("{quoted}","{quoted}")', link, str(value))
            else:
                ws.write_string(i, c, cell_text(r, col.key, mask), text)
    last = len(rows) + _SPARE_ROWS
    status_col = keys.index("review_status")
    ws.data_validation(
        1,
        status_col,
        last,
        status_col,
        {
            "validate": "list",
            "source": list(REVIEW_STATES),
            "error_title": "审查结论",
            "error_message": "请从下拉列表中选择：" + "、".join(REVIEW_STATES),
        },
    )
    reason_col = keys.index("exclusion_reason")
    reason_list = list(dict.fromkeys(reasons))
    if len(",".join(reason_list)) <= 250:
        source: Any = reason_list
    else:  # Excel caps an inline list at 255 characters: a hidden sheet holds a long one
        lists = wb.add_worksheet("下拉选项")
        for k, reason in enumerate(reason_list):
            lists.write_string(k, 0, reason)
        lists.hide()
        source = f"='下拉选项'!$A$1:$A${len(reason_list)}"
    ws.data_validation(
        1,
        reason_col,
        last,
        reason_col,
        {
            "validate": "list",
            "source": source,
            "error_title": "排除理由",
            "error_message": "请从下拉列表中选择排除理由"
            "（可在 collide.yaml 的 review.exclusion_reasons 中增加）",
        },
    )
    for key in DATE_FIELDS:
        c = keys.index(key)
        ws.data_validation(
            1,
            c,
            last,
            c,
            {
                "validate": "date",
                "criteria": ">=",
                "value": dt.date(1990, 1, 1),
                "error_title": CLUE_COLUMNS[c].header,
                "error_message": "请填写日期，如 2026-03-01",
            },
        )
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), len(CLUE_COLUMNS) - 1)
    wb.close()
    _forward_slash_links(path)


def _forward_slash_links(path: Path) -> None:
    """xlsxwriter stores a relative link as `evidence\\X.html` (a Windows path); a URI with `/`
    opens in Excel, WPS and LibreOffice alike, on every system."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        items = [(info, z.read(info.filename)) for info in z.infolist()]
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in items:
            if info.filename.startswith("xl/worksheets/_rels/"):
                data = re.sub(rb'Target="evidence\\([^"]*)"', rb'Target="evidence/\1"', data)
            z.writestr(info, data)
    tmp.replace(path)
