"""The shape of the package: no import circles, and each heavy library behind its adapter.

Read from the source with `ast`, so a lazy import inside a function counts as much as one at the
top (both are a dependency); imports under `if TYPE_CHECKING:` are type hints only and do not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import collide

PACKAGE = Path(collide.__file__).parent

# library -> the modules allowed to import it, and why
ADAPTERS: dict[str, set[str]] = {
    # three DuckDB connections with three jobs, each behind one module: the model engine's
    # backend, the store (its own file), and the quality gate (GX validates inside DuckDB through
    # its SQLAlchemy engine, so the GX adapter holds that connection)
    "duckdb": {"collide.engine.duckdb", "collide.store.db", "collide.quality.gx"},
    "great_expectations": {"collide.quality.gx"},
    "sqlalchemy": {"collide.quality.gx"},
    "duckdb_engine": {"collide.quality.gx"},
    "prefect": {"collide.orchestrate.prefect"},
    "xlsxwriter": {"collide.export.xlsx"},
    "fastexcel": {"collide.ingest.sources.excel"},
    "xlrd": {"collide.ingest.sources.excel"},
    "click": {
        "collide.cli.main",
        "collide.cli.common",
        "collide.cli.figures",
        "collide.cli.models",
    },
    # none: the evidence pages and report.md are built as strings (their former templates are
    # the tests' references)
    "jinja2": set(),
    # the Spark engine, and the source that reads tables already on the cluster
    "pyspark": {"collide.engine.spark", "collide.ingest.sources.spark_table"},
    "matplotlib": {"collide.stats.chart"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for f in PACKAGE.rglob("*.py"):
        parts = f.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = f
    return out


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def _imports(name: str, path: Path, modules: dict[str, Path]) -> tuple[set[str], set[str]]:
    """(collide modules, third-party top-level packages) that `name` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    ours: set[str] = set()
    libs: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for a in node.names:
                (ours if a.name.split(".")[0] == "collide" else libs).add(
                    a.name if a.name.split(".")[0] == "collide" else a.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] == "collide":
                for a in node.names:
                    sub = f"{mod}.{a.name}"
                    ours.add(sub if sub in modules else mod)
            else:
                libs.add(mod.split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    ours = {m for m in ours if m in modules and m != name}
    return ours, libs


def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    modules = _modules()
    deps, libs = {}, {}
    for name, path in modules.items():
        deps[name], libs[name] = _imports(name, path, modules)
    # a package's __init__ importing its own submodules is how a package re-exports, not a circle
    for name in deps:
        deps[name] = {d for d in deps[name] if not (name != "collide" and d.startswith(name + "."))}
    return deps, libs


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found


def test_no_import_circle() -> None:
    deps, _ = _graph()
    assert _cycles(deps) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


def test_each_heavy_library_is_imported_by_its_adapter_only() -> None:
    _, libs = _graph()
    wrong = {
        lib: sorted(m for m, used in libs.items() if lib in used and m not in allowed)
        for lib, allowed in ADAPTERS.items()
    }
    assert {lib: ms for lib, ms in wrong.items() if ms} == {}
