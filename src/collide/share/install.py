"""Installing a package into a project: map its inputs onto local datasets, rewrite, verify.

Names are mapped automatically where a local dataset or column has the same name and semantic
type (or reads the same agency header); the rest comes from a mapping file the clerk edits:

    datasets:
      death_registrations:             # the package's dataset
        to: deaths                     # the local connector
        columns:
          id_number: sfzh              # a local column
          person_name: "surname || given_name"   # or an SQL expression over local columns

The SQL is rewritten by scope with sqlglot (each column reference resolved to its input first),
the YAML through its tree, and the result must pass `collide check` and its own tests in a
scratch copy before a single file in the project is written.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collide.config.specs import DUCKDB_TYPES, KEYED_TYPES, PROVENANCE_COLUMNS
from collide.errors import CollideError, Problem, did_you_mean

UNMAPPED = "???"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass
class Mapping:
    """Package names → local names, with where each decision came from."""

    datasets: dict[str, str] = field(default_factory=dict)
    # package dataset → package column → local column name, or ("expr", SQL) for a computation
    columns: dict[str, dict[str, str | tuple[str, str]]] = field(default_factory=dict)
    dropped: dict[str, list[str]] = field(default_factory=dict)  # test-only columns not mapped
    how: list[str] = field(default_factory=list)

    def is_identity(self) -> bool:
        return all(k == v for k, v in self.datasets.items()) and all(
            k == v for cols in self.columns.values() for k, v in cols.items()
        )


@dataclass
class Installed:
    model_id: str
    files: list[Path]
    mapping: Mapping
    replaced: bool = False
    unchanged: bool = False
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- needs


def describe_needs(doc: dict[str, Any]) -> list[str]:
    """What the model needs, one line per dataset and column, for the clerk to read first."""
    lines = [f"{doc['id']} {doc['version']} — {doc['title']} needs:"]
    for ds, entry in doc["contract"].items():
        lines.append(f"  {ds} ({entry.get('title', '')} {entry.get('agency', '')})".rstrip())
        for name, col in entry["columns"].items():
            extra = "" if col.get("use") == "reads" else "  [tests only]"
            if col["type"] == "key":
                lines.append(f"    {name}: matching key of {col['key_of']}{extra}")
                continue
            heads = "/".join(col.get("headers", []))
            lines.append(f"    {name}: {col['type']} {col.get('meaning', '')} [{heads}]{extra}")
    return lines


# --------------------------------------------------------------------------- mapping


def read_mapping(path: Path) -> tuple[dict[str, Any], Any]:
    from collide.config.yamlio import load_yaml

    doc = load_yaml(path, str(path))
    data = doc.data or {}
    if not isinstance(data, dict) or not isinstance(data.get("datasets", {}), dict):
        raise CollideError(
            Problem(
                str(path),
                1,
                "a mapping file has one key, datasets:, with one entry per package dataset",
                "See README “Share a model” for the format",
            )
        )
    return data, doc


def resolve_mapping(
    doc: dict[str, Any], catalog: Any, mapping_path: Path | None
) -> tuple[Mapping, list[Problem]]:
    """Automatic matches plus the mapping file; every gap or mismatch is one problem."""
    given: dict[str, Any] = {}
    located = None
    shown = str(mapping_path) if mapping_path else None
    if mapping_path is not None and mapping_path.is_file():
        data, located = read_mapping(mapping_path)
        given = data.get("datasets") or {}
        for ds in given:
            if ds not in doc["contract"]:
                raise CollideError(
                    Problem(
                        shown,
                        located.line_of(("datasets", ds)),
                        f'"{ds}" is not an input of package {doc["id"]}',
                        did_you_mean(str(ds), doc["contract"]),
                    )
                )

    def line(*loc: Any) -> int | None:
        return located.line_of(("datasets", *loc)) if located else None

    where = shown or f"package {doc['id']}"
    m = Mapping()
    problems: list[Problem] = []
    connectors = catalog.connectors
    for ds, entry in doc["contract"].items():
        spec_entry = given.get(ds) or {}
        if not isinstance(spec_entry, dict):
            spec_entry = {"to": spec_entry}
        target = spec_entry.get("to")
        if target in (None, UNMAPPED):
            target = _auto_dataset(ds, entry, connectors)
            if target:
                m.how.append(f"{ds} → {target} (found by names, types and headers)")
        elif target not in connectors:
            problems.append(
                Problem(
                    where,
                    line(ds, "to"),
                    f'{ds}: local dataset "{target}" does not exist',
                    did_you_mean(str(target), connectors) or "Add its connector first",
                )
            )
            continue
        else:
            m.how.append(f"{ds} → {target} (mapping file)")
        if not target:
            problems.append(
                Problem(
                    where,
                    line(ds),
                    f"{ds} ({entry.get('title', '')}): no local dataset",
                    f"Set datasets.{ds}.to to one of: {', '.join(sorted(connectors)) or '(none)'}",
                )
            )
            continue
        m.datasets[ds] = target
        conn = connectors[target].spec
        local_cols = {n: c.type for n, c in conn.columns.items()}
        cols_given = spec_entry.get("columns") or {}
        for name in cols_given:
            if name not in entry["columns"] or entry["columns"][name]["type"] == "key":
                problems.append(
                    Problem(
                        where,
                        line(ds, "columns", name),
                        f'{ds}: "{name}" is not a column the model needs',
                        did_you_mean(str(name), entry["columns"])
                        or "Map only the columns listed in the package's contract",
                    )
                )
        out: dict[str, str | tuple[str, str]] = {}
        keyed_later = []
        for name, col in entry["columns"].items():
            if col["type"] == "key":
                keyed_later.append(name)
                continue
            want = cols_given.get(name)
            label = f"{ds}.{name} ({col['type']} {col.get('meaning', '')})"
            if want not in (None, UNMAPPED):
                want = str(want).strip()
                if _IDENT.match(want):
                    if want not in local_cols:
                        problems.append(
                            Problem(
                                where,
                                line(ds, "columns", name),
                                f'{label}: "{target}" has no column "{want}"',
                                did_you_mean(want, local_cols),
                            )
                        )
                        continue
                    if DUCKDB_TYPES[local_cols[want]] != _duck(col["type"]):
                        problems.append(
                            Problem(
                                where,
                                line(ds, "columns", name),
                                f"{label}: {target}.{want} is {local_cols[want]}, "
                                f"the model needs {col['type']}",
                                f"Give {want} type {col['type']} in connectors/{target}.yaml, "
                                "or map another column",
                            )
                        )
                        continue
                    out[name] = want
                else:
                    bad = _check_computed(want, local_cols)
                    if bad:
                        problems.append(
                            Problem(where, line(ds, "columns", name), f"{label}: {bad}", "")
                        )
                        continue
                    out[name] = ("expr", want)
                continue
            auto = _auto_column(name, col, conn)
            if auto:
                out[name] = auto
                continue
            if col.get("use") != "reads":
                m.dropped.setdefault(ds, []).append(name)
                continue
            same_type = sorted(n for n, t in local_cols.items() if t == col["type"])
            problems.append(
                Problem(
                    where,
                    line(ds, "columns"),
                    f"{label}: no local column of {target} matches",
                    f"Map it in the mapping file; {target} columns of type {col['type']}: "
                    + (", ".join(same_type) or "none"),
                )
            )
        for name in keyed_later:
            base = entry["columns"][name]["key_of"]
            local = out.get(base)
            if isinstance(local, str) and local_cols.get(local) in KEYED_TYPES:
                out[name] = f"{local}_key"
            else:
                problems.append(
                    Problem(
                        where,
                        line(ds, "columns", base),
                        f"{ds}.{name}: the matching key of {base} needs {base} mapped to a "
                        "local org_name or address column",
                        f"Map {base} to a column of type org_name/address in {target}",
                    )
                )
        m.columns[ds] = out
    return m, problems


def _duck(kind: str) -> str:
    return DUCKDB_TYPES.get(kind, "VARCHAR")


def _auto_dataset(ds: str, entry: dict[str, Any], connectors: dict[str, Any]) -> str | None:
    """Same id, or the one local dataset where every column read is found automatically (same
    name and type, or the same agency header)."""
    if ds in connectors:
        return ds
    needed = {
        n: c for n, c in entry["columns"].items() if c.get("use") == "reads" and c["type"] != "key"
    }
    fits = [
        cid
        for cid, conn in connectors.items()
        if needed and all(_auto_column(n, c, conn.spec) for n, c in needed.items())
    ]
    return fits[0] if len(fits) == 1 else None


def _auto_column(name: str, col: dict[str, Any], conn: Any) -> str | None:
    """Same name and semantic type; else the one local column of that type that reads one of
    the package's agency headers."""
    local = conn.columns
    if name in local and local[name].type == col["type"]:
        return name
    heads = set(col.get("headers", []))
    hits = [n for n, c in local.items() if c.type == col["type"] and heads & set(c.from_)]
    return hits[0] if len(hits) == 1 else None


def _check_computed(expr: str, local_cols: dict[str, str]) -> str | None:
    import sqlglot
    from sqlglot import exp

    from collide.engine.sqlcheck import check_expression

    bad = check_expression(expr)
    if bad:
        return f'"{expr}" {bad}'
    tree = sqlglot.parse_one(expr, read="duckdb")
    cols = [c.name for c in tree.find_all(exp.Column)]
    if not cols:
        return f'"{expr}" uses no local column'
    missing = [c for c in cols if c not in local_cols]
    if missing:
        return f'"{expr}" uses {", ".join(missing)}, not columns of the dataset. ' + did_you_mean(
            missing[0], local_cols
        )
    return None


def mapping_template(doc: dict[str, Any], catalog: Any, m: Mapping) -> str:
    """A mapping file with everything already decided filled in and every gap marked ???."""
    out = io.StringIO()
    out.write(f"# Mapping for package {doc['id']} {doc['version']} ({doc['title']}).\n")
    out.write(f"# Replace every {UNMAPPED} with a local name, then run:\n")
    out.write("#   collide model add <package> --mapping <this file>\n")
    out.write("# A column may also be an SQL expression over local columns,\n")
    out.write('# e.g. person_name: "surname || given_name".\n')
    out.write("datasets:\n")
    for ds, entry in doc["contract"].items():
        target = m.datasets.get(ds)
        out.write(f"  {ds}:  # {entry.get('title', '')} {entry.get('agency', '')}\n")
        if target:
            out.write(f"    to: {target}\n")
        else:
            choices = ", ".join(sorted(catalog.connectors)) or "(no local datasets)"
            out.write(f"    to: {UNMAPPED}  # local datasets: {choices}\n")
        out.write("    columns:\n")
        mapped = m.columns.get(ds, {})
        conn = catalog.connectors.get(target) if target else None
        for name, col in entry["columns"].items():
            if col["type"] == "key":
                continue
            about = f"{col['type']} {col.get('meaning', '')}".strip()
            if col.get("use") != "reads":
                about += "; tests only, may stay unmapped"
            value = mapped.get(name)
            if isinstance(value, tuple):
                out.write(f'      {name}: "{value[1]}"  # {about}\n')
            elif value:
                out.write(f"      {name}: {value}  # {about}\n")
            else:
                hint = ""
                if conn is not None:
                    same = [n for n, c in conn.spec.columns.items() if c.type == col["type"]]
                    hint = f"; {target} has {col['type']}: {', '.join(same) or 'none'}"
                out.write(f"      {name}: {UNMAPPED}  # {about}{hint}\n")
    return out.getvalue()


# --------------------------------------------------------------------------- rewrite


def rewrite_sql(sql: str, contract: dict[str, Any], m: Mapping) -> str:
    """The packaged SQL on local names: tables and columns renamed in their own scope, computed
    columns replaced by their expression on the same alias; output names stay the same."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.optimizer.scope import traverse_scope

    from collide.share.contract import base_column_refs, contract_schema, parse_qualified

    tree = parse_qualified(sql, contract_schema(contract))
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    clash = sorted(v for k, v in m.datasets.items() if v in ctes and v != k)
    if clash:
        raise CollideError(
            Problem(
                None,
                None,
                f"the model's SQL names a step (WITH …) {', '.join(clash)}, like the local "
                "dataset it would read",
                "Install it where that dataset has another id, then rename it back in both files",
            )
        )
    refs = base_column_refs(tree)
    # A table read without an alias got its own name as alias; it takes the local name too.
    targets = list(m.datasets.values())
    for col, table, node in refs:
        if node.alias == table and table in m.datasets and targets.count(m.datasets[table]) == 1:
            col.set("table", exp.to_identifier(m.datasets[table]))
    for col, table, _ in refs:
        target = m.columns.get(table, {}).get(col.name)
        if target is None:
            if col.name in PROVENANCE_COLUMNS:
                continue
            raise CollideError(
                Problem(None, None, f"{table}.{col.name} is read but not mapped", "Map it")
            )
        if isinstance(target, tuple):
            computed = sqlglot.parse_one(target[1], read="duckdb")
            for ref in list(computed.find_all(exp.Column)):
                ref.set("table", exp.to_identifier(col.table))
            col.replace(exp.Paren(this=computed))
        else:
            col.set("this", exp.to_identifier(target))
    for scope in traverse_scope(tree):
        for source in scope.sources.values():
            if isinstance(source, exp.Table) and source.name in m.datasets:
                new = m.datasets[source.name]
                shared = sum(1 for v in m.datasets.values() if v == new) > 1
                if source.alias == source.name and not shared:
                    source.set("alias", exp.TableAlias(this=exp.to_identifier(new)))
                source.set("this", exp.to_identifier(new))
    return tree.sql(dialect="duckdb", pretty=True) + "\n"


def _rewrite_mark(mark: str, cols: dict[str, Any]) -> str:
    """An evidence `mark:` (a condition over the dataset row — bare names or `d.` — and the
    clue's output `hit.`) on local column names; output names stay the same."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(mark, read="duckdb")
    for col in list(tree.find_all(exp.Column)):
        if col.table not in ("", "d"):
            continue  # hit.<output column>
        target = cols.get(col.name)
        if target is None:
            continue
        if isinstance(target, tuple):
            computed = sqlglot.parse_one(target[1], read="duckdb")
            for ref in list(computed.find_all(exp.Column)):
                ref.set("table", exp.to_identifier(col.table) if col.table else None)
            col.replace(exp.Paren(this=computed))
        else:
            col.set("this", exp.to_identifier(target))
    return tree.sql(dialect="duckdb")


def rewrite_yaml(raw: str, doc: dict[str, Any], m: Mapping, origin: dict[str, str]) -> str:
    """The model YAML on local names (inputs, evidence, test rows), plus its `origin:` block."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.preserve_quotes = True
    tree = yaml.load(raw)
    ds_map = m.datasets
    tree["inputs"] = type(tree["inputs"])(ds_map.get(d, d) for d in tree["inputs"])
    if hasattr(tree["inputs"], "fa"):
        tree["inputs"].fa.set_flow_style()
    for ev in tree.get("evidence") or []:
        cols = m.columns.get(ev["dataset"], {})
        on = ev["on"]
        for key in list(on):
            target = cols.get(key, key)
            if isinstance(target, tuple):
                raise CollideError(
                    Problem(
                        None,
                        None,
                        f"evidence joins {ev['dataset']} on {key}, which is computed locally",
                        f"Map {ev['dataset']}.{key} to one local column",
                    )
                )
            _rename_key(on, key, target)
        if ev.get("mark"):
            ev["mark"] = _rewrite_mark(str(ev["mark"]), cols)
        ev["dataset"] = ds_map.get(ev["dataset"], ev["dataset"])
    for test in tree.get("tests") or []:
        given = test["given"]
        for ds in list(given):
            cols = m.columns.get(ds, {})
            for row in given[ds]:
                for key in list(row):
                    target = cols.get(key)
                    if target is None:
                        if key in m.dropped.get(ds, []):
                            del row[key]
                        continue
                    if isinstance(target, tuple):
                        value = row.pop(key)
                        parts = _expr_columns(target[1])
                        # Exact for concatenations (the usual case): all of it in the first part.
                        for i, part in enumerate(parts):
                            row[part] = value if i == 0 else ""
                        continue
                    _rename_key(row, key, target)
            _rename_key(given, ds, ds_map.get(ds, ds))
    block = CommentedMap()
    for k, v in origin.items():
        block[k] = v
    if "origin" in tree:
        del tree["origin"]
    tree["origin"] = block
    buf = io.StringIO()
    yaml.dump(tree, buf)
    return buf.getvalue()


def _rename_key(node: Any, old: str, new: str) -> None:
    """Rename a key of a ruamel mapping in place, keeping its position."""
    if old == new:
        return
    keys = list(node.keys())
    pos = keys.index(old)
    value = node.pop(old)
    node.insert(pos, new, value)


def _expr_columns(expr: str) -> list[str]:
    import sqlglot
    from sqlglot import exp

    seen: list[str] = []
    for c in sqlglot.parse_one(expr, read="duckdb").find_all(exp.Column):
        if c.name not in seen:
            seen.append(c.name)
    # find_all walks breadth-first; order them as written
    return sorted(seen, key=lambda n: expr.find(n))


def rewrite_rule(doc: dict[str, Any], m: Mapping) -> str:
    if not m.is_identity():
        raise CollideError(
            Problem(
                None,
                None,
                f"{doc['id']} is a polars rule; it installs only where datasets and columns "
                "have the package's names",
                "Name the local datasets and columns as in the package, or port the rule to SQL",
            )
        )
    return doc["model"]["rule"]


# --------------------------------------------------------------------------- install


def install_package(
    project: Any,
    package: Path,
    mapping_path: Path | None = None,
    *,
    yes: bool = False,
    confirm: Callable[[str], bool] | None = None,
    template_path: Path | None = None,
) -> Installed:
    """Install `package` into `project` or refuse with every problem and write nothing (except,
    when names are missing and no mapping file was given, a template mapping file to fill in)."""
    from collide.share.package import read_package

    doc = read_package(package)
    mid = doc["id"]
    catalog = project.catalog
    if mapping_path is not None and not mapping_path.is_file() and template_path is None:
        template_path = mapping_path
    m, problems = resolve_mapping(
        doc, catalog, mapping_path if mapping_path and mapping_path.is_file() else None
    )
    if problems:
        if mapping_path is None and template_path is not None and template_path.is_file():
            problems.append(
                Problem(
                    str(template_path),
                    None,
                    "a mapping file from an earlier attempt is here; it is used only when named",
                    f"Run collide model add {package} --mapping {template_path}",
                )
            )
        elif template_path is not None and not template_path.exists():
            template_path.write_text(mapping_template(doc, catalog, m), encoding="utf-8")
            problems.append(
                Problem(
                    str(template_path),
                    None,
                    "a mapping template was written with every missing name marked ???",
                    f"Fill it in, then run collide model add {package} --mapping {template_path}",
                )
            )
        raise CollideError(problems)
    existing = catalog.models.get(mid)
    if existing is not None:
        origin = existing.spec.origin
        if origin is None or origin.package != mid:
            raise CollideError(
                Problem(
                    existing.display,
                    None,
                    f'a model "{mid}" of this project\'s own already exists',
                    "Rename or remove the local model first; a package never overwrites it",
                )
            )
        if origin.content_hash == doc["content_hash"]:
            return Installed(mid, [], m, unchanged=True)
    origin = {
        "package": mid,
        "version": str(doc["version"]),
        "content_hash": doc["content_hash"],
        "project": str(doc.get("packed_from", "")),
        "installed_on": dt.date.today().isoformat(),
    }
    new_yaml = rewrite_yaml(doc["model"]["yaml"], doc, m, origin)
    kind = doc["model"].get("kind", "sql")
    if kind == "polars":
        body, suffix = rewrite_rule(doc, m), ".py"
    else:
        body, suffix = rewrite_sql(doc["model"]["sql"], doc["contract"], m), ".sql"
    verify(project, mid, new_yaml, body, suffix)
    replaced = False
    if existing is not None:
        text = upgrade_diff(existing, new_yaml, body, doc)
        if not yes and not (confirm and confirm(text)):
            raise CollideError(
                Problem(
                    None,
                    None,
                    f"{mid}: the installed version {existing.spec.origin.version} was kept",
                    "Run again with --yes to replace it",
                )
            )
        replaced = True
    folder = project.path(project.config.paths.models)
    folder.mkdir(parents=True, exist_ok=True)
    yaml_path = folder / f"{mid}.yaml"
    body_path = folder / f"{mid}{suffix}"
    other = folder / f"{mid}{'.py' if suffix == '.sql' else '.sql'}"
    yaml_path.write_text(new_yaml, encoding="utf-8")
    body_path.write_text(body, encoding="utf-8")
    if replaced and other.exists():
        other.unlink()
    notes = [f"{ds}: test-only columns left out: {', '.join(c)}" for ds, c in m.dropped.items()]
    return Installed(mid, [yaml_path, body_path], m, replaced=replaced, notes=notes)


def verify(
    project: Any, mid: str, yaml_text: str, body: str, suffix: str, run_tests: bool = True
) -> None:
    """`collide check` and (for an install) the model's own tests, in a scratch copy of the
    project that sees the same connectors and snapshots; the project itself is not touched."""
    from collide.project import Project

    cfg = project.config.paths
    with tempfile.TemporaryDirectory(prefix="collide-add-") as tmp:
        root = Path(tmp)
        shutil.copy(project.root / "collide.yaml", root / "collide.yaml")
        src_conn = project.path(cfg.connectors)
        if src_conn.is_dir():
            shutil.copytree(src_conn, root / cfg.connectors)
        snaps = project.snapshots_dir
        if snaps.is_dir() and not Path(cfg.snapshots).is_absolute():
            (root / cfg.snapshots).parent.mkdir(parents=True, exist_ok=True)
            (root / cfg.snapshots).symlink_to(snaps, target_is_directory=True)
        models = root / cfg.models
        models.mkdir(parents=True, exist_ok=True)
        (models / f"{mid}.yaml").write_text(yaml_text, encoding="utf-8")
        (models / f"{mid}{suffix}").write_text(body, encoding="utf-8")
        scratch = Project(root)
        mine = f"{cfg.models.rstrip('/')}/{mid}."
        problems = [
            p for p in scratch.check() if p.path and p.path.replace("\\", "/").startswith(mine)
        ]
        if problems:
            if not run_tests:  # a generated model: the answers (e.g. --condition) are at fault
                raise CollideError(
                    Problem(f"{p.path} (to be written)", p.line, p.message, p.fix or "")
                    for p in problems
                )
            raise CollideError(_relabel(problems, mid))
        if not run_tests:
            return
        failed = [o for o in scratch.test([mid]) if not o.passed]
        if failed:
            raise CollideError(
                [
                    Problem(
                        f"{mid} test",
                        None,
                        f'"{o.name}" fails after mapping: {o.message}',
                        "Check the mapping of the columns the test uses",
                    )
                    for o in failed
                ]
            )


def _relabel(problems: list[Problem], mid: str) -> list[Problem]:
    return [
        Problem(
            f"{p.path} (as installed)",
            p.line,
            p.message,
            (p.fix + "; " if p.fix else "") + "check the mapping",
        )
        for p in problems
    ]


def upgrade_diff(existing: Any, new_yaml: str, body: str, doc: dict[str, Any]) -> str:
    """What replacing the installed model changes: SQL, params and tests."""
    from ruamel.yaml import YAML

    new = YAML(typ="safe").load(new_yaml)
    old_spec = existing.spec
    out = [
        f"{existing.id}: installed {old_spec.origin.version} → package {doc['version']}",
    ]
    old_body = (existing.rule_path or existing.sql_path).read_text(encoding="utf-8")
    sql_diff = list(
        difflib.unified_diff(
            old_body.splitlines(), body.splitlines(), "installed", "package", lineterm=""
        )
    )
    out.append("SQL:" if sql_diff else "SQL: unchanged")
    out.extend("  " + line for line in sql_diff)
    old_params, new_params = dict(old_spec.params), dict(new.get("params") or {})
    changes = []
    for k in sorted(set(old_params) | set(new_params)):
        if k not in new_params:
            changes.append(f"  - {k}={old_params[k]} (removed)")
        elif k not in old_params:
            changes.append(f"  + {k}={new_params[k]} (new)")
        elif old_params[k] != new_params[k]:
            changes.append(f"  ~ {k}: {old_params[k]} → {new_params[k]}")
    out.append("params:" if changes else "params: unchanged")
    out.extend(changes)
    old_tests = {t.name: t.model_dump() for t in old_spec.tests}
    new_tests = {t["name"]: t for t in new.get("tests") or []}
    tchanges = []
    for name in list(old_tests) + [n for n in new_tests if n not in old_tests]:
        if name not in new_tests:
            tchanges.append(f"  - {name} (removed)")
        elif name not in old_tests:
            tchanges.append(f"  + {name} (new)")
        elif _norm_test(old_tests[name]) != _norm_test(new_tests[name]):
            tchanges.append(f"  ~ {name} (rows or expectation changed)")
    out.append("tests:" if tchanges else "tests: unchanged")
    out.extend(tchanges)
    return "\n".join(out)


def _norm_test(t: dict[str, Any]) -> str:
    import json

    body = {k: t.get(k) or ({} if k != "expect" else []) for k in ("given", "expect", "params")}
    return json.dumps(body, sort_keys=True, default=str, ensure_ascii=False)
