"""Near-duplicate models: same inputs, same join keys, nearly the same SQL tree.

The rule (also in the README, "Share a model"): two models are near-duplicates when they read the
same set of input datasets, join them on the same keys (equalities in JOIN … ON and WHERE,
followed through aliases and CTEs back to the input columns), and their SQL trees — identifiers
normalised, aliases dropped, literals and params made one placeholder — agree to at least
SHAPE_THRESHOLD (difflib ratio over the node types in pre-order). A new threshold, alias or
output name does not make a new model; the same data joined the same way with other logic does.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHAPE_THRESHOLD = 0.9

Key = tuple[tuple[str, str], tuple[str, str]]


@dataclass
class Fingerprint:
    """What the comparison looks at, for one model (local or from a package)."""

    name: str
    inputs: frozenset[str]
    keys: frozenset[Key] = frozenset()
    shape: list[str] = field(default_factory=list)
    kind: str = "sql"


@dataclass
class Pair:
    a: str
    b: str
    near_duplicate: bool
    why: str
    shape: float


def fingerprint(
    name: str, sql: str | None, inputs: list[str], schemas: dict[str, dict[str, str]]
) -> Fingerprint:
    from collide.share.contract import parse_qualified

    if sql is None:
        return Fingerprint(name, frozenset(inputs), kind="polars")
    tree = parse_qualified(sql, {ds: schemas.get(ds, {}) for ds in inputs})
    return Fingerprint(name, frozenset(inputs), frozenset(join_keys(tree)), shape_of(tree))


def join_keys(tree: Any) -> set[Key]:
    """Pairs of input columns compared with `=`, each side traced back to its input column."""
    from sqlglot import exp
    from sqlglot.optimizer.scope import traverse_scope

    keys: set[Key] = set()
    for scope in traverse_scope(tree):
        for eq in scope.expression.find_all(exp.EQ):
            if eq.find_ancestor(exp.Select) is not scope.expression:
                continue  # belongs to a nested query, which has its own scope
            left, right = (_trace_side(side, scope) for side in (eq.left, eq.right))
            if left and right and left[0] != right[0]:
                keys.add(tuple(sorted((left, right))))  # type: ignore[arg-type]
    return keys


def _trace_side(side: Any, scope: Any) -> tuple[str, str] | None:
    from sqlglot import exp

    cols = {(c.table, c.name): c for c in side.find_all(exp.Column)}
    if len(cols) != 1:
        return None
    return _trace(next(iter(cols.values())), scope, 0)


def _trace(col: Any, scope: Any, depth: int) -> tuple[str, str] | None:
    from sqlglot import exp

    if depth > 20:
        return None
    from collide.share.contract import source_of

    source, scope = source_of(col, scope)
    if isinstance(source, exp.Table):
        return (source.name, col.name)
    if source is None or not hasattr(source, "expression"):
        return None
    inner = source
    while inner.set_operation_scopes:  # UNION: follow the first arm
        inner = inner.set_operation_scopes[0]
    for proj in getattr(inner.expression, "selects", []):
        if proj.alias_or_name == col.name:
            cols = {(c.table, c.name): c for c in proj.find_all(exp.Column)}
            if len(cols) == 1:
                return _trace(next(iter(cols.values())), inner, depth + 1)
            return None
    return None


def shape_of(tree: Any) -> list[str]:
    """Node types in pre-order, with names, aliases and constants left out."""
    from sqlglot import exp

    out = []
    for node in tree.walk(bfs=False):
        if isinstance(node, (exp.Identifier, exp.TableAlias, exp.Alias)):
            continue
        if isinstance(node, (exp.Literal, exp.Placeholder, exp.Boolean, exp.Null)):
            out.append("Const")
            continue
        out.append(type(node).__name__)
    return out


def compare(a: Fingerprint, b: Fingerprint) -> Pair:
    """One pair, judged by the rule in the module docstring, with the reason in words."""
    shared = sorted(a.inputs & b.inputs)
    if a.inputs != b.inputs:
        only = sorted(a.inputs ^ b.inputs)
        why = (
            f"different inputs (shared: {', '.join(shared) or 'none'}; not shared: "
            f"{', '.join(only)})"
        )
        common = a.keys & b.keys
        if common:
            why += f"; shared join keys: {_keys(frozenset(common))}"
        return Pair(a.name, b.name, False, why, _ratio(a, b))
    if a.kind != "sql" or b.kind != "sql":
        return Pair(
            a.name,
            b.name,
            False,
            f"same inputs ({', '.join(shared)}), but a polars rule cannot be compared by structure",
            0.0,
        )
    if a.keys != b.keys:
        why = (
            f"same inputs ({', '.join(shared)}) but different join keys "
            f"({_keys(a.keys)} vs {_keys(b.keys)})"
        )
        return Pair(a.name, b.name, False, why, _ratio(a, b))
    ratio = _ratio(a, b)
    near = ratio >= SHAPE_THRESHOLD
    why = (
        f"same inputs ({', '.join(shared)}), same join keys ({_keys(a.keys)}), "
        f"SQL structure {ratio:.0%} alike"
        + (
            f" (≥ {SHAPE_THRESHOLD:.0%})"
            if near
            else f" (below {SHAPE_THRESHOLD:.0%}: different logic)"
        )
    )
    return Pair(a.name, b.name, near, why, ratio)


def _ratio(a: Fingerprint, b: Fingerprint) -> float:
    if not a.shape or not b.shape:
        return 0.0
    return difflib.SequenceMatcher(None, a.shape, b.shape, autojunk=False).ratio()


def _keys(keys: frozenset[Key]) -> str:
    if not keys:
        return "no joins"
    return ", ".join(f"{x[0]}.{x[1]} = {y[0]}.{y[1]}" for x, y in sorted(keys))


def project_fingerprints(project: Any) -> dict[str, Fingerprint]:
    from sqlglot.errors import SqlglotError

    from collide.errors import CollideError
    from collide.modelrun.execute import input_schemas

    schemas = input_schemas(project.catalog, project.snapshot_schemas())
    out = {}
    for mid, model in project.catalog.models.items():
        try:
            out[mid] = fingerprint(
                mid, model.sql if model.kind == "sql" else None, model.spec.inputs, schemas
            )
        except (CollideError, SqlglotError):  # unparsable SQL: `collide check` reports it
            continue
    return out


def package_fingerprint(project: Any, path: Path, mapping: Path | None = None) -> Fingerprint:
    """A package's model, on the project's names where they can be mapped (automatically or
    through the mapping file), so an installed copy under other names still compares equal."""
    from collide.share.contract import contract_schema
    from collide.share.install import resolve_mapping, rewrite_sql
    from collide.share.package import read_package

    doc = read_package(path)
    contract = doc["contract"]
    label = f"{path.name} ({doc['id']} {doc['version']})"
    if doc["model"].get("kind") == "polars":
        return Fingerprint(label, frozenset(contract), kind="polars")
    m, problems = resolve_mapping(doc, project.catalog, mapping)
    if problems:
        return fingerprint(label, doc["model"]["sql"], list(contract), contract_schema(contract))
    from collide.modelrun.execute import input_schemas

    sql = rewrite_sql(doc["model"]["sql"], contract, m)
    local = [m.datasets[d] for d in contract]
    schemas = input_schemas(project.catalog, project.snapshot_schemas())
    return fingerprint(label, sql, local, schemas)


def compare_project(project: Any, target: str | None, mapping: Path | None = None) -> list[Pair]:
    """Pairs of `target` (a model id or a package file) with every project model, or every pair
    of project models when no target is given."""
    from collide.errors import CollideError, Problem, did_you_mean

    prints = project_fingerprints(project)
    if target is None:
        names = sorted(prints)
        return [compare(prints[x], prints[y]) for i, x in enumerate(names) for y in names[i + 1 :]]
    if target.endswith(".yaml") or Path(target).is_file():
        mine = package_fingerprint(project, Path(target), mapping)
        return [compare(mine, prints[n]) for n in sorted(prints)]
    if target not in prints:
        raise CollideError(
            Problem(
                None,
                None,
                f'"{target}" is neither a model of this project nor a package file',
                did_you_mean(target, prints) or "See `collide models`",
            )
        )
    return [compare(prints[target], prints[n]) for n in sorted(prints) if n != target]
