"""SQL functions for model SQL: character-level similarity and the semantic-type normalisers.

DuckDB 1.x's own `jaro_winkler_similarity` / `levenshtein` counted UTF-8 bytes, so on Chinese names
(3 bytes per character) they gave wrong scores, and DuckDB's functions cannot normalise a name
first (spaces, full-width forms, middle dots). These functions are Arrow UDFs: DuckDB hands over
a whole vector at once, the normalisers run as the same polars expressions `semantic.py` uses at
ingest, and similarity runs in rapidfuzz's C loop (`process.cpdist`) over the pairs.

The similarity functions are what a fuzzy join spends its time in (tens of millions of candidate
pairs, ~2,000 per call), so they avoid every per-call cost they can: a call to a polars
normaliser costs about a millisecond whatever its size, so each distinct input is normalised once
per connection and remembered (a name in a join block comes back in many vectors); in DuckDB,
name_sim on two names of Han characters that the normaliser leaves as they are is scored by
DuckDB's own levenshtein (`engine/duckdb.py`). The name functions compare matching keys:
traditional and variant characters folded to simplified (`standards/hanzi.py`). They are
registered as volatile (`side_effects=True`) only so that DuckDB evaluates each call once, where
the SQL has it: otherwise its optimiser copies the expression behind an output column into every
filter and join condition that reads the column, and `WHERE s >= 0.65 OR (s >= 0.5 AND …)` over
`name_sim(…) AS s` scored each pair up to five times. They are pure all the same.

The bodies here are engine-neutral (Arrow in, Arrow out): `sql_functions()` lists them, and each
backend registers them its own way (DuckDB: `collide.engine.duckdb.register_functions`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa  # (the bodies' annotations, which DuckDB evaluates, name it)

from collide.engine.geo import GEO_FUNCTIONS, geo_udfs

if TYPE_CHECKING:
    import numpy as np
    import polars as pl

# polars, rapidfuzz and the semantic normalisers (whose expression tables cost a few hundred ms
# to build) are imported by the first call of a function that needs them, not when a session
# registers the functions: most models call none of them.

__all__ = ["FUNCTIONS", "SqlFunction", "sql_functions"]

# (name, signature, returns, description): documentation and `collide check` "did you mean".
FUNCTIONS: list[tuple[str, str, str, str]] = [
    ("name_sim", "name_sim(a VARCHAR, b VARCHAR)", "DOUBLE",
     ("Character-level normalised Levenshtein similarity 0..1 of two person names "
     "(normalised first: spaces, full-width, middle dots, traditional → simplified).")),
    ("name_jw", "name_jw(a VARCHAR, b VARCHAR)", "DOUBLE",
     "Character-level Jaro-Winkler similarity 0..1 of two normalised person names."),
    ("name_pinyin_sim", "name_pinyin_sim(a VARCHAR, b VARCHAR)", "DOUBLE",
     ("Similarity 0..1 of two person names by their readings: as name_sim, but two characters "
      "that share a toneless pinyin reading count as equal (王伟 / 王玮, 李小明 / 李晓明; every "
      "reading of a polyphonic character: 曾 is ceng or zeng).")),
    ("org_sim", "org_sim(a VARCHAR, b VARCHAR)", "DOUBLE",
     "Indel similarity 0..1 (fuzz.ratio / 100) of the organisation-name keys."),
    ("addr_sim", "addr_sim(a VARCHAR, b VARCHAR)", "DOUBLE",
     ("Partial-ratio similarity 0..1 of the address keys (a short address inside a long one "
     "scores high).")),
    ("name_norm", "name_norm(s VARCHAR)", "VARCHAR",
     ("Matching key of a person name: no inner spaces, half-width, middle dot unified to ·, "
      "traditional and variant characters folded to simplified (陳偉 → 陈伟).")),
    ("org_key", "org_key(s VARCHAR)", "VARCHAR",
     ("Matching key of an organisation name: traditional characters folded, brackets, spaces, "
     "punctuation dropped, 有限责任公司 → 有限公司.")),
    ("addr_key", "addr_key(s VARCHAR)", "VARCHAR",
     ("Matching key of an address: traditional characters folded, no spaces or punctuation, "
      "号楼/幢 → 栋, # → 号.")),
    ("id_norm", "id_norm(s VARCHAR)", "VARCHAR",
     ("18-character resident ID: half-width, X upper-case, 15-digit upgraded; NULL if unusable "
     "(kept when only the checksum is wrong).")),
    ("id_valid", "id_valid(s VARCHAR)", "BOOLEAN",
     ("True when the resident ID has a valid shape, birth date and MOD 11-2 checksum (an area "
      "code never issued alone does not make it invalid: see id_area_known).")),
    ("id_area_known", "id_area_known(s VARCHAR)", "BOOLEAN",
     ("True when the ID's area code was ever issued (GB/T 2260 and its history); NULL when the "
      "ID is unusable.")),
    ("id_birth", "id_birth(s VARCHAR)", "DATE", "Birth date encoded in a resident ID."),
    ("id_gender", "id_gender(s VARCHAR)", "VARCHAR",
     "'男' or '女' from the 17th digit of a resident ID (odd = male)."),
    ("uscc_norm", "uscc_norm(s VARCHAR)", "VARCHAR",
     ("Unified social credit code upper-case and half-width, spaces and hyphens dropped; NULL "
      "when the shape is wrong.")),
    ("uscc_valid", "uscc_valid(s VARCHAR)", "BOOLEAN",
     ("True for an 18-character USCC of the GB 32100 structure (characters 3-8 digits) with a "
      "correct check character.")),
    ("mask_id", "mask_id(s VARCHAR)", "VARCHAR",
     "Resident ID masked for sharing: 110105********002X (15-digit: first 6, 5 stars, last 4)."),
    ("add_workdays", "add_workdays(d DATE, n INTEGER)", "DATE",
     ("The n-th working day after d (before it when n < 0): weekends and statutory holidays "
      "skipped, weekend days worked in exchange (调休上班) counted; holidays: in collide.yaml.")),
]  # fmt: skip
FUNCTIONS += GEO_FUNCTIONS  # polygons (engine/geo.py)


def _semantic(name: str) -> Callable[[pl.Series], pl.Series]:
    """`collide.ingest.semantic.<name>`, imported when first called."""

    def norm(s: pl.Series) -> pl.Series:
        from collide.ingest import semantic

        return getattr(semantic, name)(s)

    norm.__name__ = name
    return norm


def _unary(fn: Callable[[pl.Series], pl.Series]) -> Callable[[Any], pa.Array]:
    """Wrap a Series → Series normaliser as an Arrow UDF body."""

    def udf(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
        import polars as pl

        return fn(pl.Series(arr).cast(pl.Utf8)).to_arrow()

    return udf


def plain_han_regex() -> str:
    """A name of Han characters none of which folds (`standards.hanzi`): the names that
    `semantic.person_name_key` leaves as they are (DuckDB's name_sim macro scores those pairs
    natively). The pattern has ~5,000 characters: compiled once per query in DuckDB, but ~7 ms
    per call in pyarrow, so the UDFs test for Han characters alone (`_han_only`) and fold
    those names with `str.translate`."""
    from collide.standards import hanzi

    return "[^\\P{Han}" + "".join(hanzi.fold_table()) + "]+"


def _han_only(arr: pa.Array) -> pa.Array:
    """True for a name of Han characters alone: `semantic.person_name_key` only folds those
    (`person_name_norm` leaves them unchanged; a test checks it), which `hanzi.fold` does
    without polars. NULL stays NULL. (One regex call: with DuckDB's two threads contending for
    the GIL, fewer pyarrow calls beat cheaper ones.)"""
    import pyarrow.compute as pc

    return pc.match_substring_regex(arr, r"^\p{Han}+$")


def _fold() -> Callable[[str], str]:
    """`hanzi.fold`, imported when a UDF first needs it."""
    from collide.standards import hanzi

    return hanzi.fold


class _Normalised:
    """`norm` per distinct value, remembered for the connection's lifetime.

    Values for which `plain` is true are returned as the function that `plain_norm()` gives
    makes them (by default as they are: `norm` must give the same); the others are looked up,
    and those not seen before are normalised in one polars call. The plain ones stay out of
    the memo, so that a join over a million names does not fill it and start it over and
    over."""

    def __init__(
        self,
        norm: Callable[[pl.Series], pl.Series],
        plain: Callable[[pa.Array], pa.Array] | None,
        limit: int = 1 << 18,
        plain_norm: Callable[[], Callable[[str], str]] | None = None,
    ):
        self.norm, self.plain, self.limit = norm, plain, limit
        self.plain_norm = plain_norm
        self.fix: Callable[[str], str] | None = None
        self.memo: dict[str, str | None] = {}

    def __call__(self, arr: pa.ChunkedArray | pa.Array) -> list[str | None]:
        import pyarrow.compute as pc

        arr = _string_array(arr)
        values = arr.to_pylist()
        if self.plain is None:
            self.fill(values, range(len(values)))
            return values
        plain = self.plain(arr)  # NULL stays NULL
        if plain.true_count < len(arr) - arr.null_count:
            self.fill(values, pc.indices_nonzero(pc.invert(plain)).to_pylist())
        if self.plain_norm is not None and plain.true_count:
            fix = self.fix = self.fix or self.plain_norm()
            for i in pc.indices_nonzero(plain).to_pylist():
                values[i] = fix(values[i])
        return values

    def fill(self, values: list[str | None], todo: Any) -> None:
        """Normalise `values[i]` in place for each i in `todo`."""
        # DuckDB may call from several threads: work on one dict, replaced (not cleared) when
        # it is full, so another call's lookups never lose their entries halfway
        memo = self.memo
        missing = {v for i in todo if (v := values[i]) is not None and v not in memo}
        if missing:
            import polars as pl

            if len(memo) + len(missing) > self.limit:
                memo = self.memo = {}
                missing = {v for i in todo if (v := values[i]) is not None}
            keys = list(missing)
            memo.update(zip(keys, self.norm(pl.Series(keys, dtype=pl.Utf8)).to_list()))
        for i in todo:
            v = values[i]
            if v is not None:
                values[i] = memo[v]


def _string_array(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    return arr


def _pairwise(
    scorer: Callable[..., float] | str,
    norm: Callable[[pl.Series], pl.Series],
    plain: Callable[[pa.Array], pa.Array] | None = None,
    plain_norm: Callable[[], Callable[[str], str]] | None = None,
) -> Callable[[Any, Any], pa.Array]:
    """Wrap a rapidfuzz scorer as an Arrow UDF over (a, b) pairs; NULL in either side → NULL.

    A `scorer` given by name (`_scorer`) is looked up at the first call."""
    normalised = _Normalised(norm, plain, plain_norm=plain_norm)
    named = scorer if isinstance(scorer, str) else None

    def udf(a: pa.ChunkedArray | pa.Array, b: pa.ChunkedArray | pa.Array) -> pa.Array:
        import numpy as np

        nonlocal scorer
        if named is not None and isinstance(scorer, str):
            scorer = _scorer(named)  # (two threads may both look it up: the same object)
        sa, sb = normalised(a), normalised(b)
        if None not in sa and None not in sb:
            if not sa:
                return pa.array([], pa.float64())
            return pa.array(_cpdist(scorer, sa, sb))
        ok = np.fromiter((x is not None and y is not None for x, y in zip(sa, sb)), bool, len(sa))
        out = np.zeros(len(sa), dtype=np.float64)
        if ok.any():
            out[ok] = _cpdist(
                scorer,
                [x for x, k in zip(sa, ok) if k],
                [y for y, k in zip(sb, ok) if k],
            )
        return pa.array(out, mask=~ok)

    return udf


def _cpdist(scorer: Callable[..., float], a: list, b: list) -> np.ndarray:
    import numpy as np
    from rapidfuzz import process

    return process.cpdist(
        a,
        b,
        scorer=scorer,
        dtype=np.float64,
        workers=1,  # DuckDB hands over ~2k rows at a time: threads cost more than they save
    )


def _pinyin_pairwise() -> Callable[[Any, Any], pa.Array]:
    """name_pinyin_sim: each name (normalised and folded) as syllable strings, one per reading
    of its polyphonic characters (`hanzi.pinyin_keys`); the score is the best normalised
    Levenshtein similarity over those readings — the same as an edit distance in which two
    characters are equal when they share a reading, since an alignment uses each character once.

    Pairs of names with one reading each (most) go to rapidfuzz in one call; each distinct name
    is read once per connection (a number for it, its first reading, whether it has others)."""
    normalised = _Normalised(_semantic("person_name_key"), _han_only, plain_norm=_fold)
    number: dict[str, int] = {}
    first: list[str] = []
    several: list[bool] = []
    alternatives: list[list[str] | None] = []

    def ids(values: list[str | None]) -> np.ndarray:
        import numpy as np

        from collide.standards import hanzi

        if len(number) > 1 << 20:
            number.clear()
            first.clear()
            several.clear()
            alternatives.clear()
        for v in {v for v in values if v is not None and v not in number}:
            keys = hanzi.pinyin_keys(v)
            number[v] = len(first)
            first.append(keys[0] if keys else "")
            several.append(keys is None or len(keys) > 1)
            alternatives.append(keys)
        return np.fromiter((-1 if v is None else number[v] for v in values), np.int64, len(values))

    def udf(a: pa.ChunkedArray | pa.Array, b: pa.ChunkedArray | pa.Array) -> pa.Array:
        import numpy as np
        from rapidfuzz.distance import Levenshtein

        sa, sb = normalised(a), normalised(b)
        ia, ib = ids(sa), ids(sb)
        valid = (ia >= 0) & (ib >= 0)
        out = np.zeros(len(sa), dtype=np.float64)
        hard = np.fromiter(
            (
                i >= 0 and j >= 0 and (several[i] or several[j])
                for i, j in zip(ia.tolist(), ib.tolist())
            ),
            bool,
            len(sa),
        )
        easy = np.flatnonzero(valid & ~hard)
        if len(easy):
            out[easy] = _cpdist(
                Levenshtein.normalized_similarity,
                [first[i] for i in ia[easy]],
                [first[i] for i in ib[easy]],
            )
        # the others: every reading of one against every reading of the other, in one call
        left, right, where = [], [], []
        for k in np.flatnonzero(hard).tolist():
            ka, kb = alternatives[ia[k]], alternatives[ib[k]]
            if ka is None or kb is None:
                out[k] = _reading_similarity(sa[k], sb[k])
                continue
            for p in ka:
                left.extend([p] * len(kb))
                right.extend(kb)
            where.extend([k] * (len(ka) * len(kb)))
        if where:
            best = np.zeros(len(sa), dtype=np.float64)
            np.maximum.at(best, where, _cpdist(Levenshtein.normalized_similarity, left, right))
            out[where] = best[where]
        return pa.array(out, mask=~valid)

    return udf


def _reading_similarity(a: str, b: str) -> float:
    """1 - edit distance / longer length, two characters equal when they share a reading (the
    exact form, for names with too many ways of reading them to list)."""
    from collide.standards import hanzi

    ra, rb = hanzi.reading_sets(a), hanzi.reading_sets(b)
    if not ra and not rb:
        return 1.0
    prev = list(range(len(rb) + 1))
    for i, x in enumerate(ra, 1):
        cur = [i]
        for j, y in enumerate(rb, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (0 if x & y else 1)))
        prev = cur
    return 1.0 - prev[-1] / max(len(ra), len(rb))


def _scorer(name: str) -> Callable[..., float]:
    """The scorer called `name`: rapidfuzz's `distance.<name>.normalized_similarity` itself (so
    that cpdist runs its C implementation), or "partial_ratio", fuzz.partial_ratio scaled to
    0..1."""
    from rapidfuzz import distance, fuzz

    if name != "partial_ratio":
        return getattr(distance, name).normalized_similarity
    partial_ratio = fuzz.partial_ratio

    def _ratio_0_1(a: str, b: str, **kwargs: Any) -> float:
        return partial_ratio(a, b, **kwargs) / 100.0

    return _ratio_0_1


def _mask_series(s: pl.Series) -> pl.Series:
    import polars as pl

    from collide.ingest import semantic

    return s.to_frame("s").select(semantic.mask_id_expr(pl.col("s"))).to_series()


def _udfs() -> list[tuple[str, Callable[..., pa.Array], list[str], str]]:
    v = "VARCHAR"
    return [
        ("name_sim", _pairwise("Levenshtein", _semantic("person_name_key"), _han_only, _fold),
         [v, v], "DOUBLE"),
        ("name_jw", _pairwise("JaroWinkler", _semantic("person_name_key"), _han_only, _fold),
         [v, v], "DOUBLE"),
        ("name_pinyin_sim", _pinyin_pairwise(), [v, v], "DOUBLE"),
        ("org_sim", _pairwise("Indel", _semantic("org_key")), [v, v], "DOUBLE"),
        ("addr_sim", _pairwise("partial_ratio", _semantic("address_key")), [v, v], "DOUBLE"),
        ("name_norm", _unary(_semantic("person_name_key")), [v], v),
        ("org_key", _unary(_semantic("org_key")), [v], v),
        ("addr_key", _unary(_semantic("address_key")), [v], v),
        ("id_norm", _unary(_semantic("id_norm")), [v], v),
        ("id_valid", _unary(_semantic("id_valid")), [v], "BOOLEAN"),
        ("id_area_known", _unary(_semantic("id_area_known")), [v], "BOOLEAN"),
        ("id_birth", _unary(_semantic("id_birth")), [v], "DATE"),
        ("id_gender", _unary(_semantic("id_gender")), [v], v),
        ("uscc_norm", _unary(_semantic("uscc_norm")), [v], v),
        ("uscc_valid", _unary(_semantic("uscc_valid")), [v], "BOOLEAN"),
        ("mask_id", _unary(_mask_series), [v], v),
    ]  # fmt: skip


_PAIRWISE = {"name_sim", "name_jw", "name_pinyin_sim", "org_sim", "addr_sim"}


@dataclass(frozen=True)
class SqlFunction:
    """One SQL function as a backend registers it: an Arrow → Arrow body over (argument types)
    → return type, in DuckDB type names. `volatile`: evaluate each call once where the SQL has
    it (see the module docstring); the function is pure all the same."""

    name: str
    body: Callable[..., pa.Array]
    args: tuple[str, ...]
    returns: str
    volatile: bool


def sql_functions(workdays: Any = None, uncovered: set[int] | None = None) -> list[SqlFunction]:
    """Every collide SQL function, with fresh bodies: their normalisation memo lives as long as
    the session that registers them. `workdays` is the working-day calendar of add_workdays
    (default: the built-in years); years a call spans without holidays go into `uncovered`."""
    from collide.engine.workdays import add_workdays_udf, builtin

    out = [
        SqlFunction(name, fn, tuple(args), ret, name in _PAIRWISE)
        for name, fn, args, ret in [*_udfs(), *geo_udfs()]
    ]
    body = add_workdays_udf(workdays or builtin(), uncovered)
    out.append(SqlFunction("add_workdays", body, ("DATE", "INTEGER"), "DATE", False))
    return out
