"""Find the header row of an agency table and map its headers to canonical column names.

Agency tables start with title rows ("XX区自来水公司欠费明细表"), split headers over two rows with
merged cells, write "单位\\n名称" inside one cell and repeat a header twice. Matching is done on a
folded form of each header (full-width → half-width, no spaces or line breaks, lowercase).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from collide.config.catalog import Connector
from collide.errors import CollideError, Problem, did_you_mean

SCAN_ROWS = 30  # header search depth: title rows and a two-row header fit easily


def fold(text: object) -> str:
    """The form headers are compared in: NFKC, no whitespace at all, lowercase."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    return "".join(s.split()).lower()


def display(text: object) -> str:
    """A header as shown in messages: trimmed, line breaks inside a cell removed."""
    if text is None:
        return ""
    return "".join(part.strip() for part in str(text).splitlines()).strip()


def alias_set(conn: Connector) -> set[str]:
    return {fold(a) for col in conn.spec.columns.values() for a in col.from_ if fold(a)}


@dataclass
class Header:
    """Where the header is and what the columns are called (one name per physical column)."""

    data_start: int  # 0-based index of the first data row in the scanned grid
    names: list[str]  # display names, duplicates disambiguated as "电话(2)"
    notes: list[str] = field(default_factory=list)


def _score(row: list[str | None], aliases: set[str]) -> int:
    return sum(1 for v in row if v is not None and fold(v) in aliases)


def find_header(
    rows: list[list[str | None]], aliases: set[str], header_row: int | None, where: str
) -> Header:
    """Pick the header row among the first rows of a table.

    The row matching most aliases wins (the earliest on a tie); with no match at all, the first
    row as wide as the widest row is taken. When the row below (or above) also matches aliases,
    the two form one header: the lower cell where it has text, else the upper one — that is what
    merged header cells look like once read.
    """
    notes: list[str] = []
    if header_row is not None:
        h = header_row - 1
        if h >= len(rows):
            raise IndexError(h)
        upper, lower = h, h
    else:
        scores = [_score(r, aliases) for r in rows[:SCAN_ROWS]]
        best = max(scores, default=0)
        if best > 0:
            h = scores.index(best)
            upper = lower = h
            if h + 1 < len(scores) and scores[h + 1] > 0:
                lower = h + 1
            elif h > 0 and scores[h - 1] > 0:
                upper = h - 1
        else:
            widths = [sum(1 for v in r if v not in (None, "")) for r in rows[:SCAN_ROWS]]
            h = widths.index(max(widths)) if widths else 0
            upper = lower = h
        if upper > 0:
            notes.append(f"{where}: header found on row {upper + 1}; rows above it skipped")
    width = max((len(r) for r in rows[upper : lower + 1]), default=0)
    names: list[str] = []
    group = ""
    for j in range(width):
        up = rows[upper][j] if j < len(rows[upper]) else None
        low = rows[lower][j] if j < len(rows[lower]) else None
        if lower != upper:
            if up not in (None, ""):
                group = display(up)
            if low not in (None, ""):
                name = display(low)
                if fold(name) not in aliases and fold(group + name) in aliases:
                    name = group + name
            else:
                name = display(up)
        else:
            name = display(up)
        names.append(name)
    return Header(lower + 1, _disambiguate(names, where, notes), notes)


def _disambiguate(names: list[str], where: str, notes: list[str]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    dups: list[str] = []
    for j, name in enumerate(names):
        if not name:
            name = f"(column {j + 1})"
        key = fold(name)
        if key in seen:
            seen[key] += 1
            new = f"{name}({seen[key]})"
            dups.append(f"{name} → {new}")
            name = new
        else:
            seen[key] = 1
        out.append(name)
    if dups:
        notes.append(
            f"{where}: duplicate headers renamed (the first one is used): {', '.join(dups)}"
        )
    return out


@dataclass
class Mapping:
    """Canonical column → index of the physical column (None: absent, filled with nulls)."""

    index: dict[str, int | None]
    notes: list[str]


def match_columns(conn: Connector, names: list[str]) -> dict[str, int | None]:
    """Canonical column → the physical column its first matching alias names (None: none)."""
    folded = [fold(n) for n in names]
    index: dict[str, int | None] = {}
    used: set[int] = set()
    for name, col in conn.spec.columns.items():
        found = None
        for alias in col.from_:
            a = fold(alias)
            found = next((j for j, f in enumerate(folded) if f == a and j not in used), None)
            if found is not None:
                break
        index[name] = found
        if found is not None:
            used.add(found)
    return index


def is_required(conn: Connector, name: str) -> bool:
    return conn.spec.columns[name].required or name in conn.spec.keys


def present(names: list[str]) -> list[str]:
    """The headers a file really has (not the placeholders of blank header cells)."""
    return [n for n in names if not n.startswith("(column ")]


def shown_headers(names: list[str], limit: int = 40) -> str:
    """Headers as listed in a message: each cut short, so no cell's text runs on."""
    cut = [n if len(n) <= limit else n[: limit - 1] + "…" for n in present(names)]
    return ", ".join(cut) or "(none)"


def not_found(conn: Connector, name: str, names: list[str], where: str) -> Problem:
    """A connector column none of whose aliases is a header of `where`: an error for a required
    column or key, a warning for an optional one (it would load empty)."""
    col = conn.spec.columns[name]
    aliases = ", ".join(col.from_)
    hint = ""
    for alias in col.from_:
        h = did_you_mean(alias, present(names))
        if h.startswith("Did you mean"):
            hint = h + " "
            break
    if not hint:  # a header that is the alias shortened or lengthened (金额 / 发放金额)
        a = [fold(x) for x in col.from_]
        near = [
            n
            for n in present(names)
            if len(fold(n)) >= 2 and any(fold(n) in x or x in fold(n) for x in a if x)
        ]
        if near:
            hint = f'Did you mean "{near[0]}"? '
    required = is_required(conn, name)
    return Problem(
        conn.display,
        conn.line("columns", name),
        f'column "{name}" (aliases: {aliases}) not found in {where}. '
        f"Headers found: {shown_headers(names)}",
        f"{hint}Add the header to `from:` of {name}, or ask the agency for the column"
        + ("" if required else " (until then it loads empty and models that read it are skipped)"),
        severity="error" if required else "warning",
    )


def map_columns(conn: Connector, names: list[str], where: str) -> Mapping:
    """Match headers to the connector's columns; a missing required column is a CollideError."""
    index = match_columns(conn, names)
    notes: list[str] = []
    missing: list[Problem] = []
    for name, j in index.items():
        if j is not None:
            continue
        if is_required(conn, name):
            missing.append(not_found(conn, name, names, where))
        else:
            aliases = ", ".join(conn.spec.columns[name].from_)
            notes.append(f'{where}: column "{name}" (aliases: {aliases}) not found; left empty')
    if missing:
        raise CollideError(missing)
    used = {j for j in index.values() if j is not None}
    extra = [n for j, n in enumerate(names) if j not in used and not n.startswith("(column ")]
    if extra:
        notes.append(f"{where}: ignored extra columns: {', '.join(extra)}")
    return Mapping(index, notes)
