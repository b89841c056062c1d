"""Connected components over an edge list: seconds and peak memory for N edges.

    python bench/bench_networks.py [--edges 10000000] [--nodes 6000000]

Makes N random edges between text keys (P00000001 …: plaintiffs linked by a shared agent or
phone), then in a fresh subprocess (so the peak RSS is its own) times
`collide.modelrun.networks.components` (dictionary-encode the keys, scipy's
connected_components, stable component ids) and the whole `attach_network` step a model run
does (edges SQL in the sandbox, components, the `network` and `network_edges` tables with
member and link lists). The target (issue 13) is 10 M edges in under 1 minute. Prints a Markdown
block for bench/RESULTS.md; nothing is asserted.
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


def _edges(n_edges: int, n_nodes: int, seed: int = 7):
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(seed)
    a = rng.integers(0, n_nodes, n_edges)
    b = rng.integers(0, n_nodes, n_edges)
    fmt = lambda x: pc.utf8_lpad(pc.cast(pa.array(x), pa.string()), 8, "0")  # noqa: E731
    via = pc.binary_join_element_wise("代理人", pc.cast(pa.array(a % 50_000), pa.string()), "")
    return pa.table(
        {
            "a": pc.binary_join_element_wise("P", fmt(a), ""),
            "b": pc.binary_join_element_wise("P", fmt(b), ""),
            "via": via,
        }
    )


def child(n_edges: int, n_nodes: int) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from types import SimpleNamespace

    from collide.engine.duckdb import Sandbox
    from collide.modelrun import networks

    edges = _edges(n_edges, n_nodes)
    t0, c0 = time.perf_counter(), time.process_time()
    comp = networks.components(edges["a"], edges["b"])
    t_comp, c_comp = time.perf_counter() - t0, time.process_time() - c0
    del comp
    spec = SimpleNamespace(
        inputs=["edges_in"],
        params={},
        network=SimpleNamespace(edges="SELECT a, b, via FROM edges_in"),
    )
    model = SimpleNamespace(spec=spec, display="models/bench.yaml", line=lambda *a: 1)
    with Sandbox({"edges_in": edges}) as box:
        t0, c0 = time.perf_counter(), time.process_time()
        networks.attach_network(model, box, {})
        # what a model reads: every node with its component's size, members and links
        (n_nodes, n_comp, _) = box.con.execute(
            "SELECT count(*), count(DISTINCT component), sum(length(links)) FROM network"
        ).fetchone()
        t_attach, c_attach = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "components_s": t_comp,
                "components_cpu": c_comp,
                "attach_s": t_attach,
                "attach_cpu": c_attach,
                "nodes": n_nodes,
                "components": n_comp,
                "peak_mb": peak,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edges", type=int, default=10_000_000)
    ap.add_argument("--nodes", type=int, default=6_000_000)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.edges, a.nodes)
        return
    cmd = [sys.executable, __file__, "--child", "--edges", str(a.edges), "--nodes", str(a.nodes)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    load = os.getloadavg()[0]
    print(f"### Networks: connected components over {a.edges:,} edges\n")
    print(f"{r['nodes']:,} nodes, {r['components']:,} components; load average {load:.1f} on "
          f"{os.cpu_count()} cores.\n")  # fmt: skip
    print("| step | wall s | CPU s | peak RSS |\n| --- | ---: | ---: | ---: |")
    print(f"| `components()` (dictionary encoding + scipy connected_components + ids) | "
          f"{r['components_s']:.1f} | {r['components_cpu']:.1f} | |")  # fmt: skip
    print(f"| `attach_network()` + reading `network` (edges SQL, components, tables) | "
          f"{r['attach_s']:.1f} | {r['attach_cpu']:.1f} | {r['peak_mb']:,.0f} MB |")  # fmt: skip
    print(f"\nTarget (under 60 s): {'met' if r['attach_s'] < 60 else 'not met'}.")


if __name__ == "__main__":
    main()
