"""Polygon overlap join: 1 M parcels × 200 k satellite patches, seconds and peak memory.

    python bench/bench_geo.py [--parcels 1000000] [--patches 200000] [--cell 200]

Makes a district of square-ish parcels (about 100 m, jittered, CGCS2000 Gauss-Krüger zone 39
metres, as `SRID=4527;POLYGON …` text: what the `geometry` type stores) and patches of 20–80 m
at random places, then in a fresh subprocess (its own peak RSS) runs the join a model writes, in
the model sandbox with the geo_* functions: grid cells from `geo_cells` unnested on both sides,
the distinct candidate pairs, `geo_intersects`, and `geo_overlap_area` summed per patch. The
target (issue 13) is under 2 minutes with peak memory under 4 GB. It also counts the pairs an
all-pairs join would compare. Prints a Markdown block for bench/RESULTS.md; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
X0, Y0 = 39_450_000.0, 3_300_000.0

SQL = """
WITH f AS (SELECT parcel_id, unnest(geo_cells(shape, $cell)) AS cell FROM parcels),
     p AS (SELECT patch_id, unnest(geo_cells(shape, $cell)) AS cell FROM patches),
     pairs AS (SELECT DISTINCT f.parcel_id, p.patch_id FROM f JOIN p USING (cell)),
     cand AS (SELECT pairs.*, pa.shape AS p_shape, fa.shape AS f_shape FROM pairs
              JOIN patches pa USING (patch_id) JOIN parcels fa USING (parcel_id))
SELECT count(*) AS candidates,
       count(*) FILTER (WHERE hit) AS overlapping,
       sum(overlap) AS overlap_m2
FROM (SELECT geo_intersects(p_shape, f_shape) AS hit,
             CASE WHEN geo_intersects(p_shape, f_shape) THEN geo_overlap_area(p_shape, f_shape)
             END AS overlap
      FROM cand)
"""


def _tables(n_parcels: int, n_patches: int, seed: int = 11):
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_parcels)))
    i = np.arange(n_parcels)
    x, y = X0 + (i % side) * 100.0, Y0 + (i // side) * 100.0
    j = rng.uniform(-8, 8, (n_parcels, 4))  # inner corners jittered: parcels do not tile exactly

    def wkt(x0, y0, x1, y1, x2, y2, x3, y3):
        return [
            f"SRID=4527;POLYGON (({a:.2f} {b:.2f}, {c:.2f} {d:.2f}, {e:.2f} {f:.2f}, "
            f"{g:.2f} {h:.2f}, {a:.2f} {b:.2f}))"
            for a, b, c, d, e, f, g, h in zip(x0, y0, x1, y1, x2, y2, x3, y3)
        ]

    parcels = pa.table(
        {
            "parcel_id": [f"DK{k:08d}" for k in i],
            "shape": wkt(x, y, x + 100 + j[:, 0], y, x + 100 + j[:, 1], y + 100 + j[:, 2],
                         x, y + 100 + j[:, 3]),
        }
    )  # fmt: skip
    px = X0 + rng.uniform(0, side * 100.0, n_patches)
    py = Y0 + rng.uniform(0, side * 100.0, n_patches)
    w, h = rng.uniform(20, 80, n_patches), rng.uniform(20, 80, n_patches)
    patches = pa.table(
        {
            "patch_id": [f"TB{k:08d}" for k in range(n_patches)],
            "shape": wkt(px, py, px + w, py, px + w, py + h, px, py + h),
        }
    )
    return parcels, patches


def child(n_parcels: int, n_patches: int, cell: float) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from collide.engine.duckdb import Sandbox

    parcels, patches = _tables(n_parcels, n_patches)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with Sandbox({"parcels": parcels, "patches": patches}) as box:
        t0, c0 = time.perf_counter(), time.process_time()
        row = box.con.execute(SQL, {"cell": cell}).fetchone()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": cpu,
                "candidates": row[0],
                "overlapping": row[1],
                "overlap_m2": row[2],
                "peak_mb": peak,
                "data_mb": base,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parcels", type=int, default=1_000_000)
    ap.add_argument("--patches", type=int, default=200_000)
    ap.add_argument("--cell", type=float, default=200.0, help="grid cell size in metres")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.parcels, a.patches, a.cell)
        return
    cmd = [sys.executable, __file__, "--child", "--parcels", str(a.parcels),
           "--patches", str(a.patches), "--cell", str(a.cell)]  # fmt: skip
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    load = os.getloadavg()[0]
    print(f"### Polygons: {a.parcels:,} parcels × {a.patches:,} patches overlap join\n")
    print(f"Grid cells of {a.cell:g} m; load average {load:.1f} on {os.cpu_count()} cores. "
          f"All pairs would be {a.parcels * a.patches:,}; the cells left {r['candidates']:,} "
          f"candidates, {r['overlapping']:,} overlapping, "
          f"{r['overlap_m2']:,.0f} m² in all.\n")  # fmt: skip
    print("| step | wall s | CPU s | peak RSS |\n| --- | ---: | ---: | ---: |")
    print(f"| cells + candidate pairs + geo_intersects + geo_overlap_area | {r['wall']:.1f} | "
          f"{r['cpu']:.1f} | {r['peak_mb']:,.0f} MB "
          f"(inputs alone {r['data_mb']:,.0f} MB) |")  # fmt: skip
    ok = r["wall"] < 120 and r["peak_mb"] < 4096
    print(f"\nTarget (under 120 s, under 4 GB): {'met' if ok else 'not met'}.")


if __name__ == "__main__":
    main()
