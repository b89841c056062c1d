"""Model SQL (DuckDB's dialect) translated for Spark, faithfully or not at all.

Authors write one dialect. sqlglot does most of the translation; the rules here cover the places
where its output would run on Spark with another meaning (or crash), found by running every
construct on both engines over the same rows (tests/test_spark_sql.py). Anything outside the
tested constructs is refused with a problem at its line, never passed through on trust.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from collide.errors import Problem

# Expression kinds whose Spark output was compared value by value with DuckDB's
# (tests/test_spark_sql.py). Anything else is refused: a construct nobody checked could change
# the meaning of a clue without a word.
_FAITHFUL = {
    # structure
    "Select",
    "From",
    "Join",
    "Where",
    "Group",
    "Having",
    "Order",
    "Ordered",
    "Limit",
    "Offset",
    "With",
    "CTE",
    "TableAlias",
    "Subquery",
    "Table",
    "Identifier",
    "Column",
    "Star",
    "Alias",
    "Union",
    "Except",
    "Intersect",
    "Distinct",
    "Tuple",
    "Paren",
    "Qualify",
    "Window",
    "WindowSpec",
    "PartitionedByProperty",
    "Lateral",
    "Values",
    "Placeholder",
    "Var",
    # literals, logic and comparison
    "Literal",
    "Null",
    "Boolean",
    "And",
    "Or",
    "Not",
    "EQ",
    "NEQ",
    "GT",
    "GTE",
    "LT",
    "LTE",
    "Is",
    "In",
    "Between",
    "Like",
    "ILike",
    "Case",
    "If",
    "Coalesce",
    "Nullif",
    "Exists",
    "NullSafeEQ",
    "NullSafeNEQ",
    "Any",
    "All",
    # arithmetic
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Mod",
    "Neg",
    "Abs",
    "Round",
    "Floor",
    "Ceil",
    "Greatest",
    "Least",
    "Sign",
    "Sqrt",
    "Pow",
    "Ln",
    "Log",
    "Exp",
    "IntDiv",
    # casts and types
    "Cast",
    "TryCast",
    "DataType",
    "DataTypeParam",
    # text
    "DPipe",
    "Concat",
    "Lower",
    "Upper",
    "Trim",
    "Length",
    "Substring",
    "Left",
    "Right",
    "Replace",
    "StrPosition",
    "Pad",
    "StartsWith",
    "EndsWith",
    "Contains",
    "SplitPart",
    "RegexpLike",
    "RegexpExtract",
    "RegexpReplace",
    "RegexpFullMatch",
    "MD5",
    # dates
    "CurrentDate",
    "Year",
    "Month",
    "Day",
    "Quarter",
    "DayOfWeek",
    "DayOfMonth",
    "DayOfYear",
    "Extract",
    "DateDiff",
    "DateAdd",
    "DateSub",
    "TsOrDsAdd",
    "AddMonths",
    "TimeToStr",
    "StrToTime",
    "StrToDate",
    "DateFromParts",
    "LastDay",
    "Interval",
    "TimestampTrunc",
    "DateTrunc",
    "TsOrDsToDate",
    "DateStrToDate",
    "ToChar",
    # aggregates and windows
    "Count",
    "Sum",
    "Avg",
    "Min",
    "Max",
    "AnyValue",
    "IgnoreNulls",
    "RespectNulls",
    "Filter",
    "LogicalAnd",
    "LogicalOr",
    "ArgMax",
    "ArgMin",
    "Stddev",
    "StddevSamp",
    "StddevPop",
    "Variance",
    "VariancePop",
    "Median",
    "RowNumber",
    "Rank",
    "DenseRank",
    "Lag",
    "Lead",
    "FirstValue",
    "LastValue",
    "NTile",
    "GroupConcat",
    "ArrayAgg",
    # what the rewrite rules produce
    "Explode",  # unnest(list) in a select list: a row per element on both engines
    "Anonymous",
    "Array",
    "ArraySort",
    "ArrayJoin",
    "ArrayConcat",
    "Struct",
    "Dot",
    "ArrayToString",
    "ArrayUniqueAgg",
    "Transform",
    "Lambda",
    "PropertyEQ",
    "ConcatWs",
}

# DuckDB functions sqlglot leaves by name that mean the same on Spark (checked by the tests).
_SAME_NAME = {
    "array_join",
    "array_sort",
    "collect_set",
    "collect_list",
    "datediff",
    "make_ym_interval",
    "struct",
}

# Java regex spells Unicode scripts \p{IsHan}; RE2 (DuckDB) spells them \p{Han}.
_SCRIPT = re.compile(r"\\([pP])\{(?!Is|In)([A-Z][a-z]+)\}")
_POSIX = {
    "[:alpha:]": r"\p{Alpha}",
    "[:digit:]": r"\d",
    "[:alnum:]": r"\p{Alnum}",
    "[:space:]": r"\s",
    "[:upper:]": r"\p{Upper}",
    "[:lower:]": r"\p{Lower}",
    "[:punct:]": r"\p{Punct}",
    "[:xdigit:]": r"\p{XDigit}",
}


@dataclass
class SparkSql:
    """The Spark text of one model's SQL, or the reasons it cannot be had faithfully.
    `regex_params`: params used as regular expressions, whose values the Spark backend turns
    into Java's syntax (`java_regex`) when it binds them."""

    sql: str = ""
    problems: list[Problem] = field(default_factory=list)
    regex_params: set[str] = field(default_factory=set)


def java_regex(pattern: str) -> str:
    """An RE2 pattern (DuckDB) in Java's syntax (Spark), for the constructs spelled differently."""
    out = _SCRIPT.sub(lambda m: f"\\{m.group(1)}{{Is{m.group(2)}}}", pattern)
    out = out.replace("(?P<", "(?<")
    for posix, java in _POSIX.items():
        out = out.replace(posix, java)
    return out


def _java_replacement(text: str) -> str:
    """RE2 replacement (`\\1`, literal `$`) in Java's (`$1`, `\\$`)."""
    out = text.replace("$", "\\$")
    return re.sub(r"\\(\d)", r"$\1", out)


def _line(sql: str, node: Any) -> int | None:
    """The line of a node: sqlglot keeps it on the tokens (identifiers, literals) beneath."""
    for sub in node.walk():
        line = (getattr(sub, "meta", None) or {}).get("line")
        if line:
            return int(line)
    return None


def _string_literal(node: Any) -> str | None:
    from sqlglot import exp

    return node.name if isinstance(node, exp.Literal) and node.is_string else None


def to_spark(
    sql: str,
    display: str,
    collide_functions: Iterable[str] = (),
    types: dict[str, dict[str, str]] | None = None,
    date_functions: Iterable[str] = (),
) -> SparkSql:
    """Translate one model's (or evidence) SQL; problems name each construct that has no
    faithful Spark form. `types`: column types of the inputs (DuckDB names), which tell a date
    difference from a number difference."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    ours = {f.lower() for f in collide_functions}
    ours_dates = {f.lower() for f in date_functions}
    out = SparkSql()
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except ParseError as exc:
        err = exc.errors[0] if exc.errors else {}
        out.problems.append(
            Problem(display, err.get("line"), f"cannot read the SQL: {err.get('description')}", "")
        )
        return out

    def problem(node: Any, what: str, fix: str) -> None:
        out.problems.append(Problem(display, _line(sql, node), what, fix))

    date_cols = _date_columns(tree, types or {}, ours_dates)
    other_cols = {c for cols in (types or {}).values() for c in cols} - date_cols

    def is_date(node: Any) -> bool | None:
        """True: a DATE; False: certainly not; None: cannot tell from the SQL."""
        if isinstance(node, (exp.Cast, exp.TryCast)):
            return node.to.this == exp.DataType.Type.DATE
        if isinstance(node, (exp.CurrentDate, exp.DateFromParts, exp.StrToDate, exp.LastDay)):
            return True
        if isinstance(node, exp.Anonymous):
            return True if node.name.lower() in ours_dates else None
        if isinstance(node, exp.Column):
            if node.name in date_cols:
                return True
            return False if node.name in other_cols else None
        if isinstance(node, (exp.Coalesce, exp.Greatest, exp.Least)):
            kinds = {is_date(p) for p in [node.this, *node.expressions]}
            return True if True in kinds else (False if kinds == {False} else None)
        if isinstance(node, exp.Paren):
            return is_date(node.this)
        if isinstance(
            node,
            (exp.Literal, exp.Count, exp.Sum, exp.Avg, exp.Mul, exp.Div, exp.Length, exp.DateDiff),
        ):
            return False
        return None

    def months_arg(node: Any) -> Any | None:
        if isinstance(node, exp.Anonymous) and node.name.lower() == "to_months":
            return node.expressions[0]
        return None

    def rewrite(node: Any) -> Any:
        # date - date: an integer on DuckDB, an interval on Spark
        if isinstance(node, exp.Sub):
            n = months_arg(node.expression)
            if n is not None:
                return _shift_months(node.this, exp.Neg(this=exp.Paren(this=n)))
            left, right = is_date(node.this), is_date(node.expression)
            if left and right:
                return exp.func("DATEDIFF", node.this, node.expression)
            if (left or right) and None in (left, right):
                problem(
                    node,
                    f"cannot tell whether {node.sql('duckdb')} subtracts two dates (a number of "
                    "days on DuckDB, an interval on Spark)",
                    f"Write date_diff('day', {node.expression.sql('duckdb')}, "
                    f"{node.this.sql('duckdb')}) for days, or cast both sides",
                )
        if isinstance(node, exp.Add):
            for a, b in ((node.this, node.expression), (node.expression, node.this)):
                n = months_arg(b)
                if n is not None:
                    return _shift_months(a, exp.Paren(this=n))
        if isinstance(node, exp.GroupConcat):
            return _string_agg(node, problem)
        if (
            isinstance(node, exp.ArrayToString)
            and isinstance(node.this, exp.ArraySort)
            and isinstance(node.this.this, exp.ArrayAgg)
            and not isinstance(node.this.this.this, exp.Order)
            and node.this.expression is None
        ):
            # array_to_string(list_sort(list([DISTINCT] x)), sep): NULLs are dropped by
            # array_to_string, the order is the value's — as COLLECT_* then ARRAY_SORT
            agg = node.this.this.this
            distinct = isinstance(agg, exp.Distinct)
            value = agg.expressions[0] if distinct else agg
            collect = "COLLECT_SET" if distinct else "COLLECT_LIST"
            joined = exp.func(
                "ARRAY_JOIN", exp.func("ARRAY_SORT", exp.func(collect, value)), node.expression
            )
            none = exp.EQ(this=exp.Count(this=value.copy()), expression=exp.Literal.number(0))
            return exp.If(this=none, true=exp.Null(), false=joined)
        if isinstance(node, (exp.ArgMax, exp.ArgMin)):
            # DuckDB skips rows whose argument is NULL; Spark's MAX_BY/MIN_BY skip rows whose
            # ordering value is NULL — so the ordering value is NULL where the argument is
            key = exp.If(
                this=exp.Is(this=node.this.copy(), expression=exp.Null()),
                true=exp.Null(),
                false=node.expression,
            )
            return type(node)(this=node.this, expression=key)
        if isinstance(node, exp.ArrayAgg):
            return _list_agg(node, problem)
        if isinstance(node, exp.RegexpReplace):
            return _regexp_replace(node, problem)
        if isinstance(node, (exp.RegexpLike, exp.RegexpExtract)):
            if isinstance(node.expression, exp.Placeholder):
                out.regex_params.add(node.expression.name)
                return node
            pat = _string_literal(node.expression)
            if pat is None:
                problem(node, "a regular expression that is not a literal", _LITERAL_FIX)
            else:
                node.set("expression", exp.Literal.string(java_regex(pat)))
        if isinstance(node, exp.RegexpFullMatch):
            pat = _string_literal(node.expression)
            if pat is None:
                problem(
                    node, "a regular expression that is neither a literal nor a param", _LITERAL_FIX
                )
                return node
            # RE2's full match is the whole text; Java's `$` would also match before a final
            # line break, `\z` does not
            return exp.RegexpLike(
                this=node.this, expression=exp.Literal.string(f"\\A(?:{java_regex(pat)})\\z")
            )
        return node

    tree = tree.transform(rewrite)
    for node in tree.walk():
        kind = type(node).__name__
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            if name == "to_months":
                problem(
                    node,
                    "to_months() outside `date ± to_months(n)` has no Spark form",
                    "Write the month shift as `d + to_months(n)` or `d - to_months(n)`",
                )
            elif name not in ours and name not in _SAME_NAME:
                problem(
                    node,
                    f'function "{name}" has no tested Spark translation',
                    "Rewrite it with the functions listed in the README's Spark section, or run "
                    "this model on DuckDB",
                )
        elif kind not in _FAITHFUL:
            problem(
                node,
                f"{_describe(node)} has no tested Spark translation",
                "Rewrite it with the constructs listed in the README's Spark section, or run "
                "this model on DuckDB",
            )
    if out.problems:
        return out
    out.sql = tree.sql(dialect="spark")
    return out


def _shift_months(base: Any, months: Any) -> Any:
    """`d ± to_months(n)`: a TIMESTAMP on DuckDB whether d is a date or a timestamp, the day
    clamped to the month's end (31 January + 1 month = 29 February) — as Spark's year-month
    intervals do. ADD_MONTHS alone would give a DATE, and drop a timestamp's time."""
    from sqlglot import exp

    ntz = exp.Cast(this=base, to=exp.DataType.build("TIMESTAMP_NTZ", dialect="spark"))
    return exp.Add(
        this=ntz,
        expression=exp.Anonymous(
            this="MAKE_YM_INTERVAL", expressions=[exp.Literal.number(0), months]
        ),
    )


_LITERAL_FIX = "Write the pattern as a quoted literal so that it can be checked for both engines"


def _describe(node: Any) -> str:
    text = node.sql(dialect="duckdb")
    return f'"{text[:60]}"' if text else type(node).__name__


def _date_columns(tree: Any, types: dict[str, dict[str, str]], date_fns: set[str]) -> set[str]:
    """Names of DATE columns: of the inputs, and of outputs of CTEs/sub-selects computed as dates
    (min/max/any_value of a date, casts to DATE, or a date column passed through)."""
    from sqlglot import exp

    dates = {c for cols in types.values() for c, t in cols.items() if t.upper() == "DATE"}
    changed = True
    while changed:  # alias chains through several CTEs
        changed = False
        for alias in tree.find_all(exp.Alias):
            inner = alias.this
            while isinstance(inner, (exp.Min, exp.Max, exp.AnyValue, exp.IgnoreNulls, exp.Paren)):
                inner = inner.this
            is_date = (
                isinstance(inner, exp.Anonymous)
                and inner.name.lower() in date_fns
                or isinstance(inner, exp.Column)
                and inner.name in dates
                or isinstance(inner, (exp.Cast, exp.TryCast))
                and inner.to.this == exp.DataType.Type.DATE
                or isinstance(inner, (exp.Coalesce, exp.Greatest, exp.Least))
                and any(
                    isinstance(p, exp.Column)
                    and p.name in dates
                    or isinstance(p, (exp.Cast, exp.TryCast))
                    and p.to.this == exp.DataType.Type.DATE
                    for p in [inner.this, *inner.expressions]
                )
            )
            if is_date and alias.alias not in dates:
                dates.add(alias.alias)
                changed = True
    return dates


def _string_agg(node: Any, problem: Any) -> Any:
    """string_agg: DuckDB joins in the ORDER BY given; Spark 4.3's LISTAGG crashes and
    COLLECT_SET has no order — so only `ORDER BY` the aggregated value itself is translated,
    as ARRAY_JOIN(ARRAY_SORT(COLLECT_SET|COLLECT_LIST(x)), sep)."""
    from sqlglot import exp

    this = node.this
    order = None
    if isinstance(this, exp.Order):
        order = this.expressions
        this = this.this
    distinct = isinstance(this, exp.Distinct)
    value = this.expressions[0] if distinct else this
    sep = node.args.get("separator") or exp.Literal.string(",")
    if not order:
        problem(
            node,
            "string_agg() without ORDER BY joins the values in an order neither engine "
            "promises, so the text would differ between DuckDB and Spark",
            f"Add the order: string_agg({'DISTINCT ' if distinct else ''}"
            f"{value.sql('duckdb')}, {sep.sql('duckdb')} ORDER BY {value.sql('duckdb')})",
        )
        return node
    if len(order) != 1 or order[0].args.get("desc"):
        problem(
            node,
            "string_agg() ordered by several keys or descending has no tested Spark form",
            f"Order by one key, ascending: ORDER BY {value.sql('duckdb')}",
        )
        return node
    key = order[0].this
    # string_agg over no value at all is NULL on DuckDB; ARRAY_JOIN of an empty array is ''
    none = exp.EQ(this=exp.Count(this=value.copy()), expression=exp.Literal.number(0))
    if key == value:
        collect = "COLLECT_SET" if distinct else "COLLECT_LIST"
        joined = exp.func("ARRAY_JOIN", exp.func("ARRAY_SORT", exp.func(collect, value)), sep)
        return exp.If(this=none, true=exp.Null(), false=joined)
    # another key: sort (key is null, key, value) structs — DuckDB's ASC NULLS LAST, ties by
    # value — and keep the values; array_join skips NULL values as string_agg does
    packed = exp.func(
        "STRUCT",
        exp.Alias(this=exp.Is(this=key.copy(), expression=exp.Null()), alias="k0"),
        exp.Alias(this=key.copy(), alias="k1"),
        exp.Alias(this=value.copy(), alias="v"),
    )
    lam = exp.Lambda(
        this=exp.Dot(this=exp.to_identifier("s"), expression=exp.to_identifier("v")),
        expressions=[exp.to_identifier("s")],
    )
    sorted_ = exp.func("ARRAY_SORT", exp.func("COLLECT_LIST", packed))
    joined = exp.func("ARRAY_JOIN", exp.Transform(this=sorted_, expression=lam), sep)
    return exp.If(this=none, true=exp.Null(), false=joined)


def _list_agg(node: Any, problem: Any) -> Any:
    """list(x ORDER BY x): DuckDB keeps NULLs and the order; COLLECT_LIST drops both."""
    from sqlglot import exp

    problem(
        node,
        "list()/array_agg() keeps NULLs and its order on DuckDB, while Spark's COLLECT_LIST "
        "drops NULLs and has no order",
        "Join the values into text with string_agg(x, '、' ORDER BY x), or run this model on "
        "DuckDB",
    )
    return node if isinstance(node, exp.Expression) else node


def _regexp_replace(node: Any, problem: Any) -> Any:
    """DuckDB replaces the first match unless 'g' is given; Spark always replaces every match."""
    from sqlglot import exp

    pat = _string_literal(node.expression)
    rep = _string_literal(node.args.get("replacement"))
    mods = node.args.get("modifiers")
    flags = _string_literal(mods) if mods is not None else ""
    if pat is None or rep is None or flags is None:
        problem(
            node,
            "regexp_replace() with a pattern or replacement that is not a literal",
            _LITERAL_FIX,
        )
        return node
    unknown = set(flags) - {"g", "i", "s", "m"}
    if unknown:
        problem(
            node,
            f"regexp_replace() option '{''.join(sorted(unknown))}' has no Spark form",
            "Use only the options g, i, s and m",
        )
        return node
    if "g" not in flags and not pat.startswith("^"):
        problem(
            node,
            "regexp_replace() without 'g' replaces only the first match on DuckDB and every "
            "match on Spark",
            "Add 'g' if every match should be replaced, or anchor the pattern with ^",
        )
        return node
    inline = "".join(f for f in "ism" if f in flags)
    java = (f"(?{inline})" if inline else "") + java_regex(pat)
    return exp.RegexpReplace(
        this=node.this,
        expression=exp.Literal.string(java),
        replacement=exp.Literal.string(_java_replacement(rep)),
    )


DATE_FUNCTIONS = ("add_workdays", "id_birth")  # collide functions that return a DATE


def model_problems(model: Any, schemas: dict[str, dict[str, str]]) -> list[Problem]:
    """`collide check --engine spark`: every construct of a model's SQL (its score expression
    included) that has no faithful Spark translation, at its file and line."""
    from collide.engine.functions import FUNCTIONS

    if model.kind == "polars":
        found = rule_problem(model, schemas)
        return [found] if found else []
    if model.kind != "sql" or not model.sql:
        return []
    ours = [f[0] for f in FUNCTIONS] + ["add_workdays"]
    types = {ds: schemas.get(ds, {}) for ds in model.spec.inputs}
    out = to_spark(model.sql, model.body_display, ours, types, DATE_FUNCTIONS).problems
    score = to_spark(f"SELECT {model.spec.score} AS s", model.display, ours, types).problems
    return out + [Problem(p.path, None, f"score: {p.message}", p.fix) for p in score]


def rule_problem(model: Any, schemas: dict[str, dict[str, str]] | None = None) -> Problem | None:
    """A polars rule runs on Spark only per partition of the key all its joins and windows use:
    without `partition_by:` it would need every row on one machine, which is what Spark is
    for avoiding. `schemas`: the inputs' columns, to check that each carries the key."""
    keys = model.spec.partition_by
    if not keys:
        return Problem(
            model.display,
            None,
            "a polars rule runs on Spark only per partition of its key, and this model declares "
            "none (partition_by:)",
            "Add `partition_by: <column>` naming the column all the rule's joins and windows "
            "use (every input must have it), or run this model on DuckDB",
        )
    for ds in model.spec.inputs:
        cols = (schemas or {}).get(ds)
        missing = [k for k in keys if cols and k not in cols]
        if missing:
            return Problem(
                model.display,
                model.line("partition_by"),
                f'partition_by: input "{ds}" has no column "{missing[0]}"',
                "Partition by a column every input of the rule has",
            )
    return None
