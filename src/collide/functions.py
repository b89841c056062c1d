"""SQL functions for model SQL: character-level similarity and the semantic-type normalisers.

DuckDB's own `jaro_winkler_similarity` / `levenshtein` count UTF-8 bytes, so on Chinese names
(3 bytes per character) they give wrong scores. These functions are Arrow UDFs: DuckDB hands over
a whole vector at once, the normalisers run as the same polars expressions `semantic.py` uses at
ingest, and similarity runs in rapidfuzz's C loop (`process.cpdist`) over the pairs.

Register them before the model sandbox is locked (`enable_external_access=false`,
`lock_configuration=true`); they keep working afterwards since they touch no files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pyarrow as pa
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel, JaroWinkler, Levenshtein

from collide import semantic

if TYPE_CHECKING:
    import duckdb

__all__ = ["FUNCTIONS", "register_functions"]

# (name, signature, returns, description): documentation and `collide check` "did you mean".
FUNCTIONS: list[tuple[str, str, str, str]] = [
    ("name_sim", "name_sim(a VARCHAR, b VARCHAR)", "DOUBLE",
     ("Character-level normalised Levenshtein similarity 0..1 of two person names "
     "(normalised first: spaces, full-width, middle dots).")),
    ("name_jw", "name_jw(a VARCHAR, b VARCHAR)", "DOUBLE",
     "Character-level Jaro-Winkler similarity 0..1 of two normalised person names."),
    ("org_sim", "org_sim(a VARCHAR, b VARCHAR)", "DOUBLE",
     "Indel similarity 0..1 (fuzz.ratio / 100) of the organisation-name keys."),
    ("addr_sim", "addr_sim(a VARCHAR, b VARCHAR)", "DOUBLE",
     ("Partial-ratio similarity 0..1 of the address keys (a short address inside a long one "
     "scores high).")),
    ("name_norm", "name_norm(s VARCHAR)", "VARCHAR",
     "Person name without inner spaces, half-width, middle dot unified to ·."),
    ("org_key", "org_key(s VARCHAR)", "VARCHAR",
     ("Matching key of an organisation name: brackets, spaces, punctuation dropped, "
     "有限责任公司 → 有限公司.")),
    ("addr_key", "addr_key(s VARCHAR)", "VARCHAR",
     "Matching key of an address: no spaces or punctuation, 号楼/幢 → 栋, # → 号."),
    ("id_norm", "id_norm(s VARCHAR)", "VARCHAR",
     ("18-character resident ID: half-width, X upper-case, 15-digit upgraded; NULL if unusable "
     "(kept when only the checksum is wrong).")),
    ("id_valid", "id_valid(s VARCHAR)", "BOOLEAN",
     "True when the resident ID has a valid shape, birth date and MOD 11-2 checksum."),
    ("id_birth", "id_birth(s VARCHAR)", "DATE", "Birth date encoded in a resident ID."),
    ("id_gender", "id_gender(s VARCHAR)", "VARCHAR",
     "'男' or '女' from the 17th digit of a resident ID (odd = male)."),
    ("uscc_norm", "uscc_norm(s VARCHAR)", "VARCHAR",
     "Unified social credit code upper-case and half-width; NULL when the shape is wrong."),
    ("uscc_valid", "uscc_valid(s VARCHAR)", "BOOLEAN",
     "True for an 18-character USCC with a correct GB 32100 check character."),
    ("mask_id", "mask_id(s VARCHAR)", "VARCHAR",
     "Resident ID masked for sharing: 110105********002X (15-digit: first 6, 5 stars, last 4)."),
]  # fmt: skip


def _unary(fn: Callable[[pl.Series], pl.Series]) -> Callable[[Any], pa.Array]:
    """Wrap a Series → Series normaliser as an Arrow UDF body."""

    def udf(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
        return fn(pl.Series(arr).cast(pl.Utf8)).to_arrow()

    return udf


def _pairwise(
    scorer: Callable[..., float], norm: Callable[[pl.Series], pl.Series]
) -> Callable[[Any, Any], pa.Array]:
    """Wrap a rapidfuzz scorer as an Arrow UDF over (a, b) pairs; NULL in either side → NULL."""

    def udf(a: pa.ChunkedArray | pa.Array, b: pa.ChunkedArray | pa.Array) -> pa.Array:
        sa = norm(pl.Series(a).cast(pl.Utf8))
        sb = norm(pl.Series(b).cast(pl.Utf8))
        ok = (sa.is_not_null() & sb.is_not_null()).to_numpy()
        out = np.zeros(len(sa), dtype=np.float64)
        if ok.any():
            out[ok] = process.cpdist(
                sa.filter(ok).to_list(),
                sb.filter(ok).to_list(),
                scorer=scorer,
                dtype=np.float64,
                workers=1,  # DuckDB hands over ~2k rows at a time: threads cost more than they save
            )
        return pa.array(out, mask=~ok)

    return udf


def _ratio_0_1(a: str, b: str, **kwargs: Any) -> float:
    return fuzz.partial_ratio(a, b, **kwargs) / 100.0


def _mask_series(s: pl.Series) -> pl.Series:
    return s.to_frame("s").select(semantic.mask_id_expr(pl.col("s"))).to_series()


def _udfs() -> list[tuple[str, Callable[..., pa.Array], list[str], str]]:
    v = "VARCHAR"
    return [
        ("name_sim", _pairwise(Levenshtein.normalized_similarity, semantic.person_name_norm),
         [v, v], "DOUBLE"),
        ("name_jw", _pairwise(JaroWinkler.normalized_similarity, semantic.person_name_norm),
         [v, v], "DOUBLE"),
        ("org_sim", _pairwise(Indel.normalized_similarity, semantic.org_key), [v, v], "DOUBLE"),
        ("addr_sim", _pairwise(_ratio_0_1, semantic.address_key), [v, v], "DOUBLE"),
        ("name_norm", _unary(semantic.person_name_norm), [v], v),
        ("org_key", _unary(semantic.org_key), [v], v),
        ("addr_key", _unary(semantic.address_key), [v], v),
        ("id_norm", _unary(semantic.id_norm), [v], v),
        ("id_valid", _unary(semantic.id_valid), [v], "BOOLEAN"),
        ("id_birth", _unary(semantic.id_birth), [v], "DATE"),
        ("id_gender", _unary(semantic.id_gender), [v], v),
        ("uscc_norm", _unary(semantic.uscc_norm), [v], v),
        ("uscc_valid", _unary(semantic.uscc_valid), [v], "BOOLEAN"),
        ("mask_id", _unary(_mask_series), [v], v),
    ]  # fmt: skip


def register_functions(con: duckdb.DuckDBPyConnection) -> None:
    """Register every function on `con` (call before locking the connection's configuration)."""
    for name, fn, args, ret in _udfs():
        con.create_function(name, fn, args, ret, type="arrow", null_handling="special")
