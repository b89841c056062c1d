"""SQL functions on a sandboxed DuckDB connection, as model SQL sees them."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest
from rapidfuzz.distance import JaroWinkler

from collide.engine.duckdb import register_functions
from collide.engine.functions import FUNCTIONS
from collide.ingest import semantic

VALID_ID = "11010519491231002X"


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    """A connection locked like the model sandbox, with the functions registered first."""
    c = duckdb.connect()
    register_functions(c)
    c.execute("SET enable_external_access=false")
    c.execute("SET lock_configuration=true")
    yield c
    c.close()


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(f"SELECT {sql}").fetchone()[0]


def test_every_documented_function_is_registered(con: duckdb.DuckDBPyConnection) -> None:
    names = {n for n, *_ in FUNCTIONS}
    registered = {
        r[0]
        for r in con.sql(
            "SELECT function_name FROM duckdb_functions() "
            "WHERE function_type IN ('scalar', 'macro')"
        ).fetchall()
    }
    assert names <= registered
    assert len(names) == len(FUNCTIONS) == 24  # 17 + the 7 geo_* of engine/geo.py


def test_sandbox_is_locked_and_functions_still_work(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.Error):
        con.execute("SET enable_external_access=true")
    with pytest.raises(duckdb.Error):
        con.sql("SELECT * FROM read_csv('/etc/passwd')").fetchall()
    assert scalar(con, "id_valid('11010519491231002x')") is True


def test_name_sim(con: duckdb.DuckDBPyConnection) -> None:
    assert scalar(con, "name_sim('王伟', '王玮')") == pytest.approx(0.5)
    assert scalar(con, "name_sim('王伟', '王伟 ')") == 1.0
    assert scalar(con, "name_sim('王 伟', '王伟')") == 1.0
    assert scalar(con, "name_sim('阿卜杜•买买提', '阿卜杜·买买提')") == 1.0
    assert scalar(con, "name_sim('张三', '李四')") == 0.0


def test_name_jw_is_character_level(con: duckdb.DuckDBPyConnection) -> None:
    ours = scalar(con, "name_jw('李小明', '李晓明')")
    assert ours == pytest.approx(JaroWinkler.normalized_similarity("李小明", "李晓明"))
    # a byte-level Jaro-Winkler (3 UTF-8 bytes per character) would score this pair higher
    as_bytes = JaroWinkler.normalized_similarity(list("李小明".encode()), list("李晓明".encode()))
    assert ours == pytest.approx(0.8)
    assert as_bytes != pytest.approx(ours)


def test_name_jw_compared_with_duckdb_builtin(con: duckdb.DuckDBPyConnection) -> None:
    # DuckDB 2.x's jaro_winkler_similarity counts characters too, so on clean names they agree;
    # ours also normalises first, which the builtin cannot (spaces, full-width, middle dots).
    assert scalar(con, "name_jw('李小明', '李晓明')") == pytest.approx(
        scalar(con, "jaro_winkler_similarity('李小明', '李晓明')")
    )
    assert scalar(con, "name_jw('王 伟', '王伟')") == 1.0
    assert scalar(con, "jaro_winkler_similarity('王 伟', '王伟')") < 1.0
    assert scalar(con, "name_jw('Ｗａｎｇ', 'Wang')") == 1.0
    assert scalar(con, "jaro_winkler_similarity('Ｗａｎｇ', 'Wang')") == 0.0


def test_org_sim_and_addr_sim(con: duckdb.DuckDBPyConnection) -> None:
    same = "org_sim('北京某某餐饮（朝阳）有限责任公司', ' 北京某某餐饮 (朝阳) 有限公司 ')"
    assert scalar(con, same) == 1.0
    branch = scalar(con, "org_sim('北京某某餐饮有限公司', '北京某某餐饮有限公司朝阳分公司')")
    assert 0.5 < branch < 1.0
    assert scalar(con, "addr_sim('朝阳区某路3号楼', '北京市朝阳区某路3栋2单元301')") == 1.0
    assert scalar(con, "addr_sim('朝阳区某路3号楼', '海淀区另一路8号')") < 0.5


def test_normalisers(con: duckdb.DuckDBPyConnection) -> None:
    row = con.sql(
        """SELECT name_norm(' 王 伟'), org_key('北京某某餐饮(朝阳)有限公司'), addr_key('某路3#楼'),
                  id_norm('110105491231002'), id_norm('1.10101E+17'), id_valid('110105194912310021'),
                  id_birth('１１０１０５１９４９１２３１００２ｘ'), id_gender('11010519491231002X'),
                  uscc_norm('91350100m000100y43'), uscc_valid('91350100M000100Y44'),
                  mask_id('11010519491231002X')"""
    ).fetchall()[0]
    assert row == (
        "王伟",
        "北京某某餐饮朝阳有限公司",
        "某路3栋",
        VALID_ID,
        None,
        False,
        dt.date(1949, 12, 31),
        "女",
        "91350100M000100Y43",
        False,
        "110105********002X",
    )


@pytest.mark.parametrize(("name", "signature", "returns", "description"), FUNCTIONS)
def test_null_in_null_out(
    con: duckdb.DuckDBPyConnection, name: str, signature: str, returns: str, description: str
) -> None:
    types = [a.split()[-1] for a in signature.split("(", 1)[1].rstrip(")").split(",")]
    sample = {"VARCHAR": "'王伟'", "DATE": "DATE '2024-06-03'", "INTEGER": "20", "DOUBLE": "200.0"}
    args = ", ".join(f"NULL::{t}" for t in types)
    assert scalar(con, f"{name}({args})") is None
    if len(types) == 2:
        assert scalar(con, f"{name}({sample[types[0]]}, NULL::{types[1]})") is None
        assert scalar(con, f"{name}(NULL::{types[0]}, {sample[types[1]]})") is None
    assert returns in {"DOUBLE", "VARCHAR", "BOOLEAN", "DATE", "BIGINT[]"}  # geo_cells: a list
    assert description


def test_functions_over_a_table_match_semantic(con: duckdb.DuckDBPyConnection) -> None:
    """Thousands of rows, NULLs among them: the vectorised UDF equals the polars normaliser."""
    ids = [VALID_ID, "110105491231002", "1.10101E+17", None, "110105194912310021", "", "x"] * 1000
    con.register("people", pl.DataFrame({"id": ids}).to_arrow())
    got = con.sql("SELECT id_norm(id), id_valid(id), mask_id(id) FROM people").fetchall()
    s = pl.Series(ids)
    expected_norm = semantic.id_norm(s).to_list()
    expected_valid = semantic.id_valid(s).to_list()
    assert [g[0] for g in got] == expected_norm
    assert [g[1] for g in got] == expected_valid
    assert got[0][2] == "110105********002X" and got[3][2] is None


def test_pairwise_over_a_table(con: duckdb.DuckDBPyConnection) -> None:
    a = ["王伟", "王伟", None, "张三", "欧阳 修"] * 1000
    b = ["王玮", "王伟 ", "王伟", None, "欧阳修"] * 1000
    con.register("pairs", pl.DataFrame({"a": a, "b": b}).to_arrow())
    got = [r[0] for r in con.sql("SELECT name_sim(a, b) FROM pairs").fetchall()]
    assert got[:5] == [0.5, 1.0, None, None, 1.0]
    assert got == got[:5] * 1000


def test_han_only_names_are_left_as_they_are_by_the_normaliser() -> None:
    """DuckDB's name_sim scores names of Han characters that do not fold natively, without the
    normaliser: that is only right while `person_name_key` leaves every such name unchanged
    (and changes every name with a character that folds)."""
    from collide.engine.functions import plain_han_regex
    from collide.standards import hanzi

    folds = hanzi.fold_table()
    han = [chr(c) for c in range(0x4E00, 0x9FFF + 1)] + [chr(c) for c in range(0x3400, 0x4DBF + 1)]
    plain = [c for c in han if c not in folds]
    names = ["".join(plain[i : i + 3]) for i in range(0, len(plain), 3)]
    assert semantic.person_name_key(pl.Series(names, dtype=pl.Utf8)).to_list() == names
    traditional = ["王" + c for c in folds if c in han]
    assert len(traditional) > 3500
    got = semantic.person_name_key(pl.Series(traditional, dtype=pl.Utf8)).to_list()
    assert all(g != t for g, t in zip(got, traditional))
    # the macro's test in DuckDB: a full match on the plain names, none on the folding ones
    con = duckdb.connect()
    con.register("t", pl.DataFrame({"n": names + traditional}).to_arrow())
    matched = con.execute("SELECT regexp_full_match(n, $p) FROM t", {"p": plain_han_regex()})
    assert [r[0] for r in matched.fetchall()] == [True] * len(names) + [False] * len(traditional)


def test_name_sim_native_path_equals_the_udf(con: duckdb.DuckDBPyConnection) -> None:
    """name_sim scores Han-only pairs with DuckDB's levenshtein and others with the rapidfuzz
    UDF: on Han-only pairs both give exactly the same number."""
    import random

    import pyarrow as pa

    rng = random.Random(3)
    # traditional characters among them: those pairs go to the UDF, which folds them
    han = [chr(c) for c in range(0x4E00, 0x4E00 + 400)] + ["𠀀", "㐀", "鿿"] + list("陳偉張華")
    names = ["".join(rng.choice(han) for _ in range(rng.randint(1, 5))) for _ in range(20_000)]
    pairs = pa.table(
        {
            "a": names,
            "b": [
                n[:-1] + rng.choice(han) if rng.random() < 0.5 else rng.choice(names) for n in names
            ],  # fmt: skip
        }
    )
    con.register("pairs", pairs)
    native, udf = zip(
        *con.execute("SELECT name_sim(a, b), __name_sim_udf(a, b) FROM pairs").fetchall()
    )
    assert list(native) == list(udf)
    # mixed pairs take the UDF: spaces, middle dots, Latin letters, NULL
    assert scalar(con, "name_sim('王 伟', '王伟')") == 1.0
    assert scalar(con, "name_sim('阿卜杜•买买提', '阿卜杜·买买提')") == 1.0
    assert scalar(con, "name_sim('Wang Wei', 'wang wei')") == 0.75
    assert scalar(con, "name_sim(NULL, '王伟')") is None


def test_every_function_is_in_the_readme_table() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    missing = [n for n, *_ in FUNCTIONS if f"| `{n}(" not in readme]
    assert missing == []


def test_id_area_known_in_sql(con: duckdb.DuckDBPyConnection) -> None:
    assert scalar(con, "id_valid('277959192311207785')") is True
    assert scalar(con, "id_area_known('277959192311207785')") is False
    assert scalar(con, "id_area_known('11010519491231002X')") is True
    assert scalar(con, "id_area_known('abc')") is None
    assert scalar(con, "uscc_norm('64372198-RUPANQLHX-U')") == "64372198RUPANQLHXU"
