"""Static check of model SQL: one read-only SELECT over the declared inputs, nothing else.

This is the first of two walls; the second is the DuckDB connection itself (external access
disabled, configuration locked — see engine.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from collide.errors import Problem, did_you_mean

# Table functions that only generate rows; everything else that reads (read_csv, read_parquet,
# glob, query_table, …) is refused.
ALLOWED_TABLE_FUNCTIONS = {"generate_series", "range", "unnest"}

_STATEMENT_WORDS = {
    "Copy": "COPY",
    "Attach": "ATTACH",
    "Detach": "DETACH",
    "Install": "INSTALL",
    "Set": "SET",
    "Pragma": "PRAGMA",
    "Insert": "INSERT",
    "Update": "UPDATE",
    "Delete": "DELETE",
    "Create": "CREATE",
    "Drop": "DROP",
    "Alter": "ALTER",
    "Use": "USE",
    "Export": "EXPORT",
}


@dataclass
class SqlShape:
    """What the static check learned: the params the SQL uses and the tables it reads."""

    params: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)


def _line_of(sql: str, needle: str) -> int | None:
    if not needle:
        return None
    idx = sql.lower().find(needle.lower())
    return sql.count("\n", 0, idx) + 1 if idx >= 0 else None


def check_sql(
    sql: str, inputs: list[str], display: str, declared_params: list[str] | None = None
) -> tuple[SqlShape, list[Problem]]:
    """Problems with `sql` as model SQL. Empty list = safe to bind and run."""
    import sqlglot
    from sqlglot import exp

    problems: list[Problem] = []
    shape = SqlShape()
    body = sql.strip().rstrip(";").strip()
    if not body:
        return shape, [
            Problem(display, 1, "the SQL file is empty", "Write one SELECT over the model's inputs")
        ]
    first_word = re.match(r"\s*([A-Za-z]+)", _strip_comments(body))
    word = first_word.group(1).upper() if first_word else ""
    if word in {
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
    }:
        return shape, [_forbidden(display, sql, word)]
    try:
        statements = [s for s in sqlglot.parse(body, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as exc:
        err = exc.errors[0] if exc.errors else {}
        line = err.get("line")
        desc = str(err.get("description") or exc).split("\n")[0]
        return shape, [
            Problem(display, line, f"SQL syntax error: {desc}", "Fix the query near that line")
        ]
    if len(statements) != 1:
        return shape, [
            Problem(
                display,
                None,
                f"the file holds {len(statements)} statements",
                "A model is exactly one SELECT (or WITH … SELECT); remove the others",
            )
        ]
    stmt = statements[0]
    kind = type(stmt).__name__
    if not isinstance(stmt, (exp.Select, exp.Union, exp.Intersect, exp.Except)):
        return shape, [_forbidden(display, sql, _STATEMENT_WORDS.get(kind, kind.upper()))]

    ctes = {c.alias_or_name.lower() for c in stmt.find_all(exp.CTE)}
    allowed = {i.lower() for i in inputs}
    seen: set[str] = set()
    for table in stmt.find_all(exp.Table):
        fn = table.this
        if not isinstance(fn, exp.Identifier):
            name = fn.sql(dialect="duckdb").split("(")[0].strip().lower() if fn else "?"
            if name in ALLOWED_TABLE_FUNCTIONS:
                continue
            problems.append(
                Problem(
                    display,
                    _line_of(sql, name),
                    f"table function {name}() is not allowed in model SQL",
                    "A model may read only its declared inputs, by name",
                )
            )
            continue
        if table.args.get("db") or table.args.get("catalog"):
            problems.append(
                Problem(
                    display,
                    _line_of(sql, table.sql(dialect="duckdb")),
                    f'qualified table name "{table.sql(dialect="duckdb")}" is not allowed',
                    "Refer to inputs by their dataset id only",
                )
            )
            continue
        name = table.name.lower()
        if name in ctes or name in seen:
            continue
        seen.add(name)
        if name not in allowed:
            hint = did_you_mean(name, inputs)
            problems.append(
                Problem(
                    display,
                    _line_of(sql, table.name),
                    f'table "{table.name}" is not a declared input of this model',
                    (f"{hint} " if hint.startswith("Did") else "")
                    + "Add it to `inputs:` in the YAML or read a declared input",
                )
            )
        else:
            shape.tables.append(name)
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
    """A score expression may be any scalar SQL over output columns, but no subquery or table."""
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
    return None


def _strip_comments(sql: str) -> str:
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    return re.sub(r"--[^\n]*", " ", sql)


def _forbidden(display: str, sql: str, word: str) -> Problem:
    return Problem(
        display,
        _line_of(sql, word),
        f"{word} is not allowed in model SQL",
        "A model is one read-only SELECT over its declared inputs; "
        "files, databases, extensions and settings are out of reach",
    )
