"""Static check of model SQL: one read-only SELECT over the declared inputs, nothing else.

Model SQL is checked twice over, on two parse trees, and both must agree that it reads only what
it was given:

- sqlglot's scope machinery (`traverse_scope`, `Scope.sources`) resolves every table reference by
  scope: a name is readable only if it is a declared input or a CTE visible at that point (a CTE
  named like a file in one sub-select does not make that name readable anywhere else).
- DuckDB's own parser (`json_serialize_sql`, on a private connection that holds no data) gives the
  tree DuckDB will really run; it is walked with the same scope rule, every table reference kind
  outside a short list is refused (DESCRIBE/SUMMARIZE/SHOW sub-selects, PIVOT, time travel,
  samples), and every function is looked up in an allow-list (`sql_functions.txt`, checked in).

A difference between the two parsers is therefore no way out. The third wall is the DuckDB
connection itself (external access disabled, configuration locked — see engine/duckdb.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from collide.derived import code_stamp, lookup, store
from collide.errors import Problem, did_you_mean

# Table functions that only generate rows; every other one (read_csv, glob, query_table, …) reads.
ALLOWED_TABLE_FUNCTIONS = frozenset({"generate_series", "range", "unnest"})
# range()/generate_series() over fixed numbers may make at most this many rows.
MAX_SERIES_ROWS = 10_000_000

FUNCTIONS_FILE = Path(__file__).with_name("sql_functions.txt")

# Rules that built sql_functions.txt from DuckDB's duckdb_functions() (see generate_function_list):
# scalar, aggregate, window and macro functions of the system catalog's main schema (table
# functions, table macros, pragmas and pg_catalog are left out), minus every name below: functions
# that read files, settings, variables, sequences, logs or the catalog, and those that give a
# different answer on every run (a clue must come out the same on a rerun).
EXCLUDED_FUNCTION_PATTERNS = (
    r"^read_",
    r"^__internal",
    r"^glob$",
    r"file",
    r"^current_(setting|database|schema|schemas|catalog|query|query_id|user|role|"
    r"transaction_id|connection_id)$",
    r"^(session_)?user$",
    r"getenv",
    r"^duckdb_",
    r"^pragma_",
    r"^query",
    r"sniff_csv",
    r"^parquet_",
    r"iceberg",
    r"delta",
    r"http",
    r"^s3",
    r"sqlite",
    r"postgres",
    r"mysql",
    r"^pg_",
    r"privilege",
    r"^in_search_path$",
    r"^json_(serialize|deserialize|execute)_",
    r"^(getvariable|nextval|currval|setval|version|txid_current|get_block_size)$",
    r"^(write_log|parse_duckdb_log_message|sleep_ms|checkpoint|force_checkpoint)$",
    r"^(random|setseed|uuid|uuidv4|uuidv7|gen_random_uuid)$",
    r"^(stats|col_description|obj_description|shobj_description|format_pg_type|format_type)$",
)

_FORBIDDEN_WORDS = frozenset(
    {
        "COPY",
        "ATTACH",
        "DETACH",
        "INSTALL",
        "LOAD",
        "SET",
        "RESET",
        "PRAGMA",
        "CALL",
        "INSERT",
        "UPDATE",
        "DELETE",
        "CREATE",
        "DROP",
        "ALTER",
        "USE",
        "EXPORT",
        "IMPORT",
        "CHECKPOINT",
        "VACUUM",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "DESCRIBE",
        "SUMMARIZE",
        "SHOW",
        "PIVOT",
        "UNPIVOT",
        "EXPLAIN",
        "PREPARE",
        "EXECUTE",
        "DEALLOCATE",
        "MERGE",
        "TRUNCATE",
        "COMMENT",
    }
)

_QUERY_NODES = frozenset(
    {"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE", "BOUND_SUBQUERY_NODE"}
)
_PLAIN_REFS = frozenset({"SUBQUERY", "JOIN", "EXPRESSION_LIST", "EMPTY", "EMPTY_FROM"})
_NO_LOCATION = 2**64 - 1


@dataclass
class SqlShape:
    """What the static check learned: the params the SQL uses and the tables it reads."""

    params: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def allowed_functions() -> frozenset[str]:
    """DuckDB functions model SQL may call (the checked-in list) plus collide's own."""
    from collide.engine.functions import FUNCTIONS

    return _read_list("allowed") | {f[0] for f in FUNCTIONS}


@lru_cache(maxsize=1)
def refused_functions() -> frozenset[str]:
    """DuckDB functions left out of the allow-list: they reach files, settings or the catalog."""
    return _read_list("refused")


def _read_list(section: str) -> frozenset[str]:
    names, current = set(), None
    for raw in FUNCTIONS_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
        elif current == section:
            names.add(line)
    return frozenset(names)


def function_refused(name: str) -> bool:
    """True when a written exclusion rule keeps `name` out of the allow-list."""
    return any(re.search(p, name) for p in EXCLUDED_FUNCTION_PATTERNS)


def generate_function_list(con: Any) -> str:
    """The text of sql_functions.txt from a plain DuckDB connection's duckdb_functions().

    Run once per DuckDB upgrade (`python -m collide.engine.sqlcheck > sql_functions.txt`) and check
    the result in; the check never asks a live connection, which could differ."""
    rows = con.execute(
        "SELECT DISTINCT function_name, function_type FROM duckdb_functions() "
        "WHERE database_name = 'system' AND schema_name = 'main'"
    ).fetchall()
    kinds = {"scalar", "aggregate", "window", "macro"}
    allowed = sorted({n for n, k in rows if k in kinds and not function_refused(n)})
    refused = sorted({n for n, _ in rows} - set(allowed))
    version = con.execute("SELECT version()").fetchone()[0]
    head = [
        f"# Functions model SQL may call, from duckdb_functions() of DuckDB {version}.",
        "# Generated by collide.engine.sqlcheck.generate_function_list; the rules are",
        "# EXCLUDED_FUNCTION_PATTERNS there. [refused] lists the rest (table functions, pragmas",
        "# and the excluded names), so that calling one is reported as reading, not as a typo.",
    ]
    return "\n".join([*head, "", "[allowed]", *allowed, "", "[refused]", *refused, ""])


# --------------------------------------------------------------------------- messages


def _reads(display: str, line: int | None, name: str, inputs: list[str]) -> Problem:
    return Problem(
        display,
        line,
        f'reads "{name}", which is not an input of this model',
        f"To fix this, read only the datasets listed in inputs: ({', '.join(inputs)})",
    )


def _uses(display: str, line: int | None, what: str, why: str) -> Problem:
    return Problem(
        display,
        line,
        f"uses {what}, which model SQL may not use: {why}",
        "To fix this, write one plain SELECT over the datasets listed in inputs",
    )


def _forbidden(display: str, line: int | None, word: str) -> Problem:
    return Problem(
        display,
        line,
        f"{word} is not allowed in model SQL",
        "A model is one read-only SELECT over its declared inputs; "
        "files, databases, extensions and settings are out of reach",
    )


def _line_at(sql: str, offset: int | None) -> int | None:
    """1-based line of a character offset."""
    if offset is None or offset < 0 or offset > len(sql):
        return None
    return sql.count("\n", 0, offset) + 1


def _line_of(sql: str, needle: str) -> int | None:
    """Line of the first `needle` outside comments."""
    if not needle:
        return None
    code = re.sub(
        r"/\*.*?\*/|--[^\n]*", lambda m: re.sub(r"[^\n]", " ", m.group(0)), sql, flags=re.S
    )
    idx = code.lower().find(needle.lower())
    return sql.count("\n", 0, idx) + 1 if idx >= 0 else None


# --------------------------------------------------------------------------- the check


def _stamp() -> str:
    """What a verdict of this check is derived with: this module, the function lists, the DuckDB
    parser's adapter and the two parsers' installed packages (collide.derived)."""
    here = Path(__file__).parent
    code = [here / f for f in ("sqlcheck.py", "functions.py", "geo.py", "duckdb.py")]
    return code_stamp((*code, FUNCTIONS_FILE), ("sqlglot", "duckdb"))


def check_sql(
    sql: str,
    inputs: list[str],
    display: str,
    declared_params: list[str] | None = None,
    *,
    unreported: frozenset[str] | set[str] = frozenset(),
) -> tuple[SqlShape, list[Problem]]:
    """Problems with `sql` as model SQL. Empty list = safe to bind and run.

    `unreported`: names not to report as unknown reads (the intended spelling of an input that is
    itself misspelt in `inputs:` and reported there).

    A clean verdict on the same text and arguments is reused (collide.derived): a run on
    unchanged models neither imports nor runs sqlglot."""
    args = [sql, list(inputs), display, declared_params, sorted(unreported)]
    hit = lookup("check_sql", _stamp(), args)
    if isinstance(hit, dict):
        return SqlShape(list(hit["params"]), list(hit["tables"])), []
    shape, problems = _check_sql(sql, inputs, display, declared_params, unreported=unreported)
    if not problems:
        store("check_sql", _stamp(), args, {"params": shape.params, "tables": shape.tables})
    return shape, problems


def _check_sql(
    sql: str,
    inputs: list[str],
    display: str,
    declared_params: list[str] | None,
    *,
    unreported: frozenset[str] | set[str],
) -> tuple[SqlShape, list[Problem]]:
    shape = SqlShape()
    if not _strip_comments(sql).strip().strip(";").strip():
        return shape, [
            Problem(display, 1, "the SQL file is empty", "Write one SELECT over the model's inputs")
        ]
    first = re.match(r"[\s;]*([A-Za-z]+)", _strip_comments(sql))
    word = first.group(1).upper() if first else ""
    if word in _FORBIDDEN_WORDS:
        return shape, [_forbidden(display, _line_of(sql, word), word)]

    tree, problem = _duckdb_tree(sql, display)
    if problem is not None:
        return shape, [problem]
    stmt, problem = _sqlglot_tree(sql, display)
    if problem is not None:
        return shape, [problem]

    allowed = {i.lower() for i in inputs}
    skip = {n.lower() for n in unreported}
    found: dict[str, Problem] = {}  # one problem per name read or thing used
    for key, problem in _scope_reads(stmt, sql, display, inputs, allowed, shape):
        found.setdefault(key, problem)
    walker = _DuckdbWalk(sql, display, inputs, allowed)
    walker.node(tree, frozenset())
    for key, problem in walker.problems:
        found.setdefault(key, problem)
    # The model is refused whole: one message, the first thing it reads (else uses) that it may
    # not, is clearer than a list of everything a single trick touched.
    refused = [p for k, p in found.items() if k not in skip]
    refused.sort(key=lambda p: (not p.message.startswith("reads"), p.line or 1 << 30))
    problems = refused[:1]

    from sqlglot import exp

    for ph in stmt.find_all(exp.Placeholder):
        pname = ph.name
        if pname and pname not in shape.params:
            shape.params.append(pname)
    if declared_params is not None:
        for pname in shape.params:
            if pname not in declared_params:
                hint = did_you_mean(pname, declared_params)
                problems.append(
                    Problem(
                        display,
                        _line_of(sql, "$" + pname),
                        f"param ${pname} is used but not declared",
                        (f"{hint} " if hint.startswith("Did") else "")
                        + f"Declare it under `params:` in the YAML, e.g. params: {{{pname}: 0}}",
                    )
                )
    return shape, problems


def check_expression(expr: str) -> str | None:
    """A score expression may be any scalar SQL over output columns, but no subquery or table,
    and only the functions model SQL may call. (A clean verdict is reused, as check_sql's.)"""
    if lookup("check_expression", _stamp(), expr) == "ok":
        return None
    bad = _check_expression(expr)
    if bad is None:
        store("check_expression", _stamp(), expr, "ok")
    return bad


def _check_expression(expr: str) -> str | None:
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(expr, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        return f"is not a valid SQL expression ({str(exc).splitlines()[0]})"
    if isinstance(tree, (exp.Select, exp.Union)) or any(
        True for _ in tree.find_all(exp.Select, exp.Table, exp.Subquery)
    ):
        return "must be an expression over the output columns, not a query"
    from collide.engine.duckdb import serialize_sql

    doc = serialize_sql("SELECT (" + expr + "\n)")
    if doc.get("error") or len(doc.get("statements") or []) != 1:
        return "must be one expression over the output columns"
    select = doc["statements"][0]["node"].get("select_list") or []
    if len(select) != 1:
        return "must be one expression over the output columns"
    walker = _DuckdbWalk(expr, "", [], set())
    walker.node(doc["statements"][0]["node"], frozenset())
    for _, problem in walker.problems:
        return problem.message
    return None


def _strip_comments(sql: str) -> str:
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    return re.sub(r"--[^\n]*", " ", sql)


def _sqlglot_tree(sql: str, display: str) -> tuple[Any, Problem | None]:
    import sqlglot
    from sqlglot import exp

    try:
        statements = [
            s for s in sqlglot.parse(sql, read="duckdb") if s is not None and not _empty(s)
        ]
    except sqlglot.errors.ParseError as exc:
        err = exc.errors[0] if exc.errors else {}
        desc = str(err.get("description") or exc).split("\n")[0]
        return None, Problem(
            display, err.get("line"), f"SQL syntax error: {desc}", "Fix the query near that line"
        )
    if len(statements) != 1:
        return None, _statements(display, len(statements))
    stmt = statements[0]
    while isinstance(stmt, exp.Subquery) and not stmt.alias:  # (SELECT …) as the whole model
        stmt = stmt.this
    if not isinstance(stmt, (exp.Select, exp.Union, exp.Intersect, exp.Except)):
        name = type(stmt).__name__
        word = name.upper() if name != "Command" else str(stmt.this).upper()
        return None, _forbidden(display, 1, word)
    return stmt, None


def _empty(node: Any) -> bool:
    """sqlglot's stand-in for a `;` with only a comment after it."""
    return type(node).__name__ == "Semicolon"


def model_body(sql: str) -> str:
    """The model's statement without the `;` and the comments after it, for embedding.

    Cut after the last token that is not a `;` (comments are no tokens), so a `--` inside a
    string literal stays. (Reused for the same text, as check_sql's verdicts.)"""
    hit = lookup("model_body", _stamp(), sql)
    if isinstance(hit, str):
        return hit
    body = _model_body(sql)
    store("model_body", _stamp(), sql, body)
    return body


def _model_body(sql: str) -> str:
    import sqlglot
    from sqlglot.tokens import TokenType

    try:
        tokens = sqlglot.Dialect.get_or_raise("duckdb").tokenize(sql)
    except sqlglot.errors.TokenError:
        return sql.strip()
    last = [t for t in tokens if t.token_type != TokenType.SEMICOLON]
    return sql[: last[-1].end + 1] if last else sql.strip()


def _statements(display: str, n: int) -> Problem:
    return Problem(
        display,
        None,
        f"the file holds {n} statements",
        "A model is exactly one SELECT (or WITH … SELECT); remove the others",
    )


def _duckdb_tree(sql: str, display: str) -> tuple[dict[str, Any], Problem | None]:
    """DuckDB's parse of `sql`: exactly one SELECT, or the problem."""
    from collide.engine.backend import QueryError
    from collide.engine.duckdb import parse_statements, serialize_sql

    try:
        statements = parse_statements(sql)
    except QueryError as exc:
        return {}, _syntax_problem(sql, display, str(exc))
    if len(statements) != 1:
        return {}, _statements(display, len(statements))
    doc = serialize_sql(sql)
    if doc.get("error"):
        message = str(doc.get("error_message") or "")
        if doc.get("error_type") == "parser":
            pos = doc.get("position")
            line = _line_at(sql, _char_offset(sql, int(pos))) if str(pos).isdigit() else None
            return {}, Problem(
                display, line, f"SQL syntax error: {message}", "Fix the query near that line"
            )
        word = statements[0].split(".")[-1].split("_")[0].upper()
        # DuckDB turns a PIVOT whose columns it must first look up into several statements
        word = {"MULTI": "PIVOT", "SELECT": "this statement"}.get(word, word)
        return {}, _forbidden(display, _line_of(sql, word), word)
    return doc["statements"][0]["node"], None


def _syntax_problem(sql: str, display: str, text: str) -> Problem:
    m = re.search(r"LINE (\d+):", text)
    main = re.sub(r"^[A-Za-z ]*Error: ", "", text.split("\n")[0])
    return Problem(
        display,
        int(m.group(1)) if m else None,
        f"SQL syntax error: {main}",
        "Fix the query near that line",
    )


def _char_offset(sql: str, byte_offset: int) -> int:
    """DuckDB reports byte offsets into the UTF-8 text; lines are counted in characters."""
    return len(sql.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


# --------------------------------------------------------------------------- sqlglot scopes


def _scope_reads(
    stmt: Any, sql: str, display: str, inputs: list[str], allowed: set[str], shape: SqlShape
) -> Iterator[tuple[str, Problem]]:
    """Every table reference resolved by sqlglot's scopes: a visible CTE, an input, or refused."""
    from sqlglot import exp
    from sqlglot.optimizer.scope import Scope, traverse_scope

    seen: set[int] = set()
    quiet = logging.getLogger("sqlglot")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "Cannot traverse scope …": handled below, not for the console
    try:
        scopes = list(traverse_scope(stmt))
    finally:
        quiet.setLevel(level)
    for scope in scopes:
        for table in scope.tables:
            seen.add(id(table))
            line = _node_line(table)
            if not isinstance(table.this, exp.Identifier):
                name = _function_name(table.this)
                if name not in ALLOWED_TABLE_FUNCTIONS:
                    yield name + "()", _reads(display, line, name + "()", inputs)
                continue
            qualified = table.args.get("db") or table.args.get("catalog")
            source = scope.sources.get(table.alias_or_name)
            if isinstance(source, Scope) and not qualified:
                continue  # a CTE visible here
            full = ".".join(p.name for p in table.parts)
            if qualified or table.name.lower() not in allowed:
                yield full.lower(), _reads(display, line, full, inputs)
            elif table.name.lower() not in shape.tables:
                shape.tables.append(table.name.lower())
    for table in stmt.find_all(exp.Table):
        if id(table) in seen:
            continue
        # somewhere the scopes do not reach (DESCRIBE, PIVOT, …): only a plain input name is let
        # through; what holds it is judged on DuckDB's tree
        if isinstance(table.this, exp.Identifier):
            if table.name.lower() in allowed and not (
                table.args.get("db") or table.args.get("catalog")
            ):
                continue
            name = ".".join(p.name for p in table.parts)
        else:
            name = _function_name(table.this) + "()"
        yield name.lower(), _reads(display, _node_line(table), name, inputs)


def _function_name(node: Any) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return type(node).__name__.lower()


def _node_line(node: Any) -> int | None:
    for n in (node.this, node) if hasattr(node, "this") else (node,):
        meta = getattr(n, "meta", None) or {}
        if isinstance(meta, dict) and meta.get("line"):
            return int(meta["line"])
    return None


# --------------------------------------------------------------------------- DuckDB's tree


class _DuckdbWalk:
    """Walks DuckDB's parse tree (the JSON of json_serialize_sql) with the CTEs visible at each
    point, collecting one problem per name read or thing used that model SQL may not."""

    def __init__(self, sql: str, display: str, inputs: list[str], allowed: set[str]):
        self.sql, self.display, self.inputs, self.allowed = sql, display, inputs, allowed
        self.problems: list[tuple[str, Problem]] = []
        self.here: int | None = None  # line of the nearest node visited that has a location

    def line(self, node: dict[str, Any]) -> int | None:
        loc = node.get("query_location")
        if not isinstance(loc, int) or loc == _NO_LOCATION:
            return self.here
        return _line_at(self.sql, _char_offset(self.sql, loc))

    def reads(self, node: dict[str, Any], name: str) -> None:
        self.problems.append(
            (name.lower(), _reads(self.display, self.line(node), name, self.inputs))
        )

    def uses(self, node: dict[str, Any], what: str, why: str) -> None:
        self.problems.append((what, _uses(self.display, self.line(node), what, why)))

    def any(self, value: Any, ctes: frozenset[str]) -> None:
        if isinstance(value, dict):
            self.node(value, ctes)
        elif isinstance(value, list):
            for item in value:
                self.any(item, ctes)

    def node(self, node: dict[str, Any], ctes: frozenset[str]) -> None:
        kind = node.get("type")
        kind = kind if isinstance(kind, str) else None
        self.here = self.line(node)
        if "class" in node:
            self.expression(node, ctes)
        elif kind in _QUERY_NODES:
            self.query(node, ctes)
        elif kind is not None and ("sample" in node or kind in _PLAIN_REFS):
            self.table_ref(node, ctes)
        else:
            for value in node.values():
                self.any(value, ctes)

    def query(self, node: dict[str, Any], ctes: frozenset[str]) -> None:
        entries = (node.get("cte_map") or {}).get("map") or []
        visible = set(ctes)
        for entry in entries:
            name = str(entry.get("key", "")).lower()
            body = entry.get("value") or {}
            inner = (body.get("query_node") or {}) if isinstance(body, dict) else {}
            recursive = inner.get("type") == "RECURSIVE_CTE_NODE"
            self.any(body, frozenset(visible | ({name} if recursive else set())))
            visible.add(name)
        if node.get("sample"):
            self.uses(node, "USING SAMPLE", "a random sample gives different clues on each run")
        for key, value in node.items():
            if key != "cte_map":
                self.any(value, frozenset(visible))

    def table_ref(self, node: dict[str, Any], ctes: frozenset[str]) -> None:
        kind = node["type"]
        if node.get("sample"):
            self.uses(node, "TABLESAMPLE", "a random sample gives different clues on each run")
        if kind == "BASE_TABLE":
            path = [str(p) for p in (node.get("qualified_name") or {}).get("path") or []]
            name = str(node.get("table_name", ""))
            parts = [p for p in (node.get("catalog_name"), node.get("schema_name")) if p]
            full = ".".join([*parts, name]) if parts or len(path) <= 1 else ".".join(path)
            if parts or len(path) > 1:
                self.reads(node, full)
            elif name.lower() not in ctes and name.lower() not in self.allowed:
                self.reads(node, name)
            if node.get("at_clause"):
                self.uses(node, "AT (…)", "it reads an earlier version of a table")
        elif kind == "TABLE_FUNCTION":
            fn = node.get("function") or {}
            name = str(fn.get("function_name", "")).lower()
            qualified = len((fn.get("qualified_name") or {}).get("path") or []) > 1
            if qualified or name not in ALLOWED_TABLE_FUNCTIONS:
                self.reads(node, name + "()")
                return
            self.any(fn.get("arguments"), ctes)
            self.series_bound(fn)
        elif kind == "SHOW_REF":
            shown = str(node.get("show_type") or "DESCRIBE").upper()
            self.reads(node, {"SUMMARY": "SUMMARIZE", "SHOW_SPECIAL": "SHOW"}.get(shown, shown))
            return
        elif kind == "PIVOT":
            self.uses(node, "PIVOT", "it runs a query of its own to find the columns")
            return
        elif kind not in _PLAIN_REFS:
            self.reads(node, kind)
            return
        for key, value in node.items():
            if key not in ("function", "sample"):
                self.any(value, ctes)

    def expression(self, node: dict[str, Any], ctes: frozenset[str]) -> None:
        if "function_name" in node:
            name = str(node.get("function_name") or "").lower()
            path = (node.get("qualified_name") or {}).get("path") or []
            if node.get("schema") or node.get("catalog") or len(path) > 1:
                self.reads(node, ".".join(str(p) for p in path) + "()")
            elif name not in allowed_functions() and name not in ALLOWED_TABLE_FUNCTIONS:
                if name in refused_functions() or function_refused(name):
                    self.reads(node, name + "()")
                else:
                    hint = did_you_mean(name, allowed_functions())
                    self.problems.append(
                        (
                            name + "()",
                            Problem(
                                self.display,
                                self.line(node),
                                f'unknown function "{name}"',
                                (hint + " " if hint.startswith("Did") else "")
                                + "See the function list in the README",
                            ),
                        )
                    )
            elif name in ("range", "generate_series"):
                self.series_bound(node)
        for value in node.values():
            self.any(value, ctes)

    def series_bound(self, fn: dict[str, Any]) -> None:
        """range()/generate_series() over fixed numbers: at most MAX_SERIES_ROWS rows."""
        numbers = []
        for arg in fn.get("arguments") or []:
            value = _constant_number(arg.get("expression") if isinstance(arg, dict) else None)
            if value is None:
                return  # over data or dates: bounded by the data, and by the model time limit
            numbers.append(value)
        if not numbers:
            return
        start, stop, step = 0, numbers[0], 1
        if len(numbers) >= 2:
            start, stop = numbers[0], numbers[1]
        if len(numbers) >= 3:
            step = numbers[2]
        rows = abs((stop - start) / step) if step else float("inf")
        if rows > MAX_SERIES_ROWS:
            name = str(fn.get("function_name"))
            self.uses(
                fn,
                f"{name}() over {rows:,.0f} rows",
                f"a generated series may hold at most {MAX_SERIES_ROWS:,} rows",
            )


def _constant_number(node: Any) -> float | None:
    """The value of a numeric literal (possibly negated or cast), else None."""
    if not isinstance(node, dict):
        return None
    cls = node.get("class")
    if cls == "CONSTANT":
        lit = node.get("literal") or {}
        try:
            return float(lit.get("text"))
        except (TypeError, ValueError):
            return float(lit["value"]) if isinstance(lit.get("value"), (int, float)) else None
    if cls == "CAST":
        return _constant_number(node.get("child"))
    if cls == "FUNCTION" and node.get("function_name") == "-":
        args = node.get("arguments") or []
        if len(args) == 1:
            value = _constant_number(args[0].get("expression"))
            return -value if value is not None else None
    return None


if __name__ == "__main__":  # regenerate sql_functions.txt after a DuckDB upgrade
    from collide.engine.duckdb import plain_connection

    print(generate_function_list(plain_connection()), end="")
