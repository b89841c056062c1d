"""Polygons: the `geometry` semantic type and the geo_* SQL functions, offline.

DuckDB's spatial extension has to be downloaded, which an isolated network cannot do, so the
geometry work is shapely 2 (GEOS, vectorised: one call per DuckDB vector, the GIL released) and
pyproj (its EPSG database ships in the wheel) behind Arrow UDFs.

A geometry value is text: `SRID=<epsg>;<WKT>`. At ingest the column's `crs:` (default
EPSG:4490) says what the agency's coordinates are; WKT and GeoJSON are read, the coordinates are
checked against the extent of that system (a lon/lat value in a projected column, or one of
another zone, is null plus an issue), and an invalid shape (self-intersecting ring, …) is null
plus GEOS's reason. Accepted systems (all CGCS2000):

- EPSG:4490 longitude/latitude (degrees);
- EPSG:4491–4501 6-degree Gauss-Krüger zones 13–23, EPSG:4513–4533 3-degree zones 25–45 (the
  easting carries the zone number, 39 500 000 m at the central meridian of zone 39);
- EPSG:4502–4512 (6-degree) and EPSG:4534–4554 (3-degree), the same without the zone number.

Areas are square metres: planar in a projected system (what the coordinates say); for
longitude/latitude, planar on an Albers equal-area projection of the CGCS2000 ellipsoid centred on
China (lat 25°/47°, lon 105°), equal-area by construction, so within rounding of the ellipsoidal
area for parcel-sized shapes. Two values in different systems are compared after converting the
second to the first's. A text without `SRID=` (a literal, a test row) is read as lon/lat when
its coordinates fit, as a Gauss-Krüger zone when its easting carries one, else as plain metres
(SRID 0), which compares only with SRID 0.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    pass

__all__ = ["GEO_FUNCTIONS", "geo_udfs", "normalise", "check_crs", "CRS_HELP"]

LONLAT = 4490
_ALBERS = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +x_0=0 +y_0=0 +ellps=GRS80 +units=m"
CRS_HELP = (
    "Use EPSG:4490 (CGCS2000 longitude/latitude), EPSG:4513–4533 (3-degree Gauss-Krüger zones "
    "25–45 with the zone number in the easting), EPSG:4534–4554 (the same without it), "
    "EPSG:4491–4501 or EPSG:4502–4512 (6-degree zones)"
)

# (name, signature, returns, description), as functions.FUNCTIONS
GEO_FUNCTIONS: list[tuple[str, str, str, str]] = [
    ("geo_intersects", "geo_intersects(a VARCHAR, b VARCHAR)", "BOOLEAN",
     "True when the two geometries share at least one point."),
    ("geo_area", "geo_area(g VARCHAR)", "DOUBLE",
     "Area in square metres (lon/lat: on an equal-area projection of the CGCS2000 ellipsoid)."),
    ("geo_overlap_area", "geo_overlap_area(a VARCHAR, b VARCHAR)", "DOUBLE",
     "Area in square metres of the part of a inside b (0 when they do not overlap)."),
    ("geo_overlap_share", "geo_overlap_share(a VARCHAR, b VARCHAR)", "DOUBLE",
     "Share 0..1 of a's area that lies inside b."),
    ("geo_intersection", "geo_intersection(a VARCHAR, b VARCHAR)", "VARCHAR",
     "The part of a inside b, as a geometry (in a's coordinate system)."),
    ("geo_valid", "geo_valid(g VARCHAR)", "BOOLEAN",
     "True for a readable, valid geometry."),
    ("geo_cells", "geo_cells(g VARCHAR, size DOUBLE)", "BIGINT[]",
     ("Ids of the size × size metre grid cells the geometry's bounding box touches: UNNEST on "
      "both sides and join on the cell, so only nearby pairs are compared.")),
]  # fmt: skip


# --------------------------------------------------------------------------- systems


def _zone_range(epsg: int) -> tuple[float, float] | None:
    """Easting range of a Gauss-Krüger system (None if `epsg` is not one we accept)."""
    if 4513 <= epsg <= 4533:  # 3-degree, zone 25–45 in the easting
        zone = epsg - 4488
        return zone * 1e6 + 200_000, zone * 1e6 + 800_000
    if 4491 <= epsg <= 4501:  # 6-degree, zone 13–23 in the easting
        zone = epsg - 4478
        return zone * 1e6 + 100_000, zone * 1e6 + 900_000
    if 4534 <= epsg <= 4554:
        return 200_000.0, 800_000.0
    if 4502 <= epsg <= 4512:
        return 100_000.0, 900_000.0
    return None


def check_crs(text: str | None) -> int | None:
    """EPSG code of a `crs:` setting ("EPSG:4527", "4527", "CGCS2000"); None if not accepted."""
    if text is None:
        return LONLAT
    t = str(text).strip().upper().replace("EPSG:", "").replace("EPSG", "")
    if t in {"CGCS2000", "4490"}:
        return LONLAT
    if t.isdigit() and _zone_range(int(t)) is not None:
        return int(t)
    return None


def _extent_ok(epsg: int, bounds: np.ndarray) -> np.ndarray:
    """Rows whose bounding box (xmin, ymin, xmax, ymax) lies in the system's extent over China."""
    x0, y0, x1, y1 = bounds.T
    if epsg == LONLAT:
        return (x0 >= 73) & (x1 <= 136) & (y0 >= 3) & (y1 <= 54)
    lo, hi = _zone_range(epsg)  # type: ignore[misc]
    return (x0 >= lo) & (x1 <= hi) & (y0 >= 0) & (y1 <= 6_500_000)


def _guess_srid(bounds: np.ndarray) -> np.ndarray:
    """SRID of values written without one (see the module docstring)."""

    x0, y0, x1, y1 = bounds.T
    out = np.zeros(len(bounds), dtype=np.int64)
    lonlat = (np.abs(x0) <= 180) & (np.abs(x1) <= 180) & (np.abs(y0) <= 90) & (np.abs(y1) <= 90)
    out[lonlat] = LONLAT
    zone = np.floor(np.nan_to_num(x0) / 1e6).astype(np.int64)
    three = ~lonlat & (zone >= 25) & (zone <= 45)
    six = ~lonlat & (zone >= 13) & (zone <= 23)
    out[three] = 4488 + zone[three]
    out[six] = 4478 + zone[six]
    return out


# DuckDB calls the functions from its own threads, and PROJ crashed when pyproj set up a
# transformer inside one of them: every PROJ call runs on one Python-made thread instead.
_PROJ_POOL: Any = None
_PROJ_LOCK = threading.Lock()
_TRANSFORMERS: dict[tuple[int, int | str], Any] = {}


def _project(src: int, dst: int | str, x: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    """Coordinates x, y in EPSG:`src` converted to `dst` (an EPSG code or a PROJ string)."""
    global _PROJ_POOL
    with _PROJ_LOCK:
        if _PROJ_POOL is None:
            from concurrent.futures import ThreadPoolExecutor

            _PROJ_POOL = ThreadPoolExecutor(1, thread_name_prefix="collide-proj")
    return _PROJ_POOL.submit(_project_here, src, dst, x, y).result()


def _project_here(src: int, dst: int | str, x: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    from pyproj import Transformer

    t = _TRANSFORMERS.get((src, dst))
    if t is None:
        target = dst if isinstance(dst, str) else f"EPSG:{dst}"
        t = _TRANSFORMERS[src, dst] = Transformer.from_crs(f"EPSG:{src}", target, always_xy=True)
    return t.transform(x, y)


def _to(geoms: np.ndarray, srids: np.ndarray, dst: int | str) -> np.ndarray:
    """`geoms` converted to `dst` (an EPSG code or a PROJ string), each from its own SRID."""
    import shapely

    out = geoms.copy()
    for s in np.unique(srids):
        if s == dst or s == 0:
            continue
        rows = srids == s
        out[rows] = shapely.transform(
            geoms[rows],
            lambda xy, s=int(s): np.column_stack(_project(s, dst, xy[:, 0], xy[:, 1])),
        )
    return out


# --------------------------------------------------------------------------- reading


def _parse_text(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """(geometries, SRIDs) of `SRID=…;WKT`, WKT or GeoJSON texts (an Arrow string array or a
    list); None where unreadable, SRID 0 where none is written."""
    import pyarrow.compute as pc
    import shapely

    arr = _strings(values)
    arr = pc.utf8_trim_whitespace(arr)
    head = pc.extract_regex(arr, r"^(?i:SRID=)(?P<srid>[0-9]{1,9});")
    srid = (
        pc.cast(pc.struct_field(head, "srid"), pa.int64())
        .fill_null(0)
        .to_numpy(zero_copy_only=False)
        .copy()
    )
    body = pc.replace_substring_regex(arr, r"^(?i:SRID=)[0-9]{1,9};", "")
    geojson = pc.starts_with(body, "{").fill_null(False).to_numpy(zero_copy_only=False)
    text = body.to_numpy(zero_copy_only=False)
    n = len(text)
    geoms = np.empty(n, dtype=object)
    wkt = ~geojson & pc.is_valid(body).to_numpy(zero_copy_only=False)
    if wkt.any():
        geoms[wkt] = shapely.from_wkt(text[wkt], on_invalid="ignore")
    if geojson.any():
        geoms[geojson] = shapely.from_geojson(text[geojson], on_invalid="ignore")
    return geoms, srid


def _strings(values: Any) -> pa.Array:
    if isinstance(values, list):
        return pa.array(values, pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not pa.types.is_string(values.type):
        values = values.cast(pa.string())
    return values


def _read(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Geometries and SRIDs of a VARCHAR vector; values without an SRID get a guessed one."""
    import shapely

    geoms, srid = _parse_text(arr)
    ok = ~shapely.is_missing(geoms)
    unknown = ok & (srid == 0)
    if unknown.any():
        srid[unknown] = _guess_srid(shapely.bounds(geoms[unknown]))
    srid[~ok] = -1
    return geoms, srid.astype(np.int64)


def _same_system(
    ga: np.ndarray, sa: np.ndarray, gb: np.ndarray, sb: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """b converted to a's system row by row; `ok` false where either is unreadable or the two
    cannot be compared (SRID 0 against a known system)."""

    ok = (sa >= 0) & (sb >= 0) & ((sa == sb) | ((sa != 0) & (sb != 0)))
    gb = gb.copy()
    differ = ok & (sa != sb)
    for s_from, s_to in {(int(x), int(y)) for x, y in zip(sb[differ], sa[differ])}:
        rows = differ & (sb == s_from) & (sa == s_to)
        gb[rows] = _to(gb[rows], np.full(rows.sum(), s_from), s_to)
    return gb, ok


def _areas(geoms: np.ndarray, srids: np.ndarray) -> np.ndarray:
    import shapely

    out = np.full(len(geoms), np.nan)
    ok = srids >= 0
    if not ok.any():
        return out
    g = geoms[ok]
    s = srids[ok]
    lonlat = s == LONLAT
    if lonlat.any():
        g = g.copy()
        g[lonlat] = _to(g[lonlat], s[lonlat], _ALBERS)
    out[ok] = shapely.area(g)
    return out


def _arrow(values: np.ndarray, valid: np.ndarray, type_: pa.DataType) -> pa.Array:

    mask = ~valid | (np.isnan(values) if values.dtype.kind == "f" else False)
    return pa.array(values, type=type_, mask=mask)


# --------------------------------------------------------------------------- SQL functions


def geo_intersects(a: Any, b: Any) -> pa.Array:
    import shapely

    ga, sa = _read(a)
    gb, sb = _read(b)
    gb, ok = _same_system(ga, sa, gb, sb)
    out = shapely.intersects(ga, gb)
    return pa.array(out.astype(bool), mask=~ok)


def geo_area(g: Any) -> pa.Array:

    geoms, srids = _read(g)
    return _arrow(_areas(geoms, srids), srids >= 0, pa.float64())


def _overlap(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(a ∩ b, a, a's SRIDs, comparable rows)."""
    import shapely

    ga, sa = _read(a)
    gb, sb = _read(b)
    gb, ok = _same_system(ga, sa, gb, sb)
    inter = np.empty(len(ga), dtype=object)
    hit = ok & shapely.intersects(ga, gb)
    if hit.any():
        inter[hit] = shapely.intersection(ga[hit], gb[hit])
    none = ok & ~hit
    if none.any():
        inter[none] = shapely.Polygon()
    return inter, ga, np.where(ok, sa, -1), ok


def geo_overlap_area(a: Any, b: Any) -> pa.Array:

    inter, _, srids, ok = _overlap(a, b)
    return _arrow(_areas(inter, srids), ok, pa.float64())


def geo_overlap_share(a: Any, b: Any) -> pa.Array:

    inter, ga, srids, ok = _overlap(a, b)
    whole = _areas(ga, srids)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(whole > 0, _areas(inter, srids) / whole, np.nan)
    return _arrow(share, ok, pa.float64())


def geo_intersection(a: Any, b: Any) -> pa.Array:

    inter, _, srids, ok = _overlap(a, b)
    return pa.array(_write(inter, srids), pa.string(), mask=~ok)


def geo_valid(g: Any) -> pa.Array:
    import shapely

    geoms, srids = _read(g)
    ok = srids >= 0
    valid = np.zeros(len(geoms), dtype=bool)
    valid[ok] = shapely.is_valid(geoms[ok]) & ~shapely.is_empty(geoms[ok])
    return pa.array(valid, mask=_strings(g).is_null().to_numpy(zero_copy_only=False))


_CELL_BITS = 32
_CELL_OFFSET = 1 << 30


def geo_cells(g: Any, size: Any) -> pa.Array:
    """Grid cells of each bounding box, on one frame for every system (Albers metres; plain
    metres for SRID 0), so values in different systems meet in the same cells."""
    import pyarrow.compute as pc
    import shapely

    geoms, srids = _read(g)
    sizes = np.asarray(
        pc.cast(size.combine_chunks() if hasattr(size, "combine_chunks") else size, pa.float64())
        .fill_null(np.nan)
        .to_numpy(zero_copy_only=False)
    )
    n = len(geoms)
    ok = (srids >= 0) & (sizes > 0)
    box = np.full((n, 4), np.nan)
    if ok.any():
        box[ok] = _albers_bounds(shapely.bounds(geoms[ok]), srids[ok])
    with np.errstate(invalid="ignore"):
        lo_x = np.floor(box[:, 0] / sizes)
        lo_y = np.floor(box[:, 1] / sizes)
        hi_x = np.floor(box[:, 2] / sizes)
        hi_y = np.floor(box[:, 3] / sizes)
    ok &= np.isfinite(lo_x) & np.isfinite(hi_y)
    nx = np.where(ok, hi_x - lo_x + 1, 0).astype(np.int64)
    ny = np.where(ok, hi_y - lo_y + 1, 0).astype(np.int64)
    counts = nx * ny
    total = int(counts.sum())
    row = np.repeat(np.arange(n), counts)
    k = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    ix = lo_x[row].astype(np.int64) + k // np.maximum(ny[row], 1)
    iy = lo_y[row].astype(np.int64) + k % np.maximum(ny[row], 1)
    cells = ((ix + _CELL_OFFSET) << _CELL_BITS) + (iy + _CELL_OFFSET)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(
        pa.array(offsets), pa.array(cells, pa.int64()), mask=pa.array(~ok)
    )


def _albers_bounds(bounds: np.ndarray, srids: np.ndarray) -> np.ndarray:
    """Bounding boxes on the Albers frame (from the four corners; 1 m margin for the curvature
    of the edges between them), SRID 0 left in its own metres."""
    out = bounds.copy()
    for s in np.unique(srids):
        if s == 0:
            continue
        rows = srids == s
        x0, y0, x1, y1 = bounds[rows].T
        xs, ys = _project(
            int(s), _ALBERS, np.concatenate([x0, x1, x0, x1]), np.concatenate([y0, y0, y1, y1])
        )
        xs, ys = np.asarray(xs).reshape(4, -1), np.asarray(ys).reshape(4, -1)
        out[rows] = np.column_stack([xs.min(0) - 1, ys.min(0) - 1, xs.max(0) + 1, ys.max(0) + 1])
    return out


def geo_udfs() -> list[tuple[str, Callable[..., pa.Array], list[str], str]]:
    """(name, Arrow body, argument types, return type) for functions.register_functions."""
    v = "VARCHAR"
    return [
        ("geo_intersects", geo_intersects, [v, v], "BOOLEAN"),
        ("geo_area", geo_area, [v], "DOUBLE"),
        ("geo_overlap_area", geo_overlap_area, [v, v], "DOUBLE"),
        ("geo_overlap_share", geo_overlap_share, [v, v], "DOUBLE"),
        ("geo_intersection", geo_intersection, [v, v], v),
        ("geo_valid", geo_valid, [v], "BOOLEAN"),
        ("geo_cells", geo_cells, [v, "DOUBLE"], "BIGINT[]"),
    ]


# --------------------------------------------------------------------------- the semantic type


def _write(geoms: np.ndarray, srids: np.ndarray) -> list[str | None]:
    import shapely

    wkt = shapely.to_wkt(geoms, rounding_precision=-1, trim=True)
    return [None if w is None else f"SRID={int(s)};{w}" for w, s in zip(wkt, srids)]


def normalise(values: list[str | None], epsg: int) -> tuple[list, list, list]:
    """(value, issue, fatal) per cell of a geometry column declared in `epsg`."""
    import shapely

    geoms, srid = _parse_text(values)
    n = len(values)
    value: list[str | None] = [None] * n
    issue: list[str | None] = [None] * n
    fatal = [False] * n
    read = ~shapely.is_missing(geoms)
    bounds = np.full((n, 4), np.nan)
    if read.any():
        bounds[read] = shapely.bounds(geoms[read])
    inside = np.zeros(n, dtype=bool)
    if read.any():
        inside[read] = _extent_ok(epsg, bounds[read])
    valid = np.zeros(n, dtype=bool)
    if read.any():
        valid[read] = shapely.is_valid(geoms[read])
    good = read & inside & valid & (srid == 0) | read & inside & valid & (srid == epsg)
    out = _write(geoms, np.full(n, epsg))
    for i, raw in enumerate(values):
        if raw is None or not raw.strip():
            continue
        short = raw.strip()[:40] + ("…" if len(raw.strip()) > 40 else "")
        if good[i] and not shapely.is_empty(geoms[i]):
            value[i] = out[i]
            continue
        fatal[i] = True
        if not read[i]:
            issue[i] = f'unreadable geometry "{short}" (expected WKT or GeoJSON)'
        elif srid[i] not in (0, epsg):
            issue[i] = f"geometry in EPSG:{srid[i]}, the column is declared EPSG:{epsg}"
        elif shapely.is_empty(geoms[i]):
            issue[i] = "empty geometry"
        elif not valid[i]:
            issue[i] = f"invalid geometry ({shapely.is_valid_reason(geoms[i])})"
        else:
            x, y = bounds[i, 0], bounds[i, 1]
            what = "longitude/latitude" if epsg == LONLAT else f"EPSG:{epsg} metres"
            issue[i] = (
                f"coordinates ({x:g}, {y:g}) are not {what} in China: "
                "wrong coordinate system? set crs: in the connector"
            )
    return value, issue, fatal
