"""The `geometry` semantic type at ingest: shapely validates and normalises whole batches of
WKT/GeoJSON text (engine/geo.py holds the geometry rules; a batch, not a cell, per call)."""

from __future__ import annotations

from typing import Any


def geometry_exprs(src: str, name: str, crs: str | None) -> dict[str, Any]:
    """The `geometry` type: the fields of ingest's SemanticExprs (one struct per column)."""
    import polars as pl

    from collide.engine.geo import CRS_HELP, check_crs, normalise

    epsg = check_crs(crs)
    if epsg is None:
        raise ValueError(f'coordinate system "{crs}" is not accepted. {CRS_HELP}')
    dtype = pl.Struct({"value": pl.Utf8, "issue": pl.Utf8, "fatal": pl.Boolean})

    def batch(s: pl.Series) -> pl.Series:
        value, issue, fatal = normalise(s.cast(pl.Utf8).to_list(), epsg)
        return pl.DataFrame(
            {"value": value, "issue": issue, "fatal": fatal},
            schema={"value": pl.Utf8, "issue": pl.Utf8, "fatal": pl.Boolean},
        ).to_struct(s.name)

    r = pl.col(src).map_batches(batch, return_dtype=dtype)
    return {
        "value": r.struct.field("value").alias(name),
        "issue": r.struct.field("issue").alias(f"{name}_issue"),
        "fatal": r.struct.field("fatal").alias(f"{name}_fatal"),
        "struct": r,
    }
