"""Masking resident IDs for sharing: `110105********002X` (15-digit: first 6, 5 stars, last 4).

Every masked output (CSV, XLSX, evidence sheets, reports, the console, the SQL `mask_id`
function) uses these patterns.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from collide.standards import cn_id

_D = "[0-9０-９]"
_LAST = "[0-9０-９XxＸｘ]"
# an ID value on its own (an ID column): 18 or 15 digits, ASCII or full-width
ID_VALUE = rf"^(?:{_D}{{17}}{_LAST}|{_D}{{15}})$"
# an ID inside free text is not part of a longer run of letters or digits, which keeps USCCs
# (letters inside) and long account numbers out
_ID_IN_TEXT = re.compile(
    rf"(?<![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])({_D}{{17}}{_LAST}|{_D}{{15}})(?![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])"
)
_TO_ASCII = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")
_ID_VALUE = re.compile(ID_VALUE)


def stars(length: int) -> int:
    """How many characters of an ID of `length` characters are hidden."""
    return 8 if length == 18 else 5


def masked(v: str) -> str:
    """One ID (18 or 15 characters) masked: first 6, stars, last 4."""
    return v[:6] + "*" * stars(len(v)) + v[-4:]


def _plausible(v: str) -> bool:
    """A digit run in free text counts as an ID when its birth date is real and its first
    digit is a region (1–8): account numbers and other long numbers stay readable."""
    digits = v.translate(_TO_ASCII)
    full = digits if len(digits) == 18 else digits[:6] + "19" + digits[6:] + "0"
    return digits[0] in "12345678" and cn_id.birth_date(full) is not None


@functools.lru_cache(maxsize=65_536)
def _masked_run(v: str, today: dt.date) -> str:
    """A digit run found in free text, masked when it is an ID; remembered per day (an ID
    repeats in a clue's reason, its source rows and their data-quality notes)."""
    return masked(v) if _plausible(v) else v


def mask_text(text: str) -> str:
    """Mask every resident ID in free text (reasons, remarks, reports)."""
    today = dt.date.today()
    return _ID_IN_TEXT.sub(lambda m: _masked_run(m.group(1), today), text)


def mask_id(value: str | None) -> str | None:
    """Mask one ID value (from an ID column, so no birth-date check); other text unchanged."""
    if value is None:
        return None
    v = value.strip()
    return masked(v) if _ID_VALUE.fullmatch(v) else value
