"""Semantic types: how a raw agency cell becomes a clean, comparable value.

Agency extracts are messy in known ways (see DOMAIN.md): full-width digits, lowercase `x` in IDs,
Excel-mangled IDs, a dozen date spellings, money with units, company names with mixed brackets.
Each semantic type is a set of polars expressions, so normalising ten million rows is a vectorised
pass with no Python per cell. The same expressions back the SQL functions in `functions.py`.

A value is never silently "fixed": an ID with a bad checksum is kept and reported (it is a finding
about the agency's data); a value that cannot be trusted (an ID with its last digits lost by Excel)
becomes null, is marked fatal, and says why.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, get_args

import polars as pl

from collide.config.specs import SemanticType

# One list of semantic types: the one connector files are validated against.
SEMANTIC_TYPES: tuple[str, ...] = get_args(SemanticType)

__all__ = [
    "SEMANTIC_TYPES",
    "SemanticExprs",
    "address_key",
    "column_exprs",
    "id_birth",
    "id_gender",
    "id_norm",
    "id_valid",
    "mask_id",
    "mask_id_expr",
    "mask_id_text",
    "org_key",
    "org_name_norm",
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

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_MANGLED_FIX = "unrecoverable; ask the agency for the file with IDs as text"


@functools.cache
def _block_sums(first: int, size: int) -> pl.Series:
    """For every `size`-digit block v, the weighted digit sum of v placed at digit `first` of
    the 17-digit body (a table of 10**size integers)."""
    v = pl.int_range(0, 10**size, dtype=pl.Int64, eager=True)
    weights = _ID_WEIGHTS[first : first + size]
    return pl.select(
        sum(((v // 10 ** (size - 1 - k)) % 10) * w for k, w in enumerate(weights))
    ).to_series()


def _id_check_sum(body: pl.Expr) -> pl.Expr:
    """The weighted digit sum of a 17-digit body given as an integer: four 4-digit blocks by
    table lookup and the last digit (one pass per block instead of one per digit)."""
    total = (body % 10) * _ID_WEIGHTS[16]
    for k, first in enumerate((0, 4, 8, 12)):
        block = body // 10 ** (13 - first) % 10_000 if k else body // 10**13
        total = total + pl.lit(_block_sums(first, 4)).gather(block)
    return total


def _id_check_int(body: pl.Expr) -> pl.Expr:
    """The check character of a 17-digit body given as an integer, by integer arithmetic
    (one string→int parse per value instead of 17 one-character slices)."""
    return (_id_check_sum(body) % 11).replace_strict(
        list(range(11)), list("10X98765432"), default=None, return_dtype=pl.Utf8
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


_TODAY = _dt.date.today()
_TODAY_YMD = _TODAY.year * 10_000 + _TODAY.month * 100 + _TODAY.day
_SHAPED_ID = r"^[0-9]{17}[0-9X]$"
_ID_LOST_000 = 'ID mangled by Excel (last digits lost as 000) "{}", ' + _MANGLED_FIX
_ID_BAD_BIRTH = 'invalid birth date in ID "{}"'
_ID_BAD_CHECK = 'invalid ID checksum "{}"'

# Most IDs already have the 18-character shape: for them only the checksum and birth date are
# computed (on integers). The regexes for Excel-mangled, 15-digit and odd values run only on the
# rest (`r`, null for shaped rows).
_ID: list[Stage] = [
    {
        "s": _where_needed(
            F("h"), r"[^0-9X]", lambda e: e.str.replace_all(r"\s+", "").str.to_uppercase()
        )
    },
    {"shaped": F("s").str.contains(_SHAPED_ID), "n": F("s").str.len_chars()},
    {"r": _only(~F("shaped"), F("s"))},
    {
        "sci": pl.when(F("shaped"))
        .then(False)
        .otherwise(F("r").str.contains(r"^[0-9]+(\.[0-9]*)?E[+-]?[0-9]+$")),
        "floaty": pl.when(F("shaped"))
        .then(False)
        .otherwise(F("r").str.contains(r"^[0-9]{18}\.0*$")),
        "plain": F("shaped") & ~F("s").str.ends_with("X"),
        "legacy": pl.when(F("shaped")).then(False).otherwise(F("r").str.contains(r"^[0-9]{15}$")),
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
    {
        "check_ok": F("norm").str.slice(17, 1) == F("check"),
        "birth_ok": _real_yyyymmdd(F("b") // 1000 % 100_000_000, 18800101, _TODAY_YMD).fill_null(
            False
        ),
    },
    # Excel keeps 15 significant digits: an 18-digit ID typed as a number ends in "000" (or shows
    # as 1.10101E+17). Such a value cannot be repaired, only reported.
    {
        "mangled": F("sci")
        | ((F("floaty") | (F("plain") & F("norm").str.ends_with("000"))) & ~F("check_ok"))
    },
    {"bad_n": F("norm").is_null() & ~F("n").is_in([15, 18])},
    {
        "value": pl.when(~F("mangled")).then(F("norm")),
        "valid": pl.when(F("t").is_not_null()).then(
            (F("norm").is_not_null() & ~F("mangled") & F("birth_ok") & F("check_ok")).fill_null(
                False
            )
        ),
        "issue": pl.when(F("sci"))
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
        .when(~F("birth_ok"))
        .then(_fmt(~F("birth_ok"), _ID_BAD_BIRTH, F("norm")))
        .when(~F("check_ok"))
        .then(_fmt(~F("check_ok"), _ID_BAD_CHECK, F("norm")))
        .when(F("legacy"))
        .then(_fmt(F("legacy"), 'legacy 15-digit ID "{}" upgraded to 18 digits', F("t"))),
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
    """True when the ID has a real shape, birth date and checksum (15-digit legacy IDs count)."""
    return _on(s, _ID, "valid")


def id_birth(s: _T) -> _T:
    """Birth date from an ID (null when the ID is unusable or the date is impossible)."""
    return _on(s, _ID + _ID_EXTRA, "birth")


def id_gender(s: _T) -> _T:
    """'男' / '女' from the parity of the 17th digit (odd = male, GB 11643)."""
    return _on(s, _ID + _ID_EXTRA, "gender")


# --------------------------------------------------------------------------- USCC (GB 32100)

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_USCC: list[Stage] = [
    {"s": F("h").str.replace_all(r"\s+", "").str.to_uppercase()},
    {
        "shaped": F("s").str.contains(r"^[0-9A-HJ-NPQRTUWXY]{18}$"),
        "legacy_reg": F("s").str.contains(r"^[0-9]{15}$"),
        "legacy_org": F("s").str.contains(r"^[0-9A-Z]{8}-?[0-9X]$"),
        "total": sum(
            F("s").str.slice(i, 1).replace_strict(_USCC_VALUE, default=None, return_dtype=pl.Int64)
            * w
            for i, w in enumerate(_USCC_WEIGHTS)
        ),
    },
    {
        "check_ok": (
            F("s").str.slice(17, 1)
            == pl.lit(_USCC_ALPHABET).str.slice((31 - F("total") % 31) % 31, 1)
        ).fill_null(False)
    },
    {
        "value": pl.when(F("shaped") | F("legacy_reg"))
        .then(F("s"))
        .when(F("legacy_org"))
        .then(F("s").str.replace("-", "", literal=True)),
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
    """Normalised USCC (bad checksum and legacy codes kept), null when the shape is wrong."""
    return _on(s, _USCC)


def uscc_valid(s: _T) -> _T:
    """True for an 18-character USCC with a correct MOD 31 check character."""
    return _on(s, _USCC, "valid")


# --------------------------------------------------------------------------- dates

_DATE_SEP = r"^(?<y>\d{4})\s*[-/.年]\s*(?<m>\d{1,2})\s*[-/.月]\s*(?<d>\d{1,2})\s*日?"
_TIME = (
    r"(?:\s*T?\s*(?<H>\d{1,2})\s*[:时点]\s*(?<M>\d{1,2})\s*分?"
    r"(?:\s*:?\s*(?<S>\d{1,2})(?:\.(?<f>\d{1,9}))?\s*秒?)?)?\s*$"
)
_DATE_COMPACT = r"^(?<y>\d{4})(?<m>\d{2})(?<d>\d{2})(?:(?<H>\d{2})(?<M>\d{2})(?<S>\d{2})?)?$"
_DATE_PLAIN = r"^[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}$"
_EXCEL_EPOCH = _dt.datetime(1899, 12, 30)  # 1900 date system, after Excel's 1900-02-29 bug


def _date_stages(with_time: bool) -> list[Stage]:
    label = "datetime" if with_time else "date"
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
        from_serial = pl.lit(_EXCEL_EPOCH).dt.cast_time_unit("us") + pl.duration(
            microseconds=(F("serial") * 86_400_000_000).round(0).cast(pl.Int64)
        )
    else:
        text = pl.concat_str(
            [F("y"), pl.lit("-"), F("m").str.zfill(2), pl.lit("-"), F("d").str.zfill(2)]
        )
        parsed = text.str.to_date("%Y-%m-%d", strict=False)
        from_serial = pl.lit(_EXCEL_EPOCH.date()) + pl.duration(
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
    return [
        {"fast": F("h").str.contains(_DATE_PLAIN)},
        {"hs": _only(~F("fast"), F("h"))},
        {
            "a": F("hs").str.extract_groups(_DATE_SEP + _TIME),
            "b": F("hs").str.extract_groups(_DATE_COMPACT),
            "num": pl.when(F("hs").str.contains(r"^\d{5}(\.\d+)?$")).then(
                F("hs").cast(pl.Float64, strict=False)
            ),
        },
        {
            **{
                k: pl.coalesce(F("a").struct.field(k), F("b").struct.field(k))
                for k in ("y", "m", "d", "H", "M", "S")
            },
            "f": F("a").struct.field("f"),
            # Excel serial day numbers; the range (1954..2119) keeps other 5-digit numbers out.
            "serial": pl.when(F("num").is_between(20000, 80000, closed="left")).then(F("num")),
        },
        {"value": pl.when(F("fast")).then(fast_value).otherwise(pl.coalesce(parsed, from_serial))},
        {
            "issue": pl.when(F("value").is_null()).then(
                _fmt(F("value").is_null(), f'unparseable {label} "{{}}"', F("t"))
            )
        },
    ]


# --------------------------------------------------------------------------- numbers

_MONEY_RE = r"^(?<sign>[-+]?)(?<num>\d+(?:\.\d*)?|\.\d+)(?<unit>万|亿)?元?$"

# A plain amount (`1234.5`, `-12.50`) is cast directly; units, separators and brackets go
# through the full parse (on `hs`, null for plain amounts).
_MONEY_PLAIN = r"^-?[0-9]{1,24}(\.[0-9]{1,6})?$"

_MONEY: list[Stage] = [
    {"fast": F("h").str.contains(_MONEY_PLAIN)},
    {"hs": _only(~F("fast"), F("h"))},
    {"u": F("hs").str.replace_all(r"(?i)[\s,¥￥]|RMB|CNY|人民币", "")},
    {"paren": F("u").str.contains(r"^\(.*\)$")},  # accountants' negative: (12.50)
    {
        "g": pl.when(F("paren"))
        .then(F("u").str.strip_chars("()"))
        .otherwise(F("u"))
        .str.extract_groups(_MONEY_RE)
    },
    {
        "num": pl.when(F("fast"))
        .then(_only(F("fast"), F("h")).str.strip_prefix("-"))
        .otherwise(F("g").struct.field("num"))
        .cast(pl.Decimal(38, 6), strict=False),
        "unit": F("g").struct.field("unit"),
        "negative": pl.when(F("fast"))
        .then(F("h").str.starts_with("-"))
        .otherwise(F("paren") | (F("g").struct.field("sign") == "-")),
    },
    {
        # multiplied only where the unit says so (a long plain amount must not overflow here)
        # Multiplied only where the unit says so, and only when the product fits Decimal(38, 6)
        # (a bigger one could not be an amount of Decimal(18, 2) anyway: unparseable, no crash).
        "scaled": pl.when(F("unit") == "万")
        .then(_only((F("unit") == "万") & (F("num").abs() < 10**27), F("num")) * 10_000)
        .when(F("unit") == "亿")
        .then(_only((F("unit") == "亿") & (F("num").abs() < 10**23), F("num")) * 100_000_000)
        .otherwise(F("num"))
    },
    {
        # 四舍五入 (half away from zero) is how Chinese accounts round to the fen.
        "value": pl.when(F("negative"))
        .then(-F("scaled"))
        .otherwise(F("scaled"))
        .round(2, mode="half_away_from_zero")
        .cast(pl.Decimal(18, 2), strict=False)
    },
    {
        "issue": pl.when(F("value").is_null()).then(
            _fmt(F("value").is_null(), 'unparseable amount "{}"', F("t"))
        )
    },
]

_INT: list[Stage] = [
    {"u": F("h").str.replace_all(r"[\s,]", "")},
    {
        "value": pl.when(F("u").str.contains(r"^[-+]?\d+(\.0*)?$")).then(
            F("u").str.replace(r"\.0*$", "").cast(pl.Int64, strict=False)
        )
    },
    {
        "issue": pl.when(F("value").is_null()).then(
            _fmt(F("value").is_null(), 'not an integer "{}"', F("t"))
        )
    },
]

_DECIMAL: list[Stage] = [
    {"u": F("h").str.replace_all(r"[\s,]", "")},
    {
        "value": pl.when(F("u").str.contains(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")).then(
            F("u").cast(pl.Float64, strict=False)
        )
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


# Punctuation is dropped from matching keys. The common marks go in one Aho-Corasick pass (each
# is in `_PUNCT_RE`); the regex then runs only on the keys that still hold some. Only letters
# outside ASCII upper case and Han can change when upper-cased.
_PUNCT_RE = r"[\s\p{P}\p{S}]"
_COMMON_PUNCT = list("（）()【】[]《》<>「」『』“”‘’\"'·.,，、。-—_/\\&+:：;；") + [" ", "\u3000"]
_MAY_CHANGE_CASE = r"[^\x00-\x60\x7B-\x7F\p{Han}]"

_ORG: list[Stage] = [
    {
        "value": _collapse_spaces(
            F("h").str.replace_many(["(", ")"], ["（", "）"]), F("h").str.contains(_HAN)
        )
    },
    {
        # 有限责任公司 and 有限公司 are one legal form written two ways; 股份有限公司 (joint-stock)
        # is a different form and stays distinct; 分公司 (a branch) is a different organisation.
        "key": _where_needed(
            _where_needed(
                _where_needed(
                    F("value"),
                    "有限责任公司",
                    lambda e: e.str.replace_all("有限责任公司", "有限公司", literal=True),
                ).str.replace_many(_COMMON_PUNCT, [""] * len(_COMMON_PUNCT)),
                _PUNCT_RE,
                lambda e: e.str.replace_all(_PUNCT_RE, ""),
            ),
            _MAY_CHANGE_CASE,
            lambda e: e.str.to_uppercase(),
        ),
        "issue": pl.lit(None, dtype=pl.Utf8),
    },
]


def org_name_norm(s: _T) -> _T:
    """Organisation name for display: half-width letters/digits, Chinese brackets `（）`."""
    return _on(s, _ORG)


def org_key(s: _T) -> _T:
    """Matching key for an organisation name: bracket chars, spaces, punctuation and the
    有限责任公司/有限公司 variant removed, so spelling variants of one company collide."""
    return _on(s, _ORG, "key")


_ADDRESS: list[Stage] = [
    {"value": _collapse_spaces(F("h"), F("h").str.contains(_HAN))},
    {
        # Dashes separate building-unit-room (3-2-301); dropping them would make 3-23-01 equal
        # 3-2-301, so they stay (unified) in the key.
        "key": F("value")
        .str.replace_many(["#"], ["号"])
        .str.replace_many(["号楼", "幢"], ["栋", "栋"])
        .str.replace_all(r"[—–‐－~～]", "-")
        .str.replace_all(r"[\s\p{P}\p{S}&&[^-]]", "")
        .str.to_uppercase(),
        "issue": pl.lit(None, dtype=pl.Utf8),
    },
]


def address_key(s: _T) -> _T:
    """Matching key for an address: no spaces or punctuation, 号楼/幢 → 栋, `#` → 号."""
    return _on(s, _ADDRESS, "key")


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
    only the checksum, the birth date and the Excel-"000" test remain."""
    stages: list[Stage] = [
        {
            "b": F("raw").str.slice(0, 17).cast(pl.Int64, strict=False),
            # the check character as a number: X (the only letter admitted) is 10
            "last": F("raw").str.slice(17, 1).cast(pl.Int64, strict=False).fill_null(10),
        },
        {
            # "10X98765432"[sum % 11] as a number is (12 - sum % 11) % 11
            "check_ok": (12 - _id_check_sum(F("b")) % 11) % 11 == F("last"),
            "birth_ok": _real_yyyymmdd(F("b") // 1000 % 100_000_000, 18800101, _TODAY_YMD),
        },
        {"mangled": F("raw").str.ends_with("000") & ~F("check_ok")},
        {
            "value": pl.when(~F("mangled")).then(F("raw")),
            "issue": pl.when(F("mangled"))
            .then(_fmt(F("mangled"), _ID_LOST_000, F("raw")))
            .when(~F("birth_ok"))
            .then(_fmt(~F("birth_ok"), _ID_BAD_BIRTH, F("raw")))
            .when(~F("check_ok"))
            .then(_fmt(~F("check_ok"), _ID_BAD_CHECK, F("raw")))
            .cast(pl.Utf8),
            "fatal": F("mangled"),
        },
    ]
    return c.str.contains(_SHAPED_ID), _run(c, stages)


# `1234.5`, `-1,234.50`, `12.50元`: digits with thousands separators, at most two decimals and
# at most 15 integer digits, so the cast is exact and fits Decimal(18, 2) (no rounding).
_MONEY_SIMPLE = r"^-?[0-9,]+(\.[0-9]{1,2})?元?$"
_MONEY_EXACT = r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$"


def _fast_money(c: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    plain = c.str.replace_all(",", "", literal=True).str.strip_suffix("元")
    cond = c.str.contains(_MONEY_SIMPLE) & plain.str.contains(_MONEY_EXACT)
    value = plain.cast(pl.Decimal(18, 2), strict=False)
    return cond, pl.struct(
        value.alias("value"), pl.lit(None, pl.Utf8).alias("issue"), pl.lit(False).alias("fatal")
    )


_FAST: dict[str, Callable[[pl.Expr], tuple[pl.Expr, pl.Expr]]] = {
    "cn_id": _fast_id,
    "money": _fast_money,
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
    "bool": _BOOL,
    "cn_id": _ID,
    "cn_uscc": _USCC,
    "person_name": _PERSON,
    "org_name": _ORG,
    "phone": _PHONE,
    "address": _ADDRESS,
    "area_code": _AREA,
}

_LABEL = {
    "bool": "yes/no value",
    "int": "integer",
    "decimal": "number",
    "money": "amount",
    "date": "date",
    "datetime": "datetime",
    "cn_id": "ID",
    "cn_uscc": "USCC",
    "person_name": "name",
    "org_name": "organisation name",
    "phone": "phone number",
    "address": "address",
    "area_code": "area code",
}

_DTYPE: dict[str, pl.DataType] = {
    "int": pl.Int64(),
    "decimal": pl.Float64(),
    "money": pl.Decimal(18, 2),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
    "bool": pl.Boolean(),
}

_KEYED = ("org_name", "address")


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
    label = _LABEL.get(sem_type, sem_type)
    note = _fmt(F("placeholder"), f'placeholder {label} "{{}}" read as empty', F("t"))
    final: Stage = {
        "value": pl.when(~F("placeholder")).then(F("value")).cast(_DTYPE.get(sem_type, pl.Utf8())),
        "issue": pl.when(F("t").is_null())
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(F("placeholder"))
        .then(note)
        .otherwise(F("issue").cast(pl.Utf8)),
    }
    if sem_type in _KEYED:
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


def column_exprs(src: str, name: str, sem_type: str, crs: str | None = None) -> SemanticExprs:
    """Build the value / issue / fatal / extra expressions for column `src` of type `sem_type`.

    `src` may hold strings or numbers (parquet, databases); it is cast to text first so every
    source goes through the same rules. `crs` is the coordinate system of a geometry column.
    """
    if sem_type == "geometry":  # shapely, not polars expressions: engine/geo.py
        from collide.engine.geo import geometry_exprs

        return geometry_exprs(src, name, crs)
    if sem_type not in _STAGES:
        raise ValueError(f"unknown semantic type {sem_type!r}; expected one of {SEMANTIC_TYPES}")
    # `string` keeps the cell as written: it needs no half-width form (`h`)
    text = _TEXT[:2] if sem_type == "string" else _TEXT
    r = _run(pl.col(src), text + _STAGES[sem_type] + _finish(sem_type))
    extra = [r.struct.field("key").alias(f"{name}_key")] if sem_type in _KEYED else []
    return SemanticExprs(
        value=r.struct.field("value").alias(name),
        issue=r.struct.field("issue").alias(f"{name}_issue"),
        fatal=r.struct.field("fatal").alias(f"{name}_fatal"),
        extra=extra,
        struct=r,
        fast=_fast(sem_type, src),
    )


# --------------------------------------------------------------------------- masking

# ASCII and full-width digits; an ID is not part of a longer run of letters or digits, which
# keeps USCCs (letters inside) and long account numbers out.
_D = "[0-9０-９]"
_ID_IN_TEXT = re.compile(
    rf"(?<![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])({_D}{{17}}[0-9０-９XxＸｘ]|{_D}{{15}})(?![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])"
)
_TO_ASCII = str.maketrans("".join(_FULL), "".join(_HALF))


def _masked(v: str) -> str:
    stars = 8 if len(v) == 18 else 5
    return v[:6] + "*" * stars + v[-4:]


def _plausible_birth(v: str) -> bool:
    digits = v.translate(_TO_ASCII)
    ymd = digits[6:14] if len(digits) == 18 else "19" + digits[6:12]
    try:
        born = _dt.date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:8]))
    except ValueError:
        return False
    return _dt.date(1880, 1, 1) <= born <= _dt.date.today() and digits[0] in "12345678"


def mask_id_text(text: str) -> str:
    """Mask every resident ID in free text (reasons, remarks) as `110105********002X`.

    A run of 15/18 digits counts as an ID only when its birth-date part is a real date, so
    account numbers and USCCs stay readable.
    """
    return _ID_IN_TEXT.sub(
        lambda m: _masked(m.group(1)) if _plausible_birth(m.group(1)) else m.group(1), text
    )


def mask_id(value: str | None) -> str | None:
    """Mask one ID value (from an ID column, so no birth-date check); other text is unchanged."""
    if value is None:
        return None
    v = value.strip()
    if re.fullmatch(r"[0-9０-９]{17}[0-9０-９XxＸｘ]|[0-9０-９]{15}", v):
        return _masked(v)
    return value


def mask_id_expr(e: pl.Expr) -> pl.Expr:
    """Vectorised `mask_id` for a column (the SQL `mask_id` function)."""
    v = e.cast(pl.Utf8).str.strip_chars()
    n = v.str.len_chars()
    id18 = v.str.contains(r"^[0-9０-９]{17}[0-9０-９XxＸｘ]$")
    id15 = v.str.contains(r"^[0-9０-９]{15}$")
    head, tail = v.str.slice(0, 6), v.str.slice(n - 4, 4)
    return (
        pl.when(id18)
        .then(head + "********" + tail)
        .when(id15)
        .then(head + "*****" + tail)
        .otherwise(e.cast(pl.Utf8))
    )
