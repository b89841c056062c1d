"""Working days in mainland China: weekends, statutory holidays, and the weekend days worked in
exchange for a longer holiday (调休上班).

Deadlines in the regulations count working days (《保障农民工工资支付条例》: 20 个工作日). Each
year's holidays and exchanged working days are set by the State Council's notice (国务院办公厅关于
××年部分节假日安排的通知), published around November for the next year; the years below are built
in, and a project adds or corrects a year under `holidays:` in collide.yaml. A year that neither
covers counts weekends only.

Model SQL uses it as `add_workdays(date, n)` (see `collide.engine.functions`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

# year: (days off, weekend days worked). "MM-DD" or "MM-DD..MM-DD" (both ends included); only
# weekdays off and weekend days worked change the count, the rest is listed as announced.
BUILTIN: dict[int, tuple[str, str]] = {
    # 国办发明电〔2019〕16号; 春节 extended to 2 February by 国办发明电〔2020〕1号 (the 1 February
    # exchange day was cancelled with it)
    2020: ("01-01 01-24..02-02 04-04..04-06 05-01..05-05 06-25..06-27 10-01..10-08",
           "01-19 04-26 05-09 06-28 09-27 10-10"),
    # 国办发明电〔2020〕27号
    2021: ("01-01..01-03 02-11..02-17 04-03..04-05 05-01..05-05 06-12..06-14 09-19..09-21 "
           "10-01..10-07", "02-07 02-20 04-25 05-08 09-18 09-26 10-09"),
    # 国办发明电〔2021〕11号
    2022: ("01-01..01-03 01-31..02-06 04-03..04-05 04-30..05-04 06-03..06-05 09-10..09-12 "
           "10-01..10-07", "01-29 01-30 04-02 04-24 05-07 10-08 10-09"),
    # 国办发明电〔2022〕16号 (元旦 began on 31 December 2022)
    2023: ("01-01..01-02 01-21..01-27 04-05 04-29..05-03 06-22..06-24 09-29..10-06",
           "01-28 01-29 04-23 05-06 06-25 10-07 10-08"),
    # 国办发明电〔2023〕7号
    2024: ("01-01 02-10..02-17 04-04..04-06 05-01..05-05 06-08..06-10 09-15..09-17 "
           "10-01..10-07", "02-04 02-18 04-07 04-28 05-11 09-14 09-29 10-12"),
    # 国办发明电〔2024〕12号
    2025: ("01-01 01-28..02-04 04-04..04-06 05-01..05-05 05-31..06-02 10-01..10-08",
           "01-26 02-08 04-27 09-28 10-11"),
    # 国办发明电〔2025〕7号
    2026: ("01-01..01-03 02-15..02-23 04-04..04-06 05-01..05-05 06-19..06-21 09-25..09-27 "
           "10-01..10-07", "01-04 02-14 02-28 05-09 09-20 10-10"),
}  # fmt: skip

# the span over which working days are enumerated (dates outside it give NULL)
_FIRST = dt.date(1990, 1, 1)
_LAST = dt.date(2079, 12, 31)


def _days(text: str, year: int) -> set[dt.date]:
    out: set[dt.date] = set()
    for part in text.split():
        a, _, b = part.partition("..")
        first = dt.date.fromisoformat(f"{year}-{a}")
        last = dt.date.fromisoformat(f"{year}-{b}") if b else first
        out.update(first + dt.timedelta(days=k) for k in range((last - first).days + 1))
    return out


@dataclass(frozen=True)
class Year:
    """One year's exceptions to the Monday–Friday week."""

    off: frozenset[dt.date]  # days off (weekdays among them are holidays)
    work: frozenset[dt.date]  # weekend days worked in exchange


def parse_entries(entries: Iterable[Any], year: int) -> tuple[set[dt.date], list[str]]:
    """Dates from YAML entries (a date, "YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD"), and one
    message per entry that is not a date of `year`."""
    days: set[dt.date] = set()
    bad: list[str] = []
    for entry in entries:
        text = entry.isoformat() if isinstance(entry, dt.date) else str(entry).strip()
        a, _, b = text.partition("..")
        try:
            first = dt.date.fromisoformat(a.strip())
            last = dt.date.fromisoformat(b.strip()) if b else first
        except ValueError:
            bad.append(f'"{text}" is not a date (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD)')
            continue
        if first > last:
            bad.append(f'"{text}" ends before it starts')
            continue
        if first.year != year or last.year != year:
            bad.append(f'"{text}" is not within {year}')
            continue
        days.update(first + dt.timedelta(days=k) for k in range((last - first).days + 1))
    return days, bad


class Calendar:
    """Working days: Monday to Friday, less the holidays, plus the exchanged weekend days.

    The day table is built (with numpy) when first used: loading a project builds a calendar,
    most commands never count a working day."""

    def __init__(self, years: Mapping[int, Year]):
        self.years = dict(sorted(years.items()))

    @functools.cached_property
    def workdays(self) -> np.ndarray:
        """Every working day from _FIRST to _LAST, sorted (datetime64[D])."""
        import numpy as np

        every = np.arange(
            np.datetime64(_FIRST, "D"), np.datetime64(_LAST + dt.timedelta(days=1), "D")
        )
        weekday = (every.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday: Monday = 0
        working = weekday < 5
        for y in self.years.values():
            for day, flag in [(d, False) for d in y.off] + [(d, True) for d in y.work]:
                if _FIRST <= day <= _LAST:
                    working[(day - _FIRST).days] = flag
        return every[working]

    @property
    def covered(self) -> list[int]:
        """The years whose holidays are known (others count weekends only)."""
        return list(self.years)

    def is_workday(self, day: dt.date) -> bool:
        import numpy as np

        d = np.datetime64(day, "D")
        i = int(np.searchsorted(self.workdays, d))
        return i < len(self.workdays) and self.workdays[i] == d

    def add(self, days: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The n-th working day after each day (n > 0), before it (n < 0), or the day itself
        (n = 0); returns (dates as datetime64[D], valid mask: False where out of range)."""
        import numpy as np

        days = days.astype("datetime64[D]")
        n = n.astype("int64")
        after = np.searchsorted(self.workdays, days, side="right") + n - 1  # n ≥ 1
        before = np.searchsorted(self.workdays, days, side="left") + n  # n ≤ -1
        idx = np.where(n > 0, after, before)
        ok = (idx >= 0) & (idx < len(self.workdays)) & (days >= np.datetime64(_FIRST, "D"))
        ok &= days <= np.datetime64(_LAST, "D")
        picked = self.workdays[np.clip(idx, 0, len(self.workdays) - 1)]
        return np.where(n == 0, days, picked), ok


def builtin_years() -> dict[int, Year]:
    return {
        y: Year(frozenset(_days(off, y)), frozenset(_days(work, y)))
        for y, (off, work) in BUILTIN.items()
    }


@functools.cache
def builtin() -> Calendar:
    return Calendar(builtin_years())


def calendar(extra: Mapping[int, Year] | None = None) -> Calendar:
    """The built-in years with a project's years added (a year given replaces the built-in)."""
    if not extra:
        return builtin()
    return Calendar(builtin_years() | dict(extra))


def add_workdays_udf(cal: Calendar, uncovered: set[int] | None = None) -> Any:
    """The Arrow body of `add_workdays(d DATE, n INTEGER) → DATE` (each backend registers it):
    the n-th working day after d (before it when n < 0; d itself when n = 0); NULL when d or n
    is NULL.

    Years the calendar does not cover that a call spans (between d and the result) are added
    to `uncovered`: their working days were counted without holidays."""
    known = set(cal.years)

    def add_workdays(days, n):  # (no annotations: DuckDB evaluates them)
        import numpy as np
        import pyarrow as pa

        days = days.combine_chunks() if isinstance(days, pa.ChunkedArray) else days
        n = n.combine_chunks() if isinstance(n, pa.ChunkedArray) else n
        valid = np.asarray(days.is_valid()) & np.asarray(n.is_valid())
        d = days.fill_null(0).to_numpy(zero_copy_only=False).astype("datetime64[D]")
        k = n.fill_null(0).to_numpy(zero_copy_only=False).astype("int64")
        out, ok = cal.add(d, k)
        ok &= valid
        if uncovered is not None and ok.any():
            first = np.minimum(d[ok], out[ok]).astype("datetime64[Y]").astype("int64") + 1970
            last = np.maximum(d[ok], out[ok]).astype("datetime64[Y]").astype("int64") + 1970
            for y in range(int(first.min()), int(last.max()) + 1):
                if y not in known and ((first <= y) & (last >= y)).any():
                    uncovered.add(y)
        return pa.array(out, type=pa.date32(), mask=~ok)

    return add_workdays
