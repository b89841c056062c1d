"""Excel day numbers (serials) in the 1900 date system.

An Excel date cell holds the number of days since 1899-12-30 (the epoch that absorbs Excel's
phantom 1900-02-29). A number is read as such a date only when it comes from a numeric Excel cell
of a date column, or from text a connector marks `excel_serial: true`, and only inside
`EXCEL_SERIAL_DATES`: outside it a number is more likely a count, a code or a typo than a date.
"""

from __future__ import annotations

import datetime as dt

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
# the dates a serial may stand for in an agency file: births of living people onwards, and no
# farther ahead than contracts and licences reach
EXCEL_SERIAL_DATES = (dt.date(1920, 1, 1), dt.date(2099, 12, 31))
EXCEL_SERIAL_RANGE = tuple((d - EXCEL_EPOCH.date()).days for d in EXCEL_SERIAL_DATES)
