"""Resident identity numbers (公民身份号码, GB 11643-1999).

18 characters: a 6-digit area code (GB/T 2260), the birth date yyyymmdd, a 3-digit order code
(odd for men) and a check character (ISO 7064 MOD 11-2). Numbers issued before 1999 had 15
digits: the area code, the birth date yymmdd of a 19xx year and the order code, no check.

The vectorised checks in `collide.ingest.semantic` are built from these constants and tables.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources

WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# the check character for each weighted sum modulo 11
CHECK_CHARS = "10X98765432"

# Earliest birth date accepted: older dates are typing errors, not people.
BIRTH_FIRST = dt.date(1880, 1, 1)

SHAPE_18 = r"^[0-9]{17}[0-9X]$"
SHAPE_15 = r"^[0-9]{15}$"


def check_char(body: str) -> str:
    """The check character of a 17-digit body."""
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(body, WEIGHTS)) % 11]


def upgrade_15(number: str) -> str:
    """A 15-digit number as its 18-character form (years 19xx, check character added)."""
    body = number[:6] + "19" + number[6:15]
    return body + check_char(body)


def block_sums(first: int, size: int) -> list[int]:
    """For every `size`-digit block v, the weighted digit sum of v placed at digit `first` of
    the body: a lookup table of 10**size sums for the vectorised checksum."""
    weights = WEIGHTS[first : first + size]
    return [
        sum((v // 10 ** (size - 1 - k)) % 10 * w for k, w in enumerate(weights))
        for v in range(10**size)
    ]


def birth_date(number: str) -> dt.date | None:
    """The birth date of an 18-character number, None when it is no real date between
    `BIRTH_FIRST` and today."""
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    return born if BIRTH_FIRST <= born <= dt.date.today() else None


@functools.cache
def area_codes() -> frozenset[int]:
    """Every area code ever issued (GB/T 2260 and the codes it retired since 1980), as
    integers: python-stdnum's `cn/loc.dat`, read from the installed package.

    IDs keep the code of the place where they were first issued, so a retired code is as good
    as a current one; an ID whose code was never issued is kept and reported, not rejected."""
    text = importlib.resources.files("stdnum").joinpath("cn/loc.dat").read_text("utf-8")
    codes: set[int] = set()
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        prefix = line.split(maxsplit=1)[0]
        if line[0].isspace():
            codes.add(int(province + prefix))
        else:
            province = prefix
            codes.add(int(province + "0000"))
    return frozenset(codes)
