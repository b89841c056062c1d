"""Networks: connected components over an edge list a model defines in SQL.

A model with a `network:` block gives `edges:`, one SELECT over its inputs producing rows
(a, b, via): two subjects linked by something they share (an agent, a phone, an address, an
account), `via` saying what. Before the model SQL runs, the components are computed here and the
model SQL may read two more relations:

- `network` (node, component, size, members, links): one row per subject that has a link;
- `network_edges` (component, a, b, via): the edges, each with its component.

Components are computed with scipy's `connected_components` over integer ids from a sorted
dictionary of the node keys (Arrow), so 10 M edges take seconds and little memory. A component's
id is a hash of its smallest member key: the same group found tomorrow keeps its id (and so its
clue) as long as its smallest member stays in it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from collide.engine.backend import QueryError
from collide.errors import CollideError, Problem

if TYPE_CHECKING:
    import pyarrow as pa

    from collide.config.catalog import Model

__all__ = ["NETWORK_TABLES", "components", "attach_network", "check_network", "sql_inputs"]

NETWORK_TABLES: dict[str, dict[str, str]] = {
    "network": {
        "node": "VARCHAR",
        "component": "VARCHAR",
        "size": "BIGINT",
        "members": "VARCHAR",
        "links": "VARCHAR",
    },
    "network_edges": {"component": "VARCHAR", "a": "VARCHAR", "b": "VARCHAR", "via": "VARCHAR"},
}
EDGE_COLUMNS = ("a", "b", "via")
# members/links texts list at most this many entries (a prosecutor reads them; the full lists
# are in network / network_edges)
LIST_LIMIT = 50


def sql_inputs(model: Model) -> list[str]:
    """The relations the model SQL may read: its inputs, plus the network tables if it has one."""
    extra = list(NETWORK_TABLES) if getattr(model.spec, "network", None) else []
    return [*model.spec.inputs, *extra]


def components(a: pa.Array | pa.ChunkedArray, b: pa.Array | pa.ChunkedArray) -> pa.Table:
    """Connected components of the undirected graph with edges a[i]–b[i] (text keys).

    Returns (node, component): every node once, in key order; `component` is "NET" and the first
    12 hex digits of the MD5 of the component's smallest node key."""
    return _label(a, b)[0].select(["node", "component"])


def _label(a: Any, b: Any) -> tuple[pa.Table, Any, Any, Any]:
    """(nodes: node, component, size, rank in the component by key), and per edge: its
    component's index, and the key order of its two ends (for a stable edge order)."""
    import hashlib

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    a = pc.cast(a, pa.string())
    b = pc.cast(b, pa.string())
    m = len(a)
    # one hash pass over both ends, then the dictionary sorted: node ids in key order, so the
    # first node of a component is its smallest key
    encoded = pa.chunked_array([*_chunks(a), *_chunks(b)], pa.string()).combine_chunks()
    encoded = encoded.dictionary_encode()
    order = pc.sort_indices(encoded.dictionary).to_numpy()
    rank_of = np.empty(len(order), dtype=np.int64)
    rank_of[order] = np.arange(len(order))
    ids_both = rank_of[encoded.indices.to_numpy(zero_copy_only=False)]
    ia, ib = ids_both[:m], ids_both[m:]
    nodes = encoded.dictionary.take(pa.array(order))
    del encoded, ids_both
    n = len(nodes)
    graph = coo_matrix((np.ones(len(ia), dtype=np.int8), (ia, ib)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    del graph
    _, first = np.unique(labels, return_index=True)  # index of each label's smallest node
    keys = nodes.take(pa.array(first)).to_pylist()
    ids = pa.array(["NET" + hashlib.md5(k.encode()).hexdigest()[:12].upper() for k in keys])
    size = np.bincount(labels)
    order = np.argsort(labels, kind="stable")  # by component, then by key
    starts = np.cumsum(size) - size
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts[labels[order]]
    table = pa.table(
        {
            "node": nodes,
            "component": ids.take(pa.array(labels)),
            "size": pa.array(size[labels]),
            "rank": pa.array(rank),
        }
    )
    return table, ids, labels[ia], (np.minimum(ia, ib), np.maximum(ia, ib))


def _edge_rank(comp: Any, ends: tuple[Any, Any]) -> Any:
    """Rank of each edge in its component, by its ends' key order."""
    import numpy as np

    lo, hi = ends
    order = np.lexsort((hi, lo, comp))
    count = np.bincount(comp)
    starts = np.cumsum(count) - count
    rank = np.empty(len(comp), dtype=np.int64)
    rank[order] = np.arange(len(comp)) - starts[comp[order]]
    return rank


def _chunks(arr: Any) -> list:
    return arr.chunks if hasattr(arr, "chunks") else [arr]


def _edges_display(model: Model) -> tuple[str, int]:
    """Where the edges SQL is (the model YAML) and the line its text starts on."""
    line = model.line("network", "edges") or 1
    return model.display, line


def _edges_problems(model: Model, exc: QueryError | None, columns: list[str]) -> list[Problem]:
    display, line = _edges_display(model)
    if exc is not None:
        p = exc.problem(display, "Check table and column names against the inputs")
        return [Problem(display, line, f"network edges: {p.message}", p.fix)]
    missing = [c for c in EDGE_COLUMNS if c not in columns]
    if missing:
        return [
            Problem(
                display,
                line,
                f"network edges must produce columns a, b, via; missing {', '.join(missing)}",
                "Write e.g. SELECT x.plaintiff_id AS a, y.plaintiff_id AS b, "
                "'代理人：' || x.agent AS via FROM …",
            )
        ]
    return []


def _check_edges_sql(model: Model) -> tuple[str, list[str], list[Problem]]:
    from collide.engine.sqlcheck import check_sql

    sql = model.spec.network.edges
    display, line = _edges_display(model)
    shape, found = check_sql(sql, list(model.spec.inputs), display, list(model.spec.params))
    # lines inside the edges text → lines of the YAML file (a block scalar starts one line down)
    found = [Problem(p.path, line + (p.line or 0), p.message, p.fix) for p in found]
    return sql.strip().rstrip(";"), shape.params, found


def check_network(model: Model, box: Any, params: dict[str, Any]) -> list[Problem]:
    """Bind the edges SQL (`collide check`) and create the network tables empty in `box`."""
    if model.kind != "sql":
        return [
            Problem(
                model.display,
                model.line("network") or None,
                "network: needs a SQL model (a polars rule does not see the network tables)",
                f"Write the model as {model.id}.sql reading network, or drop network:",
            )
        ]
    sql, used, found = _check_edges_sql(model)
    if found:
        return found
    try:
        described = box.describe(sql, {p: params.get(p) for p in used})
    except QueryError as exc:  # binder/parser errors are the author's mistakes here
        return _edges_problems(model, exc, [])
    problems = _edges_problems(model, None, [c for c, _ in described])
    for name, cols in NETWORK_TABLES.items():
        box.create_table(name, cols)
    return problems


def attach_network(model: Model, box: Any, params: dict[str, Any]) -> None:
    """Run the edges SQL, compute the components and make `network`, `network_edges` readable
    by the model SQL in `box`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    sql, used, found = _check_edges_sql(model)
    if found:
        raise CollideError(found)
    try:
        edges = box.query(sql, {p: params.get(p) for p in used})
    except QueryError as exc:  # the engine's errors on the user's SQL
        raise CollideError(_edges_problems(model, exc, [])) from None
    bad = _edges_problems(model, None, edges.column_names)
    if bad:
        raise CollideError(bad)
    edges = edges.select(list(EDGE_COLUMNS)).cast(
        pa.schema([(c, pa.string()) for c in EDGE_COLUMNS])
    )
    keep = pc.and_(
        pc.and_(pc.is_valid(edges["a"]), pc.is_valid(edges["b"])),
        pc.not_equal(edges["a"], edges["b"]),
    )
    edges = edges.filter(keep)
    # one row per linked pair and reason, the pair in key order
    lo, hi = (
        pc.min_element_wise(edges["a"], edges["b"]),
        pc.max_element_wise(edges["a"], edges["b"]),
    )
    edges = (
        pa.table({"a": lo, "b": hi, "via": edges["via"]}).group_by(list(EDGE_COLUMNS)).aggregate([])
    )
    nodes, ids, comp, ends = _label(edges["a"], edges["b"])
    rank = _edge_rank(comp, ends)
    box.register("__net_nodes", nodes)
    box.register(
        "__net_edges",
        pa.table(
            {"component": ids.take(pa.array(comp)), "a": edges["a"], "b": edges["b"],
             "via": edges["via"], "__rank": pa.array(rank)}
        ),
    )  # fmt: skip
    lim = LIST_LIMIT
    box.register("network_edges", box.query("SELECT component, a, b, via FROM __net_edges"))
    network = box.query(
        "WITH m AS (SELECT component, string_agg(node, '、' ORDER BY node) AS members "
        f"  FROM __net_nodes WHERE rank < {lim} GROUP BY component), "
        "l AS (SELECT component, count(*) AS n_links, "
        # (the first LIST_LIMIT links, in text order; written so that Spark translates it)
        f"  string_agg(CASE WHEN __rank < {lim} THEN a || '—' || b || '（' || via || '）' END, "
        f"'；' ORDER BY CASE WHEN __rank < {lim} THEN a || '—' || b || '（' || via || '）' END) "
        "    AS links FROM __net_edges GROUP BY component) "
        "SELECT n.node, n.component, n.size, "
        f"  m.members || CASE WHEN n.size > {lim} THEN '等' || n.size || '个' ELSE '' END "
        "    AS members, "
        f"  l.links || CASE WHEN l.n_links > {lim} THEN '等' || l.n_links || '条关联' ELSE '' END "
        "    AS links "
        "FROM __net_nodes n JOIN m USING (component) JOIN l USING (component)"
    )
    box.register("network", network)
