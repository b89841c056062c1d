"""Model SQL on Spark: each construct translated gives DuckDB's values on the same rows, each
construct that cannot be translated faithfully is refused with its reason, and collide's SQL
functions give identical results on both engines.

Spark runs for real (local mode, Java 17); the tests skip only where pyspark is not installed
(it is the `spark` extra, which `.[dev]` includes).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest

from collide.engine.duckdb import register_functions
from collide.engine.functions import FUNCTIONS, sql_functions
from collide.engine.spark_sql import java_regex, to_spark

pyspark = pytest.importorskip("pyspark")

OURS = [f[0] for f in FUNCTIONS] + ["add_workdays"]
DATE_FNS = ["add_workdays", "id_birth"]

ROWS = pa.table(
    {
        "k": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
        "g": pa.array(["甲", "甲", "乙", "乙", "丙", None]),
        "s": pa.array(["北京华信科技有限公司", "张三 ", "abc-abc-abc", None, "（分店）王记饭庄", "x"]),
        "n": pa.array([Decimal("12.50"), Decimal("0.00"), None, Decimal("-3.25"),
                       Decimal("100.00"), Decimal("7.10")], pa.decimal128(18, 2)),
        "f": pa.array([1.5, 2.25, None, -0.5, 10.0, 3.0]),
        "d": pa.array([dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2023, 12, 31), None,
                       dt.date(2024, 5, 6), dt.date(2020, 1, 1)]),
        "e": pa.array([dt.date(2024, 3, 1), dt.date(2024, 2, 1), None, dt.date(2024, 1, 1),
                       dt.date(2025, 5, 6), dt.date(2019, 12, 31)]),
        "id": pa.array(["11010519491231002X", "110105194912310021", None, "440524188001010014",
                        "11010519491231002x", "1101051949123100"]),
        # CGCS2000 lon/lat polygons as ingest stores them (SRID=<epsg>;<WKT>)
        "p": pa.array([
            "SRID=4490;POLYGON((117 30,117.001 30,117.001 30.001,117 30.001,117 30))",
            "SRID=4490;POLYGON((117.0005 30,117.002 30,117.002 30.001,117.0005 30.001,117.0005 30))",
            None,
            "SRID=4490;POLYGON((118 31,118.01 31,118.01 31.01,118 31.01,118 31))",
            "SRID=4490;POLYGON((117 30,117.001 30,117.001 30.001,117 30.001,117 30))",
            "SRID=4490;POLYGON((117.0002 30.0002,117.0008 30.0002,117.0008 30.0008,117.0002 30.0008,117.0002 30.0002))",
        ]),
    }
)  # fmt: skip
TYPES = {"t": {"k": "BIGINT", "g": "VARCHAR", "s": "VARCHAR", "n": "DECIMAL(18,2)",
               "f": "DOUBLE", "d": "DATE", "e": "DATE", "id": "VARCHAR",
               "p": "VARCHAR"}}  # fmt: skip


@pytest.fixture(scope="module")
def spark():
    from collide.engine import spark as adapter

    session = adapter.session("local[1]")
    adapter.register_functions(session)
    session.createDataFrame(ROWS.to_pandas()).createOrReplaceTempView("t")
    # pandas turns the dates into objects and NULL decimals into NaN: cast the view back
    session.sql(
        "SELECT CAST(k AS BIGINT) k, g, s, CAST(n AS DECIMAL(18,2)) n, CAST(f AS DOUBLE) f, "
        "CAST(d AS DATE) d, CAST(e AS DATE) e, id, p FROM t"
    ).createOrReplaceTempView("t")
    yield session


def _duck(sql: str, params: dict | None = None) -> list[tuple]:
    con = duckdb.connect()
    con.register("t", ROWS)
    register_functions(con)
    return con.execute(sql, params or {}).fetchall()


def _spark(spark, sql: str, params: dict | None = None) -> list[tuple]:
    from collide.engine import spark as adapter

    out = to_spark(sql, "m.sql", OURS, TYPES, DATE_FNS)
    assert out.problems == [], [str(p) for p in out.problems]
    return [tuple(r) for r in spark.sql(out.sql, args=adapter.bind(out, params or {})).collect()]


def _norm(rows: list[tuple]) -> list[tuple]:
    def v(x):
        if isinstance(x, float):
            return round(x, 9)
        if isinstance(x, dt.datetime):
            return x.replace(tzinfo=None)
        return x

    return [tuple(v(x) for x in r) for r in rows]


# Each expression is evaluated per row, ordered by k, on both engines.
ROW_EXPRESSIONS = [
    "e - d",  # days between two dates: an integer on DuckDB, DATEDIFF on Spark
    "date_diff('day', d, e)",
    "d + to_months(1)",
    "d - to_months(13)",
    "strftime(d, '%Y-%m-%d')",
    "strftime(d, '%Y%m')",
    "year(d) * 100 + month(d)",
    "d + 7",
    "coalesce(d, e) - e",
    "add_workdays(d, 20) - d",
    "regexp_replace(s, '[（(][^）)]*[）)]', '', 'g')",
    "regexp_replace(s, '^([^市]{2,3}市)?', '')",
    "regexp_replace(s, 'abc', 'X', 'g')",
    "regexp_replace(s, '(a)(b)', '\\2\\1', 'g')",
    "regexp_replace(s, '^A', 'Z', 'i')",
    "regexp_matches(coalesce(s, ''), '公司|饭庄')",
    "regexp_full_match(coalesce(s, ''), '\\p{Han}+')",
    "regexp_extract(s, '([a-z]+)-', 1)",
    "regexp_extract(s, '[a-z]+')",
    "s || '/' || g",
    "concat_ws('；', g, s)",
    "length(s)",
    "substr(s, 2, 3)",
    "s LIKE '%公司'",
    "trim(s)",
    "upper(s)",
    "replace(s, 'abc', 'x')",
    "n * 2",
    "n + 1",
    "round(f, 1)",
    "CASE WHEN n > 10 THEN '高' WHEN n > 0 THEN '中' ELSE '低' END",
    "try_cast(nullif(g, '') AS DATE)",
    "CAST(k AS VARCHAR)",
    "greatest(d, e)",
    "least(d, e)",
    "d IS NULL",
    "k IN (1, 3, 5)",
    "k BETWEEN 2 AND 4",
    "nullif(g, '乙')",
    "k // 2",
    "k % 4",
    "id_valid(id)",
    "id_area_known(id)",
    "geo_valid(p)",
    "geo_area(p)",
    "geo_intersects(p, 'SRID=4490;POLYGON((117 30,117.001 30,117.001 30.001,117 30.001,117 30))')",
    "geo_overlap_area(p, 'SRID=4490;POLYGON((117 30,117.001 30,117.001 30.001,117 30.001,117 30))')",
    "geo_overlap_share(p, 'SRID=4490;POLYGON((117 30,117.001 30,117.001 30.001,117 30.001,117 30))')",
    "geo_intersection(p, 'SRID=4490;POLYGON((117 30,117.001 30,117.001 30.001,117 30.001,117 30))')",
    "geo_cells(p, 200)",
    "id_norm(id)",
    "id_birth(id)",
    "id_gender(id)",
    "mask_id(id)",
    "name_norm(s)",
    "org_key(s)",
    "addr_key(s)",
    "name_sim(s, '张三')",
    "name_jw(s, '张三')",
    "name_pinyin_sim(s, '张三')",
    "name_pinyin_sim(s, '曾重长乐行')",
    "org_sim(s, '北京华信科技公司')",
    "addr_sim(s, 'abc')",
    "uscc_norm(s)",
    "uscc_valid(s)",
]


@pytest.mark.parametrize("expr", ROW_EXPRESSIONS)
def test_row_expression_gives_duckdb_values_on_spark(spark, expr: str) -> None:
    sql = f"SELECT k, {expr} AS v FROM t ORDER BY k"
    assert _norm(_spark(spark, sql)) == _norm(_duck(sql))


AGGREGATES = [
    "string_agg(DISTINCT s, '、' ORDER BY s)",
    "string_agg(s, '、' ORDER BY s)",
    "string_agg(s, '、' ORDER BY d)",
    "string_agg(DISTINCT g, ',' ORDER BY g)",
    "count(*)",
    "count(DISTINCT s)",
    "count(*) FILTER (WHERE n > 0)",
    "sum(n)",
    "min(d)",
    "max(e)",
    "any_value(g) IS NOT NULL",
    "bool_or(n > 50)",
    "bool_and(n > -10)",
    "avg(f)",
    "arg_max(s, k)",
    "array_to_string(list_sort(list(DISTINCT s)), '、')",
    "array_to_string(list_sort(list(g)), ',')",
    "array_to_string(list_sort(list(DISTINCT g)), ',')",
    "string_agg(g, ',' ORDER BY k)",
    "arg_min(g, d)",
]


@pytest.mark.parametrize("agg", AGGREGATES)
def test_aggregate_gives_duckdb_values_on_spark(spark, agg: str) -> None:
    sql = f"SELECT coalesce(g, '?') AS grp, {agg} AS v FROM t GROUP BY grp ORDER BY grp"
    assert _norm(_spark(spark, sql)) == _norm(_duck(sql))


def test_structure_translates_ctes_windows_qualify_and_params(spark) -> None:
    sql = """
    WITH x AS (SELECT g, k, n, row_number() OVER (PARTITION BY g ORDER BY k DESC) AS r FROM t),
         y AS (SELECT g, sum(n) AS total FROM x WHERE r <= 1 GROUP BY g)
    SELECT y.g, y.total, x.k
    FROM y JOIN x ON x.g = y.g
    LEFT JOIN t ON t.k = x.k AND t.n > $min
    WHERE y.total >= $min AND regexp_matches(coalesce(y.g, ''), $pattern)
    QUALIFY row_number() OVER (PARTITION BY y.g ORDER BY x.k) = 1
    ORDER BY y.g
    """
    params = {"min": 0, "pattern": "甲|乙|\\p{Han}"}
    assert _norm(_spark(spark, sql, params)) == _norm(_duck(sql, params))


@pytest.mark.parametrize(
    "sql, words",
    [
        ("SELECT string_agg(s, '、') FROM t", "without ORDER BY"),
        ("SELECT string_agg(s, '、' ORDER BY s DESC) FROM t", "descending"),
        ("SELECT list(s ORDER BY s) FROM t", "COLLECT_LIST drops NULLs"),
        ("SELECT regexp_replace(s, 'a', 'b') FROM t", "only the first match"),
        ("SELECT regexp_replace(s, 'a', 'b', 'x') FROM t", "option 'x'"),
        ("SELECT regexp_matches(s, s) FROM t", "not a literal"),
        ("SELECT to_months(3) FROM t", "to_months()"),
        ("SELECT bar(k, 0, 10) FROM t", 'function "bar"'),
        (
            "SELECT k, dt - d FROM (SELECT k, d, strptime('2024-01-01', '%Y-%m-%d') AS dt FROM t)",
            "cannot tell whether",
        ),
        ("SELECT * FROM t PIVOT (sum(n) FOR g IN ('甲'))", "no tested Spark translation"),
    ],
)
def test_unfaithful_constructs_are_refused_with_the_reason(sql: str, words: str) -> None:
    out = to_spark(sql, "models/m.sql", OURS, TYPES, DATE_FNS)
    assert out.sql == ""
    assert any(words in str(p) for p in out.problems), [str(p) for p in out.problems]
    assert all(str(p).startswith("models/m.sql") for p in out.problems)


def test_refusals_name_the_line() -> None:
    sql = "SELECT\n  k,\n  string_agg(s, '、')\nFROM t\nGROUP BY k"
    (problem,) = to_spark(sql, "models/m.sql", OURS, TYPES).problems
    assert str(problem).startswith("models/m.sql:3:")


def test_java_regex_spells_scripts_and_groups_the_java_way() -> None:
    assert java_regex(r"\p{Han}+") == r"\p{IsHan}+"
    assert java_regex(r"\P{Han}") == r"\P{IsHan}"
    assert java_regex(r"\p{IsHan}") == r"\p{IsHan}"
    assert java_regex("(?P<y>[0-9]{4})") == "(?<y>[0-9]{4})"
    assert java_regex("[[:digit:]]") == r"[\d]"


def test_every_documented_function_runs_on_spark(spark) -> None:
    assert {f[0] for f in FUNCTIONS} | {"add_workdays"} == {f.name for f in sql_functions()}
    covered = {e.split("(")[0] for e in ROW_EXPRESSIONS}
    assert {f[0] for f in FUNCTIONS} - covered == set()
