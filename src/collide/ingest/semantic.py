"""Semantic types: how a raw agency cell becomes a clean, comparable value.

Agency extracts are messy in known ways (see DOMAIN.md): full-width digits, lowercase `x` in IDs,
Excel-mangled IDs, a dozen date spellings, money with units, company names with mixed brackets.
Each semantic type is a set of polars expressions, so normalising ten million rows is a vectorised
pass with no Python per cell. The same expressions back the SQL functions in `functions.py`.

A value is never silently "fixed": an ID with a bad checksum is kept and reported (it is a finding
about the agency's data); a value that cannot be trusted (an ID with its last digits lost by Excel,
an amount with two readings such as `1.234,50`) becomes null, is marked fatal, and says why. The
rules themselves (check digits, area codes, Excel day numbers, the type table) live in
`collide.standards`; this module makes them vectorised.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import polars as pl

from collide.standards import cn_id, dates, hanzi, masking
from collide.standards import uscc as gb32100
from collide.standards.types import KEYED_TYPES, SEMANTIC_TYPES, TYPES

__all__ = [
    "SEMANTIC_TYPES",
    "SemanticExprs",
    "address_key",
    "column_exprs",
    "id_area_known",
    "id_birth",
    "id_gender",
    "id_norm",
    "id_valid",
    "mask_id_expr",
    "org_key",
    "org_name_norm",
    "fold_hanzi",
    "person_name_key",
    "person_name_norm",
    "to_halfwidth",
    "uscc_norm",
    "uscc_valid",
]

# --------------------------------------------------------------------------- text basics

# U+FF01..U+FF5E are the full-width forms of ASCII 0x21..0x7E; U+3000 is the ideographic space.
_FULL = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000"]
_HALF = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)] + [" "]

# Written in agency files to mean "nothing here"; compared after half-width + lowercase.
_PLACEHOLDERS = frozenset(
    {
        "/", "\\", "-", "--", "—", "——", "─", "长期", "无", "暂无", "不详", "未知", "空",
        "null", "none", "nan", "n/a", "na", "#n/a",
    }
)  # fmt: skip

# A placeholder has at most this many characters, so at most 4 bytes each; lowercasing never
# makes a text shorter in characters, so longer cells need no lowercasing to be ruled out.
_PLACEHOLDER_BYTES = 4 * max(len(p) for p in _PLACEHOLDERS)

_HAN = r"\p{Han}"


def to_halfwidth(e: pl.Expr) -> pl.Expr:
    """Full-width ASCII (全角 `１２３ＡＢＣ（）`) to half-width, in one Aho-Corasick pass."""
    return e.str.replace_many(_FULL, _HALF)


# Fast paths. polars evaluates every branch of a `when/then` on the whole column, so a costly
# rewrite is made cheap by feeding it only the rows that need it (`_only`: the others become
# null, which string kernels skip) and taking the untouched value for the rest (`coalesce`).
# A cheap `contains` decides which rows need the rewrite; the result is the same as rewriting
# every row, because the rewrite leaves the other rows unchanged.


def _only(cond: pl.Expr, e: pl.Expr) -> pl.Expr:
    """`e` where `cond` holds, else null."""
    return pl.when(cond).then(e)


def _where_needed(e: pl.Expr, needs: str, rewrite: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    """`rewrite(e)`, computed only on rows matching the regex `needs` (it changes no other)."""
    return pl.coalesce(rewrite(_only(e.str.contains(needs), e)), e)


def _fmt(cond: pl.Expr, template: str, *args: pl.Expr) -> pl.Expr:
    """`pl.format(template, *args)` for a `when(cond)` branch, formatted only where `cond`."""
    return pl.format(template, *(_only(cond, a) for a in args))


_FULL_RE = "[\uff01-\uff5e\u3000]"
_ZW_RE = r"[\u200B-\u200D\u2060\uFEFF]"


Stage = dict[str, pl.Expr]
F = pl.field

# Each type is a list of stages; a stage adds fields to a struct and may read the fields earlier
# stages made (`pl.field`). This keeps the expression tree linear: an ID checksum reads the
# 17-digit body once instead of rebuilding it inside every branch that needs it.
_TEXT: list[Stage] = [
    {
        "t0": _where_needed(
            F("raw"), _ZW_RE, lambda e: e.str.replace_all(_ZW_RE, "")
        ).str.strip_chars()
    },
    {"t": pl.when(F("t0").str.len_bytes() > 0).then(F("t0"))},  # empty cell: null, no issue
    {"h": _where_needed(F("t"), _FULL_RE, to_halfwidth)},
]


def _run(raw: pl.Expr, stages: list[Stage]) -> pl.Expr:
    """Evaluate the stages on one column as text (numbers from parquet/DBs are cast first)."""
    e = pl.struct(raw.cast(pl.Utf8).alias("raw"))
    for stage in stages:
        e = e.struct.with_fields(**stage)
    return e


def _collapse_spaces(e: pl.Expr, has_han: pl.Expr) -> pl.Expr:
    """Chinese text loses its spaces (`北京 某某 公司` is noise); Latin text keeps one per run."""
    return _where_needed(
        e,
        r"\s",
        lambda x: x.str.replace_all(
            r"\s+", pl.when(has_han).then(pl.lit("")).otherwise(pl.lit(" "))
        ),
    )


_T = TypeVar("_T", pl.Series, pl.Expr)


def _on(s: _T, stages: list[Stage], out: str = "value") -> _T:
    """Run stages on a Series (returns a Series) or an Expr (returns an Expr), keep field `out`."""
    if isinstance(s, pl.Expr):
        return _run(s, _TEXT + stages).struct.field(out)
    name = s.name
    expr = _run(pl.col("_v"), _TEXT + stages).struct.field(out)
    return s.rename("_v").to_frame().select(expr).to_series().rename(name)


# --------------------------------------------------------------------------- resident ID (GB 11643)

_MANGLED_FIX = "unrecoverable; ask the agency for the file with IDs as text"


@functools.cache
def _block_sums(first: int, size: int) -> pl.Series:
    """`cn_id.block_sums` as a Series, built once."""
    return pl.Series(cn_id.block_sums(first, size), dtype=pl.Int64)


def _id_check_sum(body: pl.Expr) -> pl.Expr:
    """The weighted digit sum of a 17-digit body given as an integer: four 4-digit blocks by
    table lookup and the last digit (one pass per block instead of one per digit)."""
    total = (body % 10) * cn_id.WEIGHTS[16]
    for k, first in enumerate((0, 4, 8, 12)):
        block = body // 10 ** (13 - first) % 10_000 if k else body // 10**13
        total = total + pl.lit(_block_sums(first, 4)).gather(block)
    return total


def _id_check_int(body: pl.Expr) -> pl.Expr:
    """The check character of a 17-digit body given as an integer (`cn_id.CHECK_CHARS`)."""
    return (_id_check_sum(body) % 11).replace_strict(
        list(range(11)), list(cn_id.CHECK_CHARS), default=None, return_dtype=pl.Utf8
    )


@functools.cache
def _calendar(low: int, high: int) -> pl.Series:
    """Every real date from `low` to `high` (yyyymmdd integers) as yyyymmdd integers."""
    as_date = [_dt.date(v // 10_000, v // 100 % 100, v % 100) for v in (low, high)]
    days = pl.date_range(*as_date, eager=True)
    return days.dt.strftime("%Y%m%d").cast(pl.Int64)


def _real_yyyymmdd(ymd: pl.Expr, low: int, high: int) -> pl.Expr:
    """An 8-digit integer yyyymmdd is a real calendar date within [low, high] (as yyyymmdd):
    one hash lookup among those dates (a few tens of thousands)."""
    return ymd.is_in(_calendar(low, high).implode())


@functools.cache
def _area_table() -> pl.Series:
    """For every 6-digit number, whether it is an issued area code (`cn_id.area_codes()`): a
    lookup by position, cheaper than a hash lookup per ID."""
    known = cn_id.area_codes()
    return pl.Series([v in known for v in range(1_000_000)], dtype=pl.Boolean)


@functools.cache
def _check_values() -> pl.Series:
    """The check character for each weighted sum modulo 11, as a number (X is 10)."""
    return pl.Series([10 if c == "X" else int(c) for c in cn_id.CHECK_CHARS], dtype=pl.Int64)


def _ymd(d: _dt.date) -> int:
    return d.year * 10_000 + d.month * 100 + d.day


_TODAY = _dt.date.today()
_BIRTH_RANGE = (_ymd(cn_id.BIRTH_FIRST), _ymd(_TODAY))
_ID_LOST_000 = 'ID mangled by Excel (last digits lost as 000) "{}", ' + _MANGLED_FIX
_ID_BAD_BIRTH = 'invalid birth date in ID "{}"'
_ID_BAD_CHECK = 'invalid ID checksum "{}"'
_ID_BAD_AREA = 'ID "{}" has an area code never issued (GB/T 2260 and its history), kept'


def _id_checks(body: pl.Expr, last: pl.Expr) -> Stage:
    """The GB 11643 checks of a 17-digit body (an integer) against its written check character
    `last` (0-9 or X): the one definition both the full parse and the fast path use."""
    written = last.cast(pl.Int64, strict=False).fill_null(10)  # X, the only letter admitted
    return {
        "check_ok": pl.lit(_check_values()).gather(_id_check_sum(body) % 11) == written,
        "birth_ok": _real_yyyymmdd(body // 1000 % 100_000_000, *_BIRTH_RANGE).fill_null(False),
        "area_ok": pl.lit(_area_table()).gather(body // 10**11).fill_null(False),
    }


def _id_verdict(plain: pl.Expr, shown: pl.Expr) -> list[Stage]:
    """Excel's lost digits, then the issue of a well-shaped ID (`shown` in the message)."""
    return [
        # Excel keeps 15 significant digits: an 18-digit ID typed as a number ends in "000".
        # Such a value cannot be repaired, only reported.
        {"lost": plain & F("norm").str.ends_with("000") & ~F("check_ok")},
        {
            "id_issue": pl.when(F("lost"))
            .then(_fmt(F("lost"), _ID_LOST_000, shown))
            .when(~F("birth_ok"))
            .then(_fmt(~F("birth_ok"), _ID_BAD_BIRTH, F("norm")))
            .when(~F("check_ok"))
            .then(_fmt(~F("check_ok"), _ID_BAD_CHECK, F("norm"))),
            # a note of its own, added to any other (never a reason to reject)
            "area_issue": _fmt(~F("area_ok"), _ID_BAD_AREA, F("norm")),
        },
    ]


def _join(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """Two issues of one cell as one text (either may be null)."""
    return pl.coalesce(a + "; " + b, a, b)


# Most IDs already have the 18-character shape: for them only the checks run (on integers).
# The regexes for Excel-mangled, 15-digit and odd values run only on the rest (`r`, null for
# shaped rows).
_ID: list[Stage] = [
    {
        "s": _where_needed(
            F("h"), r"[^0-9X]", lambda e: e.str.replace_all(r"\s+", "").str.to_uppercase()
        )
    },
    {"shaped": F("s").str.contains(cn_id.SHAPE_18), "n": F("s").str.len_chars()},
    {"r": _only(~F("shaped"), F("s"))},
    {
        "sci": pl.when(F("shaped"))
        .then(False)
        .otherwise(F("r").str.contains(r"^[0-9]+(\.[0-9]*)?E[+-]?[0-9]+$")),
        "floaty": pl.when(F("shaped"))
        .then(False)
        .otherwise(F("r").str.contains(r"^[0-9]{18}\.0*$")),
        "legacy": pl.when(F("shaped")).then(False).otherwise(F("r").str.contains(cn_id.SHAPE_15)),
    },
    {
        "body": pl.when(F("legacy"))
        .then(F("r").str.slice(0, 6) + "19" + F("r").str.slice(6, 9))
        .when(F("floaty") | F("shaped"))
        .then(F("s").str.slice(0, 17))
    },
    {"b": F("body").cast(pl.Int64, strict=False)},  # 17 ASCII digits when not null
    {"check": _id_check_int(F("b"))},
    {
        "norm": pl.when(F("shaped"))
        .then(F("s"))
        .when(F("legacy"))
        .then(F("body") + F("check"))
        .otherwise(_only(~F("shaped"), F("body")) + F("r").str.slice(17, 1))
    },
    _id_checks(F("b"), F("norm").str.slice(17, 1)),
    *_id_verdict(F("floaty") | (F("shaped") & ~F("s").str.ends_with("X")), F("t")),
    {"mangled": F("sci") | F("lost") | (F("floaty") & ~F("check_ok"))},
    {"bad_n": F("norm").is_null() & ~F("n").is_in([15, 18])},
    {
        "value": pl.when(~F("mangled")).then(F("norm")),
        "valid": pl.when(F("t").is_not_null()).then(
            (F("norm").is_not_null() & ~F("mangled") & F("birth_ok") & F("check_ok")).fill_null(
                False
            )
        ),
        "area_known": pl.when(F("norm").is_not_null() & ~F("mangled")).then(F("area_ok")),
        "first_issue": pl.when(F("sci"))
        .then(
            _fmt(
                F("sci"), 'ID mangled by Excel (scientific notation) "{}", ' + _MANGLED_FIX, F("t")
            )
        )
        .when(F("mangled"))
        .then(_fmt(F("mangled"), _ID_LOST_000, F("t")))
        .when(F("bad_n"))
        .then(
            _fmt(
                F("bad_n"),
                'invalid ID length {} (expected 18 characters) "{}"',
                F("n"),
                F("t"),
            )
        )
        .when(F("norm").is_null())
        .then(_fmt(F("norm").is_null(), 'invalid characters in ID "{}"', F("t")))
        .when(F("id_issue").is_not_null())
        .then(F("id_issue"))
        .when(F("legacy"))
        .then(_fmt(F("legacy"), 'legacy 15-digit ID "{}" upgraded to 18 digits', F("t"))),
    },
    {
        "issue": _join(
            F("first_issue"),
            pl.when(F("norm").is_not_null() & ~F("mangled")).then(F("area_issue")),
        )
    },
]

_ID_EXTRA: list[Stage] = [
    {
        "birth": F("value").str.slice(6, 8).str.to_date("%Y%m%d", strict=False),
        "gender_digit": F("value").str.slice(16, 1).cast(pl.Int64, strict=False),
    },
    {
        "gender": pl.when(F("gender_digit") % 2 == 1)
        .then(pl.lit("男"))
        .when(F("gender_digit") % 2 == 0)
        .then(pl.lit("女"))
    },
]


def id_norm(s: _T) -> _T:
    """Normalised 18-character ID (kept even with a bad checksum), null when unusable."""
    return _on(s, _ID)


def id_valid(s: _T) -> _T:
    """True when the ID has a real shape, birth date and checksum (15-digit legacy IDs count;
    an area code never issued does not make an ID invalid: see `id_area_known`)."""
    return _on(s, _ID, "valid")


def id_area_known(s: _T) -> _T:
    """True when the ID's area code was ever issued (GB/T 2260 and its history); null when the
    ID is unusable."""
    return _on(s, _ID, "area_known")


def id_birth(s: _T) -> _T:
    """Birth date from an ID (null when the ID is unusable or the date is impossible)."""
    return _on(s, _ID + _ID_EXTRA, "birth")


def id_gender(s: _T) -> _T:
    """'男' / '女' from the parity of the 17th digit (odd = male, GB 11643)."""
    return _on(s, _ID + _ID_EXTRA, "gender")


# --------------------------------------------------------------------------- USCC (GB 32100)

_USCC: list[Stage] = [
    {"s": F("h").str.replace_all(gb32100.SEPARATORS, "").str.to_uppercase()},
    {
        "shaped": F("s").str.contains(gb32100.SHAPE),
        "legacy_reg": F("s").str.contains(gb32100.LEGACY_REGISTRATION),
        "legacy_org": F("s").str.contains(gb32100.LEGACY_ORGANISATION),
        "total": sum(
            F("s")
            .str.slice(i, 1)
            .replace_strict(gb32100.VALUE, default=None, return_dtype=pl.Int64)
            * w
            for i, w in enumerate(gb32100.WEIGHTS)
        ),
    },
    {
        "check_ok": (
            F("s").str.slice(17, 1)
            == pl.lit(gb32100.ALPHABET).str.slice((31 - F("total") % 31) % 31, 1)
        ).fill_null(False),
        "region_bad": ~F("shaped")
        & F("s").str.contains(r"^[0-9A-HJ-NPQRTUWXY]{18}$").fill_null(False),
    },
    {
        "value": pl.when(F("shaped") | F("legacy_reg") | F("legacy_org")).then(F("s")),
        "valid": pl.when(F("t").is_not_null()).then(F("shaped") & F("check_ok")),
    },
    {
        "issue": pl.when(F("shaped") & ~F("check_ok"))
        .then(_fmt(F("shaped") & ~F("check_ok"), 'invalid USCC checksum "{}"', F("value")))
        .when(F("legacy_reg"))
        .then(
            _fmt(
                F("legacy_reg"),
                'legacy identifier: 15-digit business registration number "{}"',
                F("t"),
            )
        )
        .when(F("legacy_org"))
        .then(
            _fmt(F("legacy_org"), 'legacy identifier: 9-character organisation code "{}"', F("t"))
        )
        .when(F("region_bad"))
        .then(
            _fmt(
                F("region_bad"),
                'invalid USCC "{}" (characters 3 to 8, the region code, must be digits)',
                F("t"),
            )
        )
        .when(~F("shaped"))
        .then(
            _fmt(
                ~F("shaped"),
                'invalid USCC "{}" (expected 18 characters from 0-9A-HJ-NPQRTUWXY)',
                F("t"),
            )
        )
    },
]


def uscc_norm(s: _T) -> _T:
    """Normalised USCC: spaces and hyphens dropped, upper-case (bad checksum and legacy codes
    kept), null when the shape is wrong."""
    return _on(s, _USCC)


def uscc_valid(s: _T) -> _T:
    """True for an 18-character USCC of the GB 32100 structure with a correct check character."""
    return _on(s, _USCC, "valid")


# --------------------------------------------------------------------------- dates

_DATE_SEP = r"^(?<y>\d{4})\s*[-/.年]\s*(?<m>\d{1,2})\s*[-/.月]\s*(?<d>\d{1,2})\s*日?"
_TIME = (
    r"(?:\s*T?\s*(?<H>\d{1,2})\s*[:时点]\s*(?<M>\d{1,2})\s*分?"
    r"(?:\s*:?\s*(?<S>\d{1,2})(?:\.(?<f>\d{1,9}))?\s*秒?)?)?\s*$"
)
_DATE_COMPACT = r"^(?<y>\d{4})(?<m>\d{2})(?<d>\d{2})(?:(?<H>\d{2})(?<M>\d{2})(?<S>\d{2})?)?$"
_DATE_PLAIN = r"^[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}$"
_SERIAL_TEXT = r"^\d{1,7}(\.\d+)?$"  # up to 2958465 (9999-12-31); 8 digits is yyyymmdd


def _date_stages(with_time: bool, excel_serial: bool = False) -> list[Stage]:
    """Year-month-day spellings (and a time of day); Excel serial day numbers only where the
    connector says the column holds them as text (`excel_serial: true`): a number in a date
    column is otherwise not a date (numeric Excel cells are converted when the sheet is read)."""
    label = "datetime" if with_time else "date"
    first, last = dates.EXCEL_SERIAL_RANGE
    if with_time:
        text = pl.concat_str(
            [
                F("y"), pl.lit("-"), F("m").str.zfill(2), pl.lit("-"), F("d").str.zfill(2),
                pl.lit(" "), F("H").fill_null("0").str.zfill(2),
                pl.lit(":"), F("M").fill_null("0").str.zfill(2),
                pl.lit(":"), F("S").fill_null("0").str.zfill(2),
                pl.lit("."), (F("f").fill_null("") + "000000").str.slice(0, 6),
            ]
        )  # fmt: skip
        parsed = text.str.to_datetime("%Y-%m-%d %H:%M:%S%.6f", time_unit="us", strict=False)
        from_serial = pl.lit(dates.EXCEL_EPOCH).dt.cast_time_unit("us") + pl.duration(
            microseconds=(F("serial") * 86_400_000_000).round(0).cast(pl.Int64)
        )
    else:
        text = pl.concat_str(
            [F("y"), pl.lit("-"), F("m").str.zfill(2), pl.lit("-"), F("d").str.zfill(2)]
        )
        parsed = text.str.to_date("%Y-%m-%d", strict=False)
        from_serial = pl.lit(dates.EXCEL_EPOCH.date()) + pl.duration(
            days=F("serial").floor().cast(pl.Int64)
        )
    # The common spelling `2023-05-01` / `2023/5/1` / `2023.5.1` is parsed directly; the
    # capture-group regexes (the costly part) run only on the other cells (`hs`).
    fast_value = (
        _only(F("fast"), F("h"))
        .str.replace_many(["/", "."], ["-", "-"])
        .str.to_date("%Y-%m-%d", strict=False)
    )
    if with_time:
        fast_value = fast_value.cast(pl.Datetime("us"))
    hh, mm, ss = (F(k).cast(pl.Int64, strict=False) for k in ("H", "M", "S"))
    # On a date column a time of day is dropped, with a note unless it is midnight (Excel date
    # cells read as `2023-05-01 00:00:00`); an impossible time makes the whole value unreadable.
    timed = [] if with_time else [{"timed": F("value").is_not_null() & F("clock_set")}]
    note = (
        pl.when(F("timed")).then(
            _fmt(F("timed"), 'time of day dropped from date "{}" (the column is a date)', F("t"))
        )
        if not with_time
        else pl.lit(None, pl.Utf8)
    )
    if excel_serial:
        serial: Stage = {
            "num": pl.when(F("hs").str.contains(_SERIAL_TEXT)).then(
                F("hs").cast(pl.Float64, strict=False)
            )
        }
    else:
        serial = {"num": pl.lit(None, pl.Float64)}
    return [
        {"fast": F("h").str.contains(_DATE_PLAIN)},
        {"hs": _only(~F("fast"), F("h"))},
        {
            "a": F("hs").str.extract_groups(_DATE_SEP + _TIME),
            "b": F("hs").str.extract_groups(_DATE_COMPACT),
            **serial,
            "numeric": F("hs").str.contains(_SERIAL_TEXT).fill_null(False),
        },
        {
            **{
                k: pl.coalesce(F("a").struct.field(k), F("b").struct.field(k))
                for k in ("y", "m", "d", "H", "M", "S")
            },
            "f": F("a").struct.field("f"),
            "serial": pl.when(F("num").is_between(first, last + 1, closed="left")).then(F("num")),
        },
        {
            "clock_ok": F("H").is_null()
            | ((hh < 24) & (mm < 60) & (ss.is_null() | (ss < 60))).fill_null(False),
            "clock_set": ((hh > 0) | (mm > 0) | (ss > 0) | F("f").str.contains("[1-9]")).fill_null(
                False
            ),
        },
        {
            "v0": pl.when(F("fast"))
            .then(fast_value)
            .when(F("clock_ok"))
            .then(pl.coalesce(parsed, from_serial))
        },
        # years 0 to 999 are typing errors (and Python has no year 0): not a date
        {"value": pl.when(F("v0").dt.year() >= 1000).then(F("v0"))},
        *timed,
        {
            "issue": pl.when(F("value").is_null() & F("numeric") & F("serial").is_null())
            .then(
                _fmt(
                    F("value").is_null() & F("numeric"),
                    f'number "{{}}" in a {label} column is not a {label}'
                    + (
                        " (Excel day numbers are read as dates from {} to {})".format(
                            *dates.EXCEL_SERIAL_DATES
                        )
                        if excel_serial
                        else " (if the agency wrote Excel day numbers, set excel_serial: true)"
                    ),
                    F("t"),
                )
            )
            .when(F("value").is_null())
            .then(_fmt(F("value").is_null(), f'unparseable {label} "{{}}"', F("t")))
            .otherwise(note)
        },
    ]


# --------------------------------------------------------------------------- numbers
#
# One grammar for written numbers. `.` is the decimal point and `,` groups thousands (as in
# every Chinese agency file): groups of exactly three digits, or none at all. Anything else —
# `1.234,50`, `12,34`, `1,2,3,4`, `1 234`, `1,234.5.6` — has more than one reading and is not read.

_INT_PART = r"(?<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)"
# digits separated by a space (`1 234,50`): two numbers or a foreign grouping, never guessed
_INNER_SPACE = r"[0-9.,]\s+[0-9.,]"

# money: [-+] [¥ ￥ RMB CNY 人民币] [-+] digits [.digits] [万|亿] [元] [整], or in accountants'
# brackets for a negative amount: (12.30)
_MONEY_RE = (
    r"^(?<s1>[-+−]?)(?:[¥￥]|(?i:RMB|CNY)|人民币)?(?<s2>[-+−]?)"
    + _INT_PART
    + r"?(?:\.(?<frac>[0-9]*))?(?<unit>万|亿)?(?:元|圆)?整?$"
)
# decimals an amount may have: fen (2), more before 万 (10^4) and 亿 (10^8)
_MONEY_SCALE = {"万": 4, "亿": 8}
_NOISE = "0.000001"  # how far a binary-float artefact may lie from its amount in fen

# A plain amount (`1234.5`, `-12.50`) needs none of the grammar: cast directly.
_MONEY_PLAIN = r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$"

_MONEY: list[Stage] = [
    {"fast": F("h").str.contains(_MONEY_PLAIN)},
    {"hs": _only(~F("fast"), F("h"))},
    {
        "spaced": F("hs").str.contains(_INNER_SPACE).fill_null(False),
        "u": F("hs").str.replace_all(r"\s+", ""),
    },
    {"paren": F("u").str.contains(r"^\(.*\)$").fill_null(False)},
    {
        "g": pl.when(F("paren"))
        .then(F("u").str.slice(1, F("u").str.len_chars() - 2))
        .otherwise(F("u"))
        .str.extract_groups(_MONEY_RE)
    },
    {
        "int": F("g").struct.field("int").str.replace_all(",", "", literal=True),
        "frac": F("g").struct.field("frac"),
        "unit": F("g").struct.field("unit"),
        "signs": F("g").struct.field("s1") + F("g").struct.field("s2"),
    },
    {
        "digits": pl.coalesce(F("int"), pl.lit("")) + pl.coalesce(F("frac"), pl.lit("")),
        # zeros at the end of the decimals change nothing
        "dec": pl.coalesce(F("frac"), pl.lit("")).str.strip_chars_end("0"),
        "allowed": pl.lit(2)
        + F("unit").replace_strict(_MONEY_SCALE, default=0, return_dtype=pl.Int64).fill_null(0),
    },
    {
        "shape_ok": (F("digits").str.len_bytes() > 0)
        & (F("signs").str.len_chars() <= 1)
        & ~(F("paren") & (F("signs").str.len_chars() > 0))
        & ~F("spaced"),
        # Excel keeps 15 significant digits: 16 or more are a float printed in full
        # (0.30000000000000004), which stands for the amount Excel shows
        "float_text": F("digits").str.strip_chars_start("0").str.len_bytes() >= 16,
        "num": (pl.coalesce(F("int"), pl.lit("0")) + "." + F("dec").str.slice(0, 12)).cast(
            pl.Decimal(38, 12), strict=False
        ),
    },
    {
        "scaled": pl.when(F("unit") == "万")
        .then(_only((F("unit") == "万") & (F("num").abs() < 10**22), F("num")) * 10_000)
        .when(F("unit") == "亿")
        .then(_only((F("unit") == "亿") & (F("num").abs() < 10**18), F("num")) * 100_000_000)
        .otherwise(F("num")),
        "negative": F("paren") | F("signs").is_in(["-", "−"]),
    },
    {"fen": F("scaled").round(2, mode="half_away_from_zero")},
    {
        "exact": F("dec").str.len_bytes() <= F("allowed"),
        "noise": F("float_text")
        & ((F("scaled") - F("fen")).abs() <= pl.lit(_NOISE).cast(pl.Decimal(38, 12))),
    },
    {
        "value": pl.when(F("fast"))
        .then(_only(F("fast"), F("h")).cast(pl.Decimal(18, 2), strict=False))
        .when(F("shape_ok") & (F("exact") | F("noise")))
        .then(
            pl.when(F("negative"))
            .then(-F("fen"))
            .otherwise(F("fen"))
            .cast(pl.Decimal(18, 2), strict=False)
        ),
        "sub_fen": F("shape_ok") & ~F("exact") & ~F("noise"),
    },
    {
        "issue": pl.when(F("value").is_null() & F("sub_fen"))
        .then(
            _fmt(
                F("sub_fen"),
                'amount "{}" has decimals below one fen (0.01); not rounded, left empty',
                F("t"),
            )
        )
        .when(F("value").is_null())
        .then(_fmt(F("value").is_null(), 'unparseable amount "{}"', F("t")))
    },
]

_INT: list[Stage] = [
    {
        "spaced": F("h").str.contains(_INNER_SPACE),
        "g": F("h").str.extract_groups(r"^(?<sign>[-+]?)" + _INT_PART + r"(?:\.0*)?$"),
    },
    {
        "value": pl.when(~F("spaced")).then(
            (
                F("g").struct.field("sign").str.replace("+", "", literal=True)
                + F("g").struct.field("int").str.replace_all(",", "", literal=True)
            ).cast(pl.Int64, strict=False)
        )
    },
    {
        "issue": pl.when(F("value").is_null()).then(
            _fmt(F("value").is_null(), 'not an integer "{}"', F("t"))
        )
    },
]

_DECIMAL: list[Stage] = [
    {
        "spaced": F("h").str.contains(_INNER_SPACE),
        "g": F("h").str.extract_groups(
            r"^(?<sign>[-+]?)" + _INT_PART + r"?(?<rest>(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)$"
        ),
    },
    {
        "u": F("g").struct.field("sign")
        + pl.coalesce(F("g").struct.field("int").str.replace_all(",", "", literal=True), pl.lit(""))
        + F("g").struct.field("rest")
    },
    {
        "value": pl.when(
            ~F("spaced") & F("u").str.contains(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
        ).then(F("u").cast(pl.Float64, strict=False))
    },
    {
        "issue": pl.when(F("value").is_null()).then(
            _fmt(F("value").is_null(), 'unparseable number "{}"', F("t"))
        )
    },
]


_TRUE = ("是", "y", "yes", "true", "t", "1", "1.0", "√", "✓", "✔", "有", "对")
_FALSE = ("否", "n", "no", "false", "f", "0", "0.0", "×", "✗", "✘", "无", "错")
_BOOL_MAP = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}

_BOOL: list[Stage] = [
    {
        "value": F("h")
        .str.to_lowercase()
        .replace_strict(_BOOL_MAP, default=None, return_dtype=pl.Boolean)
    },
    {
        "issue": pl.when(F("value").is_null()).then(
            _fmt(F("value").is_null(), 'not a yes/no value "{}"', F("t"))
        )
    },
]

# --------------------------------------------------------------------------- names and addresses

# Traditional and variant characters fold to simplified in the matching keys (not in the values).


@functools.cache
def _fold_lists() -> tuple[str, list[str], list[str]]:
    """The regex of the characters `hanzi.fold` changes, and the table as two lists."""
    table = hanzi.fold_table()
    return f"[{''.join(table)}]", list(table), list(table.values())


def _fold_series(s: pl.Series) -> pl.Series:
    """`hanzi.fold` on each text of `s` (Python's `str.translate`)."""
    fold = hanzi.fold
    return pl.Series(s.name, [None if v is None else fold(v) for v in s.to_list()], pl.Utf8)


# Two ways to fold, one mapping (every key and value of the table is one Han character, so
# both replace character by character; tests/test_hanzi.py compares them): polars'
# `replace_many` for ingest, whose batches of 250,000 rows pay once for the 5,000-pattern
# automaton polars builds at every call; Python's `str.translate`, on the rows holding a
# character to fold, for a SQL function, which DuckDB calls per chunk of 2,048 rows (0.02 s
# per chunk for the automaton, more than the chunk's other work).
def _fold_polars(e: pl.Expr) -> pl.Expr:
    needs, src, dst = _fold_lists()
    return _where_needed(e, needs, lambda x: x.str.replace_many(src, dst))


def _fold_python(e: pl.Expr) -> pl.Expr:
    return _where_needed(
        e,
        _fold_lists()[0],
        lambda x: x.map_batches(_fold_series, return_dtype=pl.Utf8, is_elementwise=True),
    )


def fold_hanzi(s: _T) -> _T:
    """Traditional and variant characters folded to simplified, one character at a time
    (`collide.standards.hanzi`): 陳偉 → 陈伟. For matching keys only: a value shown to a
    prosecutor keeps the agency's writing."""
    if isinstance(s, pl.Expr):
        return _fold_polars(s)
    name = s.name
    return s.rename("_v").to_frame().select(_fold_python(pl.col("_v"))).to_series().rename(name)


_DOTS = ["•", "．", "・", "‧", "∙", "⋅", "･"]

_PERSON: list[Stage] = [
    {
        "has_han": F("t").str.contains(_HAN),
        "h": F("h").str.replace_many(_DOTS, ["·"] * len(_DOTS)),
    },
    {
        # In a Chinese name an ASCII dot is a mistyped middle dot (阿卜杜.买买提); in Latin names
        # it is not. Chinese names have no spaces; Latin names keep one.
        "value": pl.when(F("has_han"))
        .then(
            _where_needed(F("h"), r"\s", lambda e: e.str.replace_all(r"\s+", "")).str.replace_all(
                ".", "·", literal=True
            )
        )
        .otherwise(_where_needed(F("h"), r"\s", lambda e: e.str.replace_all(r"\s+", " ")))
    },
    {
        "issue": pl.when(F("value").str.contains(r"\d")).then(
            _fmt(F("value").str.contains(r"\d"), 'person name contains digits "{}"', F("t"))
        )
    },
]


def person_name_norm(s: _T) -> _T:
    """Person name: no inner spaces (Chinese), half-width, one middle-dot form `·`."""
    return _on(s, _PERSON)


def person_name_key(s: _T) -> _T:
    """Matching key of a person name: `person_name_norm`, then traditional and variant
    characters folded (陳偉 and 陈伟 are one key)."""
    return fold_hanzi(person_name_norm(s))


# Punctuation is dropped from matching keys. The common marks go in one Aho-Corasick pass (each
# is in `_PUNCT_RE`); the regex then runs only on the keys that still hold some. Only letters
# outside ASCII upper case and Han can change when upper-cased.
_PUNCT_RE = r"[\s\p{P}\p{S}]"
_COMMON_PUNCT = list("（）()【】[]《》<>「」『』“”‘’\"'·.,，、。-—_/\\&+:：;；") + [" ", "\u3000"]
_MAY_CHANGE_CASE = r"[^\x00-\x60\x7B-\x7F\p{Han}]"


# Each step of a key reads the field the step before wrote (`_k1`, `_k2`, …), not that step's
# expression: `_where_needed(e, …)` names `e` three times, so rewrites nested in one another
# would evaluate the innermost — the traditional-character fold, an Aho-Corasick automaton of
# 5,000 characters built per call — 2 ** depth times (8 here: 0.14 s per 2,048-row chunk a SQL
# function gets, instead of 0.03 s).
def _org_stages(fold: Callable[[pl.Expr], pl.Expr]) -> list[Stage]:
    return [
        {"_b": F("h").str.replace_many(["(", ")"], ["（", "）"])},
        {"value": _collapse_spaces(F("_b"), F("h").str.contains(_HAN))},
        {"_k1": fold(F("value"))},
        {
            # 有限责任公司 and 有限公司 are one legal form written two ways; 股份有限公司
            # (joint-stock) is a different form and stays distinct; 分公司 (a branch) is a
            # different organisation.
            "_k2": _where_needed(
                F("_k1"),
                "有限责任公司",
                lambda e: e.str.replace_all("有限责任公司", "有限公司", literal=True),
            ).str.replace_many(_COMMON_PUNCT, [""] * len(_COMMON_PUNCT))
        },
        {"_k3": _where_needed(F("_k2"), _PUNCT_RE, lambda e: e.str.replace_all(_PUNCT_RE, ""))},
        {
            "key": _where_needed(F("_k3"), _MAY_CHANGE_CASE, lambda e: e.str.to_uppercase()),
            "issue": pl.lit(None, dtype=pl.Utf8),
        },
    ]


_ORG = _org_stages(_fold_polars)  # ingest (expressions)
_ORG_SERIES = _org_stages(_fold_python)  # a Series: what a SQL function is given


def org_name_norm(s: _T) -> _T:
    """Organisation name for display: half-width letters/digits, Chinese brackets `（）`."""
    return _on(s, _ORG if isinstance(s, pl.Expr) else _ORG_SERIES)


def org_key(s: _T) -> _T:
    """Matching key for an organisation name: traditional and variant characters folded first
    (北京華信 → 北京华信, 有限責任公司 → 有限责任公司), then bracket chars, spaces,
    punctuation and the 有限责任公司/有限公司 variant removed, so spelling variants of one company
    collide."""
    return _on(s, _ORG if isinstance(s, pl.Expr) else _ORG_SERIES, "key")


def _address_stages(fold: Callable[[pl.Expr], pl.Expr]) -> list[Stage]:
    return [
        {"value": _collapse_spaces(F("h"), F("h").str.contains(_HAN))},
        {
            # Dashes separate building-unit-room (3-2-301); dropping them would make 3-23-01 equal
            # 3-2-301, so they stay (unified) in the key.
            "key": fold(F("value"))
            .str.replace_many(["#"], ["号"])
            .str.replace_many(["号楼", "幢"], ["栋", "栋"])
            .str.replace_all(r"[—–‐－~～]", "-")
            .str.replace_all(r"[\s\p{P}\p{S}&&[^-]]", "")
            .str.to_uppercase(),
            "issue": pl.lit(None, dtype=pl.Utf8),
        },
    ]


_ADDRESS = _address_stages(_fold_polars)
_ADDRESS_SERIES = _address_stages(_fold_python)


def address_key(s: _T) -> _T:
    """Matching key for an address: traditional and variant characters folded first (號樓 →
    号楼), no spaces or punctuation, 号楼/幢 → 栋, `#` → 号."""
    return _on(s, _ADDRESS if isinstance(s, pl.Expr) else _ADDRESS_SERIES, "key")


# --------------------------------------------------------------------------- phone, area code

_PHONE: list[Stage] = [
    {
        "several": F("h").str.contains(r"\d[^\d]*[/,;、，；][^\d]*\d"),
        "digits": F("h")
        .str.extract(r"^([^/,;、，；]*)", 1)
        .str.replace_all(r"[^0-9]", "")
        .str.replace(r"^(?:0086|86)(1[3-9]\d{9})$", "$1"),
    },
    {
        "value": pl.when(F("digits").str.len_bytes() > 0).then(F("digits")),
        # mobile, or 0 + 2-3 digit area code + 7-8 digit number
        "ok": F("digits").str.contains(r"^1[3-9]\d{9}$|^0[1-9]\d{8,10}$"),
        "landline": F("digits").str.contains(r"^[2-9]\d{6,7}$"),
    },
    {
        "issue": pl.when(F("value").is_null())
        .then(_fmt(F("value").is_null(), 'no phone number in "{}"', F("t")))
        .when(F("several"))
        .then(_fmt(F("several"), 'several phone numbers "{}", kept the first', F("t")))
        .when(F("landline"))
        .then(_fmt(F("landline"), 'landline without area code "{}"', F("t")))
        .when(~F("ok"))
        .then(_fmt(~F("ok"), 'invalid phone number "{}"', F("t")))
    },
]

_AREA: list[Stage] = [
    {"u": F("h").str.replace(r"\.0*$", "")},
    {
        # The 12-digit statistical division code of a county ends in six zeros.
        "value": pl.when(F("u").str.contains(r"^\d{6}(0{6})?$")).then(F("u").str.slice(0, 6))
    },
    {
        "issue": pl.when(F("value").is_null()).then(
            _fmt(F("value").is_null(), 'invalid area code "{}" (expected 6 digits)', F("t"))
        )
    },
]

_STRING: list[Stage] = [{"value": F("t"), "issue": pl.lit(None, dtype=pl.Utf8)}]

# --------------------------------------------------------------------------- column_exprs


@dataclass(frozen=True)
class SemanticExprs:
    """Expressions that turn one raw column into its normalised form.

    `value` is aliased to the output name, `issue` to `<name>_issue`, `fatal` to `<name>_fatal`,
    and `extra` holds `<name>_key` for org_name and address.

    Each of them evaluates the whole parse on its own (polars does not share work between
    struct stages). `struct` computes everything once, as a struct holding `value`, `issue`,
    `fatal`, `key` (when keyed) and intermediate fields:
    `lf.with_columns(e.struct.alias("_s")).select(pl.col("_s").struct.field("value", ...))`.
    """

    value: pl.Expr
    issue: pl.Expr
    fatal: pl.Expr
    extra: list[pl.Expr] = field(default_factory=list)
    struct: pl.Expr | None = None
    # (condition, struct): for the cells where the condition holds (never null), a much cheaper
    # struct with the same `value`, `issue`, `fatal` as `struct` (see `_FAST`); None for most
    fast: tuple[pl.Expr, pl.Expr] | None = None


# --------------------------------------------------------------------------- fast paths
#
# Most cells of a mostly-distinct column (IDs, amounts) are already in canonical form. For
# those, the whole parse reduces to a few vectorised operations; `ingest` computes the fast
# struct where the condition holds and the full parse on the other rows only. Each fast path
# gives exactly what the full parse gives on the cells its condition admits — the test suite
# checks this on every admitted edge case and on a large random sample.


def _fast_id(c: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """An 18-character ID with nothing to clean (no spaces, full-width forms or lowercase x):
    only the checks of `_id_checks` and the Excel-"000" test remain."""
    stages: list[Stage] = [
        {"norm": F("raw"), "b": F("raw").str.slice(0, 17).cast(pl.Int64, strict=False)},
        _id_checks(F("b"), F("raw").str.slice(17, 1)),
        *_id_verdict(~F("raw").str.ends_with("X"), F("raw")),
        {
            "value": pl.when(~F("lost")).then(F("raw")),
            "issue": _join(F("id_issue"), pl.when(~F("lost")).then(F("area_issue"))).cast(pl.Utf8),
            "fatal": F("lost"),
        },
    ]
    return c.str.contains(cn_id.SHAPE_18), _run(c, stages)


# `1234.5`, `-1,234.50`, `12.50元`: digits, rightly grouped thousands, at most two decimals and
# at most 15 integer digits, so the cast is exact and fits Decimal(18, 2) (no rounding).
_MONEY_SIMPLE = r"^-?(?:[0-9]{1,15}|[0-9]{1,3}(?:,[0-9]{3}){1,4})(?:\.[0-9]{1,2})?元?$"


def _fast_money(c: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    plain = c.str.replace_all(",", "", literal=True).str.strip_suffix("元")
    value = plain.cast(pl.Decimal(18, 2), strict=False)
    return c.str.contains(_MONEY_SIMPLE), pl.struct(
        value.alias("value"), pl.lit(None, pl.Utf8).alias("issue"), pl.lit(False).alias("fatal")
    )


def _plain(value: pl.Expr) -> pl.Expr:
    """The struct of a cell that needs nothing but its value: no issue, not fatal."""
    return pl.struct(
        value.alias("value"), pl.lit(None, pl.Utf8).alias("issue"), pl.lit(False).alias("fatal")
    )


# Digits with an optional minus and no grouping: what `_INT` / `_DECIMAL` reduce them to is the
# cell itself, so the cast is the whole parse (18 digits always fit Int64; 15 + 15 a double).
_INT_SIMPLE = r"^-?[0-9]{1,18}$"
_DECIMAL_SIMPLE = r"^-?[0-9]{1,15}(?:\.[0-9]{1,15})?$"
# text with no surrounding whitespace and no zero-width characters: `_TEXT` leaves it as is
_STRING_CHANGED = r"^\s|\s$|" + _ZW_RE


def _fast_int(c: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    return c.str.contains(_INT_SIMPLE), _plain(c.cast(pl.Int64, strict=False))


def _fast_decimal(c: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    return c.str.contains(_DECIMAL_SIMPLE), _plain(c.cast(pl.Float64, strict=False))


def _fast_date(c: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """`2023-05-01`, `2023/5/1`, `2023.5.1` that are real dates from year 1000: the parse's own
    direct reading of that spelling, with none of its other branches."""
    value = c.str.replace_many(["/", "."], ["-", "-"]).str.to_date("%Y-%m-%d", strict=False)
    ok = c.str.contains(_DATE_PLAIN) & (value.dt.year() >= 1000)
    return ok, _plain(value)


def _fast_string(c: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    return (c.str.len_bytes() > 0) & ~c.str.contains(_STRING_CHANGED), _plain(c)


_FAST: dict[str, Callable[[pl.Expr], tuple[pl.Expr, pl.Expr]]] = {
    "cn_id": _fast_id,
    "money": _fast_money,
    "int": _fast_int,
    "decimal": _fast_decimal,
    "string": _fast_string,
    "date": _fast_date,
}


def _fast(sem_type: str, src: str) -> tuple[pl.Expr, pl.Expr] | None:
    """The fast path of column `src` (its condition false, never null, on an empty cell)."""
    if sem_type not in _FAST:
        return None
    cond, struct = _FAST[sem_type](pl.col(src).cast(pl.Utf8))
    return cond.fill_null(False), struct


_STAGES: dict[str, list[Stage]] = {
    "string": _STRING,
    "int": _INT,
    "decimal": _DECIMAL,
    "money": _MONEY,
    "date": _date_stages(with_time=False),
    "datetime": _date_stages(with_time=True),
    # (with `excel_serial: true` on the column: see `column_exprs`)
    "bool": _BOOL,
    "cn_id": _ID,
    "cn_uscc": _USCC,
    "person_name": _PERSON,
    "org_name": _ORG,
    "phone": _PHONE,
    "address": _ADDRESS,
    "area_code": _AREA,
}

# output dtype of each semantic type, from its SQL type in the one table
_POLARS: dict[str, pl.DataType] = {
    "VARCHAR": pl.Utf8(),
    "BIGINT": pl.Int64(),
    "DOUBLE": pl.Float64(),
    "DECIMAL(18,2)": pl.Decimal(18, 2),
    "DATE": pl.Date(),
    "TIMESTAMP": pl.Datetime("us"),
    "BOOLEAN": pl.Boolean(),
}
_DTYPE: dict[str, pl.DataType] = {name: _POLARS[t.duckdb] for name, t in TYPES.items()}


def _finish(sem_type: str) -> list[Stage]:
    """Placeholders, fatal flag and output dtypes, common to every type."""
    if sem_type == "string":
        placeholder = pl.lit(False)
    else:
        # "长期", "/", "无" mean "nothing here": empty and noted, not an error. For bool, 无 means
        # "no", so there a placeholder only counts when the value did not parse.
        short = _only(F("h").str.len_bytes() <= _PLACEHOLDER_BYTES, F("h"))
        placeholder = _only(
            F("h").is_not_null(),
            short.str.to_lowercase().is_in(list(_PLACEHOLDERS)).fill_null(False),
        )
        if sem_type == "bool":
            placeholder = placeholder & F("value").is_null()
    label = TYPES[sem_type].label
    note = _fmt(F("placeholder"), f'placeholder {label} "{{}}" read as empty', F("t"))
    final: Stage = {
        "value": pl.when(~F("placeholder")).then(F("value")).cast(_DTYPE[sem_type]),
        "issue": pl.when(F("t").is_null())
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(F("placeholder"))
        .then(note)
        .otherwise(F("issue").cast(pl.Utf8)),
    }
    if sem_type in KEYED_TYPES:
        final["key"] = pl.when(~F("placeholder")).then(F("key"))
    return [
        {"placeholder": placeholder},
        final,
        {
            "fatal": (F("t").is_not_null() & F("value").is_null() & ~F("placeholder")).fill_null(
                False
            )
        },
    ]


def column_exprs(
    src: str, name: str, sem_type: str, crs: str | None = None, excel_serial: bool = False
) -> SemanticExprs:
    """Build the value / issue / fatal / extra expressions for column `src` of type `sem_type`.

    `src` may hold strings or numbers (parquet, databases); it is cast to text first so every
    source goes through the same rules. `crs` is the coordinate system of a geometry column.
    `excel_serial` (date and datetime only): the column's text holds Excel day numbers, read as
    dates in `dates.EXCEL_SERIAL_DATES`.
    """
    if sem_type == "geometry":  # shapely over whole batches, not polars: ingest/geometry.py
        from collide.ingest.geometry import geometry_exprs

        return SemanticExprs(**geometry_exprs(src, name, crs))
    if sem_type not in _STAGES:
        raise ValueError(f"unknown semantic type {sem_type!r}; expected one of {SEMANTIC_TYPES}")
    stages = _STAGES[sem_type]
    if excel_serial and sem_type in ("date", "datetime"):
        stages = _date_stages(with_time=sem_type == "datetime", excel_serial=True)
    # `string` keeps the cell as written: it needs no half-width form (`h`)
    text = _TEXT[:2] if sem_type == "string" else _TEXT
    r = _run(pl.col(src), text + stages + _finish(sem_type))
    extra = [r.struct.field("key").alias(f"{name}_key")] if sem_type in KEYED_TYPES else []
    return SemanticExprs(
        value=r.struct.field("value").alias(name),
        issue=r.struct.field("issue").alias(f"{name}_issue"),
        fatal=r.struct.field("fatal").alias(f"{name}_fatal"),
        extra=extra,
        struct=r,
        fast=_fast(sem_type, src),
    )


# --------------------------------------------------------------------------- masking


def mask_id_expr(e: pl.Expr) -> pl.Expr:
    """`masking.mask_id` for a column (the SQL `mask_id` function), vectorised."""
    v = e.cast(pl.Utf8).str.strip_chars()
    n = v.str.len_chars()
    head, tail = v.str.slice(0, 6), v.str.slice(n - 4, 4)
    return (
        pl.when(v.str.contains(masking.ID_VALUE))
        .then(
            head
            + pl.when(n == 18)
            .then(pl.lit("*" * masking.stars(18)))
            .otherwise(pl.lit("*" * masking.stars(15)))
            + tail
        )
        .otherwise(e.cast(pl.Utf8))
    )
