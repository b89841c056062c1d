"""collide against independent references, on generated inputs.

- resident IDs and credit codes against python-stdnum (`stdnum.cn.ric`, `stdnum.cn.uscc`): valid
  or not, and the normalised value;
- the working-day calendar against `chinesecalendar`, every day 2020–2026;
- money and date text: for any generated text, collide's value is either null with an issue or
  the one reading a careful human would give (`_human_amount`, `_human_date` below, written
  from the grammar in the README, not from collide's code), and a known value formatted in every
  accepted style reads back as itself.

Each test draws 10,000 examples with hypothesis, collects them, and runs collide once on the
whole column (collide's checks are vectorised: one call per value would cost minutes).

Intended differences from the references, each with its reason:

resident ID vs stdnum.cn.ric
  ID-1  area code never issued (not in stdnum's cn/loc.dat): stdnum invalid; collide valid, with
        an issue and `id_area_known() = false` — old IDs carry retired or mistyped codes and the
        issue text says never to reject on that alone.
  ID-2  area code issued, but not in the birth year (stdnum checks the code's years): stdnum
        invalid; collide valid — an ID keeps the code of its first issue, and people move.
  ID-3  birth date before 1880-01-01 or after today: stdnum valid (any real date); collide
        invalid — no living person, a typing error.
  ID-4  15-digit IDs: stdnum invalid (length); collide upgrades them to 18 characters and judges
        the result — compared with stdnum on the upgraded form.
  ID-5  full-width digits, ideographic spaces: stdnum invalid; collide reads them half-width —
        compared with stdnum on the half-width form.
credit code vs stdnum.cn.uscc
  USCC-1 letters in characters 1–2 (registration authority and entity type, e.g. Y1 = 其他):
         stdnum requires digits; GB 32100 takes them from the code alphabet — collide accepts.
  USCC-2 full-width characters: as ID-5.
working days vs chinesecalendar
  none: every day 2020–2026 agrees.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal

import chinese_calendar
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from collide.engine.workdays import builtin
from collide.ingest.semantic import (
    column_exprs,
    id_area_known,
    id_norm,
    id_valid,
    uscc_norm,
    uscc_valid,
)
from collide.standards import cn_id

EXAMPLES = 10_000
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _draw(strategy: st.SearchStrategy) -> list:
    """10,000 examples of `strategy`, collected to be checked as one column."""
    seen: list = []

    @SETTINGS
    @given(strategy)
    def collect(value: object) -> None:
        seen.append(value)

    collect()
    assert len(seen) >= EXAMPLES * 0.9  # hypothesis may stop early only on a tiny space
    return seen


def _column(values: list, sem_type: str) -> list[tuple]:
    e = column_exprs("raw", "v", sem_type)
    df = pl.DataFrame({"raw": values}, schema={"raw": pl.Utf8})
    return df.select(e.value, e.issue).rows()


_FULL = str.maketrans(
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＴＵＷＸＹｘ\u3000",
    "0123456789ABCDEFGHJKLMNPQRTUWXYx ",
)

# --------------------------------------------------------------------------- resident ID

_LOC = numdb.get("cn/loc")
_KNOWN_AREAS = sorted(cn_id.area_codes())


def _stdnum_area_known(area: str) -> bool:
    return any("county" in props for _, props in _LOC.info(area))


def _id_text(area: int, born: str, seq: int, right: bool, last: str, form: str) -> str:
    body = f"{area:06d}{born}{seq:03d}"
    number = body + (ric.calc_check_digit(body + "0") if right else last)
    if form == "lower":
        return number.lower()
    if form == "spaced":
        return f" {number[:6]} {number[6:14]} {number[14:]} "
    if form == "full":
        return number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    if form == "legacy":
        return number[:6] + number[8:17]
    return number


# (plain data strategies: hypothesis draws 10,000 of them in seconds, regex and composite
# strategies take minutes on a busy machine)
_IDS = st.one_of(
    st.builds(
        _id_text,
        st.one_of(st.sampled_from(_KNOWN_AREAS), st.integers(0, 999_999)),
        st.one_of(
            st.dates(dt.date(1850, 1, 1), dt.date(2035, 12, 31)).map(
                lambda d: d.strftime("%Y%m%d")
            ),
            st.integers(0, 99_999_999).map(lambda v: f"{v:08d}"),
        ),
        st.integers(0, 999),
        st.booleans(),
        st.sampled_from("0123456789X"),
        st.sampled_from(["plain", "plain", "lower", "spaced", "full", "legacy"]),
    ),
    st.text(alphabet="0123456789Xx -", max_size=20),
)


def _reference_id(raw: str) -> tuple[bool | None, str | None, bool | None]:
    """(valid, normalised, area known) by stdnum, with the intended differences applied."""
    text = raw.translate(_FULL).strip()
    if not text:
        return None, None, None
    s = re.sub(r"\s+", "", text).upper()
    if re.fullmatch(r"[0-9]{15}", s):  # ID-4
        body = s[:6] + "19" + s[6:]
        s = body + ric.calc_check_digit(body + "0")
    if not re.fullmatch(r"[0-9]{17}[0-9X]", s):
        return False, None, None
    try:
        born = ric.get_birth_date(s)
    except ValidationError:
        born = None
    try:
        stdnum_valid = ric.is_valid(s)
    except KeyError:  # stdnum 2.2: a province code with no county under it
        stdnum_valid = False
    checksum_ok = ric.calc_check_digit(s) == s[-1]
    if born is not None and checksum_ok and not stdnum_valid:
        stdnum_valid = True  # ID-1, ID-2: only the birth place failed
    if born is not None and not (dt.date(1880, 1, 1) <= born <= dt.date.today()):
        stdnum_valid = False  # ID-3
    # an 18-digit number ending in 000 with a wrong checksum: Excel's lost digits, unusable
    if s.endswith("000") and not checksum_ok:
        return False, None, None
    return stdnum_valid, s, _stdnum_area_known(s[:6])


def test_resident_ids_agree_with_stdnum() -> None:
    raws = _draw(_IDS)
    s = pl.Series(raws, dtype=pl.Utf8)
    got = list(zip(id_valid(s).to_list(), id_norm(s).to_list(), id_area_known(s).to_list()))
    expected = [_reference_id(r) for r in raws]
    wrong = [(r, g, e) for r, g, e in zip(raws, got, expected) if g != e]
    assert not wrong, wrong[:10]
    # the draw covers each kind of case
    valid = [e[0] for e in expected]
    assert valid.count(True) > 1000 and valid.count(False) > 1000
    assert sum(1 for e in expected if e[0] and e[2] is False) > 100  # ID-1


# --------------------------------------------------------------------------- credit code

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _chars(alphabet: str, size: int) -> st.SearchStrategy[str]:
    """`size` characters of `alphabet`, drawn as one integer (cheaper than `st.text`)."""
    n = len(alphabet)

    def spell(v: int) -> str:
        return "".join(alphabet[v // n**k % n] for k in range(size))

    return st.integers(0, n**size - 1).map(spell)


def _uscc_text(head: str, region: str, org: str, right: bool, last: str, form: str) -> str:
    body = head + region + org
    ok = all(c in _ALPHABET for c in body)
    code = body + (uscc.calc_check_digit(body + "0") if right and ok else last)
    if form == "lower":
        return code.lower()
    if form == "hyphens":
        return f"{code[:8]}-{code[8:17]}-{code[17]}"
    if form == "spaces":
        return " ".join(code[i : i + 4] for i in range(0, 18, 4))
    if form == "full":
        return code.translate(str.maketrans(_ALPHABET, _FULL_ALPHABET))
    return code


_FULL_ALPHABET = "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＴＵＷＸＹ"
_USCCS = st.one_of(
    st.builds(
        _uscc_text,
        st.one_of(st.integers(10, 99).map(str), _chars(_ALPHABET, 2)),
        st.one_of(
            st.integers(0, 999_999).map(lambda v: f"{v:06d}"), _chars(_ALPHABET + "IOSVZ", 6)
        ),
        _chars(_ALPHABET + "IOSVZ", 9),
        st.booleans(),
        st.sampled_from(_ALPHABET),
        st.sampled_from(["plain", "plain", "lower", "hyphens", "spaces", "full"]),
    ),
    st.text(alphabet=_ALPHABET + "- ", max_size=22),
)


def _reference_uscc(raw: str) -> tuple[bool | None, str | None]:
    """(valid, normalised when valid) by stdnum, with the intended differences applied."""
    text = raw.translate(_FULL)  # USCC-2
    if not text.strip():
        return None, None
    s = uscc.compact(text)
    if len(s) != 18 or s[:2].isdigit():
        valid = uscc.is_valid(s)  # stdnum's own judgement
    else:  # USCC-1: stdnum's structure and check character, letters admitted in 1-2
        valid = (
            all(c in _ALPHABET for c in s)
            and s[2:8].isdigit()
            and uscc.calc_check_digit(s) == s[17]
        )
    return valid, s if valid else None


def test_credit_codes_agree_with_stdnum() -> None:
    raws = _draw(_USCCS)
    s = pl.Series(raws, dtype=pl.Utf8)
    valid = uscc_valid(s).to_list()
    norm = uscc_norm(s).to_list()
    got = [(v, n if v else None) for v, n in zip(valid, norm)]
    expected = [_reference_uscc(r) for r in raws]
    wrong = [(r, g, e) for r, g, e in zip(raws, got, expected) if g != e]
    assert not wrong, wrong[:10]
    flags = [e[0] for e in expected]
    assert flags.count(True) > 1000 and flags.count(False) > 1000


# --------------------------------------------------------------------------- working days


def test_working_days_agree_with_chinesecalendar() -> None:
    cal = builtin()
    day, last = dt.date(2020, 1, 1), dt.date(2026, 12, 31)
    wrong = []
    while day <= last:
        if cal.is_workday(day) != chinese_calendar.is_workday(day):
            wrong.append(day)
        day += dt.timedelta(days=1)
    assert wrong == []


def _assert_human_or_nothing(texts: list[str], sem_type: str, human: Callable) -> None:
    """Each text's value is the human reading, or null with an issue: never another value."""
    wrong = []
    for text, (value, issue) in zip(texts, _column(texts, sem_type)):
        if value is None:
            if issue is None and text.strip():
                wrong.append((text, "null without an issue"))
        elif value != human(text):
            wrong.append((text, value, human(text)))
    assert not wrong, wrong[:10]


# --------------------------------------------------------------------------- money

_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+")


def _human_amount(text: str) -> Decimal | None:
    """How a careful clerk reads an amount in a Chinese agency file: `.` is the decimal point,
    `,` groups thousands by three, an optional ¥/￥/RMB/CNY/人民币 before, 万/亿 and 元(整) after,
    a minus or accountants' brackets for a negative; exact to the fen or not an amount."""
    t = text.translate(_FULL).strip()
    if re.search(r"[0-9.,]\s+[0-9.,]", t):
        return None
    t = re.sub(r"\s+", "", t)
    negative = False
    if t.startswith("(") and t.endswith(")"):
        negative, t = True, t[1:-1]
        if t[:1] in "-+−":
            return None
    m = re.fullmatch(
        r"([-+−]?)(?:¥|￥|RMB|CNY|rmb|cny|人民币)?([-+−]?)([0-9,]*)(?:\.([0-9]*))?(万|亿)?(?:元|圆)?整?",
        t,
        flags=re.IGNORECASE,
    )
    if not m:
        return None
    s1, s2, whole, frac, unit = m.groups()
    if (s1 and s2) or not (whole or frac):
        return None
    if whole and not _GROUPED.fullmatch(whole):
        return None
    value = Decimal((whole or "0").replace(",", "") + "." + (frac or "0"))
    value *= {"万": 10_000, "亿": 100_000_000}.get(unit or "", 1)
    if value != value.quantize(Decimal("0.01")):
        return None
    if abs(value) >= Decimal(10) ** 16:
        return None
    return -value if (negative or (s1 or s2) in ("-", "−")) else value


def _styles(fen: int) -> list[str]:
    """One amount (in fen) written in every accepted style."""
    v = Decimal(fen) / 100
    a = abs(v)
    plain, grouped = f"{a:.2f}", f"{a:,.2f}"
    short = format(a.normalize(), "f") if a == a.to_integral() else f"{a:.2f}".rstrip("0")
    sign = "-" if v < 0 else ""
    out = [
        sign + plain,
        sign + grouped,
        sign + short,
        f"{sign}{plain}元",
        f"{sign}￥{grouped}",
        f"¥{sign}{plain}",
        f"RMB {sign}{grouped}",
        f"人民币{sign}{plain}元整",
        (sign + plain).translate(str.maketrans("0123456789.-", "０１２３４５６７８９．－")),
        f"{sign}{plain}000",
    ]
    if v < 0:
        out += [f"({grouped})", f"（{plain}）"]
    if fen % 100 == 0:
        wan = (a / 10_000).normalize()
        out.append(f"{sign}{format(wan, 'f')}万元")
    return out


def test_money_round_trip_in_every_accepted_style() -> None:
    fens = _draw(st.integers(min_value=-(10**17) + 1, max_value=10**17 - 1))
    texts = [t for f in fens for t in _styles(f)]
    expected = [Decimal(f) / 100 for f in fens for _ in _styles(f)]
    got = _column(texts, "money")
    wrong = [(t, g, e) for t, (g, _), e in zip(texts, got, expected) if g != e]
    assert not wrong, wrong[:10]


def test_money_text_is_read_as_a_human_would_or_not_at_all() -> None:
    texts = _draw(
        st.one_of(
            st.text(alphabet="0123456789,.-+() ￥¥元万亿整", min_size=1, max_size=14),
            st.builds(
                lambda sign, parts, seps, unit: (
                    sign + "".join(p + s for p, s in zip(parts, seps))[:-1] + unit
                ),
                st.sampled_from(["", "-", "(", "￥"]),
                st.lists(st.integers(0, 9999).map(str), min_size=1, max_size=4),
                st.lists(st.sampled_from([",", ".", " "]), min_size=4, max_size=4),
                st.sampled_from(["", "元", "万", " 元", ")"]),
            ),
        )
    )
    _assert_human_or_nothing(texts, "money", _human_amount)


# --------------------------------------------------------------------------- dates


def _human_date(text: str) -> dt.date | None:
    """A date written year first, with -, /, . or 年月日 between the parts or none at all, and
    optionally a real time of day; anything else is not a date."""
    t = text.translate(_FULL).strip()
    m = re.fullmatch(
        r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?"
        r"(?:\s*T?\s*([0-9]{1,2})\s*[:时点]\s*([0-9]{1,2})\s*分?(?:\s*:?\s*([0-9]{1,2})(?:\.[0-9]{1,9})?\s*秒?)?)?",
        t,
    ) or re.fullmatch(r"([0-9]{4})([0-9]{2})([0-9]{2})(?:([0-9]{2})([0-9]{2})([0-9]{2})?)?", t)
    if not m:
        return None
    y, mo, d, hh, mm, ss = m.groups()
    if int(y) < 1000:  # year 0 to 999: a typing error, not a date in an agency file
        return None
    try:
        day = dt.date(int(y), int(mo), int(d))
        if hh is not None:
            dt.time(int(hh), int(mm), int(ss or 0))
    except ValueError:
        return None
    return day


def test_date_round_trip_in_every_accepted_style() -> None:
    moments = _draw(st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2099, 12, 31)))
    texts, expected, timed = [], [], []
    for m in moments:
        d = m.date()
        for style in (
            f"{d:%Y-%m-%d}",
            f"{d.year}/{d.month}/{d.day}",
            f"{d:%Y.%m.%d}",
            f"{d:%Y%m%d}",
            f"{d.year}年{d.month}月{d.day}日",
            f"{d:%Y-%m-%d}".translate(str.maketrans("0123456789-", "０１２３４５６７８９－")),
            f"{m:%Y-%m-%d %H:%M:%S}",
            f"{m:%Y/%m/%d %H:%M}",
        ):
            texts.append(style)
            expected.append(d)
            timed.append(
                ":" in style
                and (m.hour, m.minute, m.second if style.count(":") > 1 else 0) != (0, 0, 0)
            )
    got = _column(texts, "date")
    wrong = [
        (t, g, e)
        for t, (g, issue), e, late in zip(texts, got, expected, timed)
        if g != e or (issue is not None) != late
    ]
    assert not wrong, wrong[:10]


def test_date_text_is_read_as_a_human_would_or_not_at_all() -> None:
    texts = _draw(
        st.one_of(
            st.text(alphabet="0123456789-/.: 年月日T", min_size=1, max_size=20),
            st.builds(
                lambda y, m, d, a, b, t: f"{y}{a}{m}{b}{d}{t}",
                st.integers(1890, 2110),
                st.integers(0, 13),
                st.integers(0, 32),
                st.sampled_from("-/.年"),
                st.sampled_from("-/.月"),
                st.sampled_from(["", " 00:00", " 12:30", " 24:00", " 23:60", " 8:05:59", "日"]),
            ),
            st.integers(0, 99_999_999).map(str),
        )
    )
    _assert_human_or_nothing(texts, "date", _human_date)
