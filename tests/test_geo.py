"""Polygons: the geometry semantic type and the geo_* SQL functions.

A small land project (basic farmland in projected metres, satellite patches in longitude/latitude
GeoJSON) ingested and run through the CLI; the functions checked against shapely and pyproj's
geodesic area on generated polygons.
"""

from __future__ import annotations

import csv
import json
import math
import random
from pathlib import Path

import duckdb
import polars as pl
import pytest
import shapely
from conftest import write_project
from pyproj import Geod, Transformer

TO_GK = Transformer.from_crs(4490, 4527, always_xy=True)


def _square(x: float, y: float, side: float) -> str:
    return f"POLYGON(({x} {y}, {x + side} {y}, {x + side} {y + side}, {x} {y + side}, {x} {y}))"


def _lonlat_square(lon: float, lat: float, side_deg: float) -> str:
    ring = [[lon, lat], [lon + side_deg, lat], [lon + side_deg, lat + side_deg], [lon, lat]]
    return json.dumps({"type": "Polygon", "coordinates": [ring + [[lon, lat]]]})


X0, Y0 = TO_GK.transform(117.0, 30.0)  # a point of zone 39, in metres

FARMLAND = """
id: farmland
title: 永久基本农田
source: {type: csv, path: data/farmland.csv}
columns:
  parcel_id: {from: 地块编号, type: string, required: true}
  shape:     {from: 图形, type: geometry, crs: EPSG:4527}
keys: [parcel_id]
"""
PATCHES = """
id: patches
title: 卫片图斑
source: {type: csv, path: data/patches.csv}
columns:
  patch_id: {from: 图斑编号, type: string, required: true}
  shape:    {from: 图形, type: geometry}
keys: [patch_id]
"""
MODEL = """
id: patch_on_farmland
title: 图斑占用永久基本农田
domain: 生态环境和资源保护
description: 图斑与永久基本农田重叠面积超过阈值。
severity: high
inputs: [farmland, patches]
params: {min_area: 100}
subject: {type: parcel, id: patch_id}
score: overlap_m2
reason: "图斑{patch_id}占用永久基本农田{overlap_m2}平方米"
"""
SQL = """
WITH f AS (SELECT parcel_id, shape, unnest(geo_cells(shape, 500)) AS cell FROM farmland),
     p AS (SELECT patch_id, shape, unnest(geo_cells(shape, 500)) AS cell FROM patches),
     pairs AS (SELECT DISTINCT p.patch_id, p.shape AS p_shape, f.shape AS f_shape
               FROM p JOIN f USING (cell))
SELECT patch_id, round(sum(geo_overlap_area(p_shape, f_shape)), 0) AS overlap_m2
FROM pairs WHERE geo_intersects(p_shape, f_shape)
GROUP BY patch_id HAVING sum(geo_overlap_area(p_shape, f_shape)) > $min_area
"""


def _csv(header: list[str], rows: list[list[str]]) -> str:
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _project(root: Path) -> Path:
    lon, lat = 117.0, 30.0
    farmland = [
        ["DK1", _square(X0, Y0, 200)],  # 200 m × 200 m
        ["DK2", _square(X0 + 5000, Y0, 200)],
        ["DK3", "POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))"],  # bow tie: invalid
        ["DK4", _lonlat_square(lon, lat, 0.001).replace('"Polygon"', '"Polygon" ')],  # lon/lat
    ]
    patches = [
        ["TB1", _lonlat_square(lon + 0.0005, lat + 0.0005, 0.001)],  # over a corner of DK1
        ["TB2", _lonlat_square(lon + 0.2, lat, 0.001)],  # nowhere near
        ["TB3", f"SRID=4490;{_square(lon - 0.00001, lat - 0.00001, 0.0001)}"],  # 100 m² or less
        [
            "TB4",
            "POLYGON((39500000 3300000, 39500100 3300000, 39500100 3300100, 39500000 3300000))",
        ],
    ]
    return write_project(
        root,
        {
            "connectors/farmland.yaml": FARMLAND,
            "connectors/patches.yaml": PATCHES,
            "data/farmland.csv": _csv(["地块编号", "图形"], farmland),
            "data/patches.csv": _csv(["图斑编号", "图形"], patches),
            "models/patch_on_farmland.yaml": MODEL,
            "models/patch_on_farmland.sql": SQL,
        },
    )


def test_ingest_keeps_rows_and_nulls_wrong_or_invalid_shapes_with_the_reason(tmp_path, cli):
    root = _project(tmp_path / "p")
    code, out, err = cli("--project", str(root), "ingest")
    assert code == 0, out + err
    (snap,) = (root / "output" / "snapshots").glob("farmland/*/data.parquet")
    df = pl.read_parquet(snap).sort("parcel_id")
    assert df["shape"][0].startswith("SRID=4527;POLYGON ((")
    assert df["shape"][2] is None and df["shape"][3] is None
    assert df["_issues"][2] == "shape: invalid geometry (Self-intersection[0.5 0.5])"
    assert df["_issues"][3] == (
        "shape: coordinates (117, 30) are not EPSG:4527 metres in China: "
        "wrong coordinate system? set crs: in the connector"
    )
    (snap,) = (root / "output" / "snapshots").glob("patches/*/data.parquet")
    df = pl.read_parquet(snap).sort("patch_id")
    assert df["shape"][0].startswith("SRID=4490;POLYGON ((117.0005 30.0005")
    assert df["_issues"][3] == (
        "shape: coordinates (3.95e+07, 3.3e+06) are not longitude/latitude in China: "
        "wrong coordinate system? set crs: in the connector"
    )


def test_a_patch_over_farmland_in_another_coordinate_system_is_found(tmp_path, cli):
    root = _project(tmp_path / "p")
    code, out, err = cli("--project", str(root), "run")
    assert code == 0, out + err
    code, out, err = cli("--project", str(root), "export", "--no-mask", "--format", "csv")
    assert code == 0, out + err
    (path,) = (root / "runs").glob("*/unmasked/clues.csv")
    with path.open(encoding="utf-8-sig") as f:
        clues = list(csv.DictReader(f))
    assert [c["对象证件号"] for c in clues] == ["TB1"]
    # the part of TB1 over DK1, in metres, by an independent route (pyproj + shapely)
    tb1 = shapely.from_geojson(_lonlat_square(117.0005, 30.0005, 0.001))
    tb1_gk = shapely.transform(tb1, lambda xy: list(zip(*TO_GK.transform(*xy.T))))
    expected = tb1_gk.intersection(shapely.from_wkt(_square(X0, Y0, 200))).area
    assert clues[0]["线索说明"] == f"图斑TB1占用永久基本农田{round(expected)}平方米"


def test_an_unknown_coordinate_system_is_refused_at_its_line(tmp_path, cli):
    root = _project(tmp_path / "p")
    (root / "connectors/farmland.yaml").write_text(
        FARMLAND.replace("EPSG:4527", "EPSG:3857"), encoding="utf-8"
    )
    code, out, err = cli("--project", str(root), "check")
    assert code == 1
    assert (
        'connectors/farmland.yaml:7: columns.shape: coordinate system "EPSG:3857" is not '
        "accepted. Use EPSG:4490 (CGCS2000 longitude/latitude), EPSG:4513–4533"
    ) in out + err


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    from collide.engine.duckdb import register_functions

    c = duckdb.connect()
    register_functions(c)
    return c


def _random_polygons(rnd: random.Random, n: int, lonlat: bool) -> list[str]:
    out = []
    for _ in range(n):
        cx, cy = (117 + rnd.random() * 0.01, 30 + rnd.random() * 0.01) if lonlat else (
            X0 + rnd.random() * 1000, Y0 + rnd.random() * 1000)  # fmt: skip
        r = 0.0005 if lonlat else 50
        angles = sorted(rnd.uniform(0, 2 * math.pi) for _ in range(6))  # a star-shaped ring
        radii = [r * rnd.uniform(0.3, 1) for _ in angles]
        pts = [(cx + k * math.cos(a), cy + k * math.sin(a)) for a, k in zip(angles, radii)]
        out.append(shapely.Polygon(pts).wkt)
    return out


def test_functions_agree_with_shapely_and_the_geodesic_area(con) -> None:
    rnd = random.Random(3)
    a, b = _random_polygons(rnd, 300, False), _random_polygons(rnd, 300, False)
    got = con.execute(
        "SELECT geo_intersects(x, y), geo_overlap_area(x, y), geo_overlap_share(x, y), "
        "geo_area(x) FROM (SELECT unnest($a) AS x, unnest($b) AS y)",
        {"a": a, "b": b},
    ).fetchall()
    for (inter, area, share, whole), wa, wb in zip(got, a, b):
        ga, gb = shapely.from_wkt(wa), shapely.from_wkt(wb)
        assert inter == ga.intersects(gb)
        assert area == pytest.approx(ga.intersection(gb).area, abs=1e-6)
        assert share == pytest.approx(ga.intersection(gb).area / ga.area, abs=1e-9)
        assert whole == pytest.approx(ga.area)
    geod = Geod(ellps="GRS80")  # CGCS2000's ellipsoid differs from GRS80 by 1e-10 in flattening
    ll = _random_polygons(rnd, 100, True)
    areas = [r[0] for r in con.execute("SELECT geo_area(unnest($g))", {"g": ll}).fetchall()]
    for g, area in zip(ll, areas):
        assert area == pytest.approx(
            abs(geod.geometry_area_perimeter(shapely.from_wkt(g))[0]), rel=1e-5
        )


def test_cells_never_miss_an_intersecting_pair(con) -> None:
    rnd = random.Random(5)
    a, b = _random_polygons(rnd, 200, False), _random_polygons(rnd, 200, True)
    found = set(
        con.execute(
            "WITH a AS (SELECT i, g, unnest(geo_cells(g, 80)) AS c FROM "
            "  (SELECT unnest(range(len($a))) AS i, unnest($a) AS g)), "
            "b AS (SELECT j, g, unnest(geo_cells(g, 80)) AS c FROM "
            "  (SELECT unnest(range(len($b))) AS j, unnest($b) AS g)) "
            "SELECT DISTINCT i, j FROM a JOIN b USING (c) WHERE geo_intersects(a.g, b.g)",
            {"a": a, "b": b},
        ).fetchall()
    )
    to_gk = lambda g: shapely.transform(g, lambda xy: list(zip(*TO_GK.transform(*xy.T))))  # noqa: E731
    gb = [to_gk(shapely.from_wkt(w)) for w in b]
    truth = {
        (i, j)
        for i, wa in enumerate(a)
        for j, g in enumerate(gb)
        if shapely.from_wkt(wa).intersects(g)
    }
    assert truth and found == truth


def test_null_unreadable_and_mixed_unknown_systems_give_null(con) -> None:
    row = con.execute(
        "SELECT geo_area(NULL), geo_area('not a shape'), "
        "geo_intersects('POLYGON((0 0,1000 0,1000 1000,0 0))', 'POLYGON((117 30,117.1 30,117.1 30.1,117 30))'), "
        "geo_valid('POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))'), geo_valid('POLYGON((0 0,1 0,1 1,0 0))')"
    ).fetchone()
    assert row == (None, None, None, False, True)
