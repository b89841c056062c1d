"""What a model needs from its inputs: the columns it reads, resolved by scope, not by text.

A package carries this as its contract, so another project can tell before installing whether
its own datasets can feed the model, and map names where they differ.
"""

from __future__ import annotations

from typing import Any

from collide.config.catalog import Connector, Model
from collide.config.specs import KEYED_TYPES, PROVENANCE_COLUMNS


def parse_qualified(sql: str, schemas: dict[str, dict[str, str]]) -> Any:
    """The model SQL parsed and qualified: every column carries the alias of its source."""
    import sqlglot
    from sqlglot.optimizer.qualify import qualify

    tree = sqlglot.parse_one(sql.strip().rstrip(";"), read="duckdb")
    return qualify(
        tree,
        schema={t: dict(cols) for t, cols in schemas.items()},
        dialect="duckdb",
        quote_identifiers=False,
        validate_qualify_columns=False,
        identify=False,
    )


def base_column_refs(tree: Any) -> list[tuple[Any, str, Any]]:
    """(column node, input table name, table node) for each column read straight from an input.

    Columns of CTEs and subqueries are followed into their own scope, where they read an input.
    """
    from sqlglot import exp
    from sqlglot.optimizer.scope import traverse_scope

    out = []
    for scope in traverse_scope(tree):
        for col in scope.columns:
            source, _ = source_of(col, scope)
            if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
                out.append((col, source.name, source))
    return out


def source_of(col: Any, scope: Any) -> tuple[Any, Any]:
    """The source (input table or inner scope) a column's alias names, looking outwards for a
    correlated subquery's reference to the outer query; and the scope that holds it."""
    source = scope.sources.get(col.table)
    while source is None and scope.parent is not None:
        scope = scope.parent
        source = scope.sources.get(col.table)
    return source, scope


def columns_read(model: Model, schemas: dict[str, dict[str, str]]) -> dict[str, set[str]]:
    """Input dataset → the columns the model reads: SQL column references resolved to their
    input (through aliases and CTEs), plus evidence `on:` keys, plus test-row columns for a
    polars rule (whose body cannot be read statically)."""
    spec = model.spec
    out: dict[str, set[str]] = {ds: set() for ds in spec.inputs}
    if model.kind == "sql":
        inputs = {ds: schemas.get(ds, {}) for ds in spec.inputs}
        tree = parse_qualified(model.sql, inputs)
        for col, table, _ in base_column_refs(tree):
            if table in out:
                out[table].add(col.name)
    else:
        for test in spec.tests:
            for ds, rows in test.given.items():
                for row in rows:
                    if ds in out and isinstance(row, dict):
                        out[ds].update(row)
    for ev in spec.evidence:
        if ev.dataset in out:
            out[ev.dataset].update(ev.on)
    return out


def test_columns(model: Model) -> dict[str, set[str]]:
    """Columns the model's tests give values for, per input (needed to carry the tests over)."""
    out: dict[str, set[str]] = {}
    for test in model.spec.tests:
        for ds, rows in test.given.items():
            for row in rows:
                if isinstance(row, dict):
                    out.setdefault(ds, set()).update(row)
    return out


def build_contract(
    model: Model, connectors: dict[str, Connector], schemas: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """Per input: its title and agency, and each column read with semantic type, meaning and
    the agency headers it is read from (hints for a project mapping its own names)."""
    read = columns_read(model, schemas)
    tested = test_columns(model)
    contract: dict[str, Any] = {}
    for ds in model.spec.inputs:
        conn = connectors.get(ds)
        cols = conn.spec.columns if conn else {}
        entry: dict[str, Any] = {
            "title": conn.spec.title if conn else ds,
            "agency": conn.spec.agency if conn else "",
            "columns": {},
        }
        names = set(read.get(ds, set()) | tested.get(ds, set())) - set(PROVENANCE_COLUMNS)
        # A matching key (`address_key`) exists only beside its source column: that is needed too.
        keyed = {n[:-4] for n in names if n.endswith("_key") and n not in cols}
        needed_bases = {b for b in keyed if b in cols and cols[b].type in KEYED_TYPES}
        names = sorted(names | needed_bases)
        for name in names:
            col: dict[str, Any] = {}
            base = name[:-4] if name.endswith("_key") and name not in cols else None
            if base and base in cols and cols[base].type in KEYED_TYPES:
                col = {"type": "key", "key_of": base}
            elif name in cols:
                spec = cols[name]
                col = {"type": spec.type, "meaning": spec.description or spec.from_[0]}
                if len(spec.from_) > 1 or spec.from_[0] != col["meaning"]:
                    col["headers"] = list(spec.from_)
                else:
                    col["headers"] = [spec.from_[0]]
                if spec.required:
                    col["required"] = True
            else:
                col = {"type": "string", "meaning": name}
            col["use"] = "reads" if name in read.get(ds, set()) | needed_bases else "tests only"
            entry["columns"][name] = col
        contract[ds] = entry
    return contract


def contract_schema(contract: dict[str, Any]) -> dict[str, dict[str, str]]:
    """DuckDB schema the packaged SQL was written against, rebuilt from the contract."""
    from collide.config.specs import DUCKDB_TYPES

    out: dict[str, dict[str, str]] = {}
    for ds, entry in contract.items():
        cols: dict[str, str] = {}
        for name, col in entry["columns"].items():
            cols[name] = (
                "VARCHAR" if col["type"] == "key" else DUCKDB_TYPES.get(col["type"], "VARCHAR")
            )
        cols.update(PROVENANCE_COLUMNS)
        out[ds] = cols
    return out
