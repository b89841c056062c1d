"""Which input columns a model reads, and whether this run's snapshots really hold them.

A model that reads a column which is empty in every row of its snapshot, or missing from one of
its files (an agency renamed the header of an optional column, say), would run, find nothing,
and turn real clues into 已消失. Such a model is skipped instead, with the agency file and header
named, so 已消失 keeps one meaning: the model ran on complete inputs and no longer hits this
subject.

The columns a model reads:
- SQL: every column reference resolved to an input table by sqlglot's `qualify` and scopes
  (aliases, CTEs, sub-queries and `*` followed to the input they come from);
- evidence: the `on:` keys of each evidence block;
- polars rule: the input columns named by string literals in the rule file; when it names
  none, every declared column of every input.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collide.config.catalog import Catalog, Connector, Model
from collide.derived import code_stamp, lookup, store
from collide.ingest.headers import shown_headers

if TYPE_CHECKING:
    from collide.ingest.snapshot import SnapshotInfo


def used_columns(model: Model, schemas: dict[str, dict[str, str]]) -> dict[str, set[str]]:
    """Input dataset → the columns of it the model reads (SQL, evidence `on:`, rule)."""
    inputs = {ds: schemas[ds] for ds in model.spec.inputs if ds in schemas}
    if model.rule_path is not None:
        out = _rule_columns(model.rule_path, inputs)
    else:
        out = _sql_columns(model.sql, inputs)
    for ev in model.spec.evidence:
        if ev.dataset in schemas:
            out.setdefault(ev.dataset, set()).update(c for c in ev.on if c in schemas[ev.dataset])
    return out


def _sql_columns(sql: str, schemas: dict[str, dict[str, str]]) -> dict[str, set[str]]:
    """The columns of each input the SQL reads; the same SQL over the same schemas is resolved
    once (collide.derived: sqlglot's optimizer is most of a one-model run's fixed cost)."""
    stamp = code_stamp((Path(__file__),), ("sqlglot",))
    args = [sql, schemas]
    hit = lookup("sql_columns", stamp, args)
    if isinstance(hit, dict):
        return {ds: set(cols) for ds, cols in hit.items()}
    out = _resolve_columns(sql, schemas)
    store("sql_columns", stamp, args, {ds: sorted(cols) for ds, cols in out.items()})
    return out


def _resolve_columns(sql: str, schemas: dict[str, dict[str, str]]) -> dict[str, set[str]]:
    import sqlglot
    from sqlglot import exp
    from sqlglot.optimizer.pushdown_projections import pushdown_projections
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import traverse_scope

    out: dict[str, set[str]] = {ds: set() for ds in schemas}
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return out  # the static check reports it; nothing to resolve
    if not isinstance(tree, sqlglot.exp.Query):
        return out  # not one SELECT: the static check refuses it before anything runs
    try:
        tree = qualify(
            tree,
            schema={ds: dict(cols) for ds, cols in schemas.items()},
            dialect="duckdb",
            validate_qualify_columns=False,
            identify=False,
        )
        # a CTE's or sub-query's columns that nothing downstream uses are not read
        tree = pushdown_projections(tree)
        scopes = traverse_scope(tree)
    except (sqlglot.errors.SqlglotError, KeyError, ValueError, RecursionError, AssertionError):
        # (the optimizer's own failure modes on SQL it does not follow): by name instead
        return _named_columns(tree, schemas)
    for scope in scopes:
        tables = {
            alias: src.name
            for alias, src in scope.sources.items()
            if isinstance(src, exp.Table) and src.name in schemas
        }
        for col in scope.columns:
            if col.table in tables:
                ds = tables[col.table]
                if col.name in schemas[ds]:
                    out[ds].add(col.name)
            elif not col.table:  # not resolved: any input of this scope that has the name
                for ds in tables.values():
                    if col.name in schemas[ds]:
                        out[ds].add(col.name)
    return out


def _named_columns(tree: Any, schemas: dict[str, dict[str, str]]) -> dict[str, set[str]]:
    """Every identifier that names a column of an input (when scopes cannot be resolved)."""
    from sqlglot import exp

    names = {i.name for i in tree.find_all(exp.Identifier)}
    return {ds: {c for c in cols if c in names} for ds, cols in schemas.items()}


def _rule_columns(path: Path, schemas: dict[str, dict[str, str]]) -> dict[str, set[str]]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        tree = None
    nodes = ast.walk(tree) if tree is not None else iter(())
    strings = {n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    named = {ds: {c for c in cols if c in strings} for ds, cols in schemas.items()}
    if any(named.values()):
        return named
    return {ds: {c for c in cols if not c.startswith("_")} for ds, cols in schemas.items()}


def incomplete_inputs(
    model: Model, catalog: Catalog, snapshots: dict[str, SnapshotInfo]
) -> str | None:
    """Why `model` must not run on these snapshots (a column it reads is missing or empty),
    or None when every column it reads holds data. Shown as `model <id> skipped: <why>`."""
    schemas = {ds: snap.schema for ds, snap in snapshots.items() if snap is not None}
    used = used_columns(model, schemas)
    reasons: list[str] = []
    for ds, cols in used.items():
        snap, conn = snapshots.get(ds), catalog.connectors.get(ds)
        if snap is None or conn is None or not snap.manifest.get("rows_loaded"):
            continue  # an empty dataset is reported (and blocks) on its own
        accounts = snap.manifest.get("columns") or _accounts(snap, conn)
        for col in sorted(cols):
            base = col[: -len("_key")] if col.endswith("_key") else col
            if base not in conn.spec.columns:
                base = col
            if base not in conn.spec.columns:
                continue  # provenance columns are always there
            acc = accounts.get(base)
            if acc is not None and (acc.get("filled", 1) == 0 or acc.get("not_found_in")):
                reasons.append(_empty(conn, base, acc))
    return "; ".join(reasons) or None


def _accounts(snap: SnapshotInfo, conn: Connector) -> dict[str, dict[str, Any]]:
    """A snapshot written before its manifest counted columns: count them now."""
    from collide.ingest.snapshot import column_accounts

    return column_accounts(snap.data_path, conn, {})


def _empty(conn: Connector, col: str, acc: dict[str, Any]) -> str:
    """Why the column cannot be trusted: empty throughout, or absent from some of the files
    (then the rows of those files would silently never match)."""
    aliases = "/".join(f'"{a}"' for a in conn.spec.columns[col].from_)
    lacking = acc.get("not_found_in") or []
    if acc.get("filled", 1) == 0:
        head = f"column {col} of {conn.spec.id} is empty in this snapshot"
    else:
        head = f"column {col} of {conn.spec.id} is missing from part of this snapshot"
    if lacking:
        where = lacking[0]
        plural = "s" if len(conn.spec.columns[col].from_) > 1 else ""
        return (
            f"{head} (header{plural} {aliases} not found in {where['file']}; "
            f"headers present: {shown_headers(where['headers'])})"
        )
    return f"{head} (the header {aliases} is there, but no row holds a readable value)"
