"""Traditional → simplified folding and pinyin readings (collide.standards.hanzi), against the
projects their tables come from (OpenCC, pypinyin) and in model SQL.

Intended differences from OpenCC's own `t2s` conversion: character by character, never by
phrase (乾隆 folds to 干隆: a name is not a phrase), and Taiwan-only variants (`tw2s`) are not
folded. From pypinyin: readings are toneless (a typist by ear does not type tones), and every
reading of a character counts, not the one its context would choose.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

import duckdb
import opencc
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import Style, pinyin
from rapidfuzz.distance import Levenshtein

from collide.engine.duckdb import register_functions
from collide.ingest import semantic
from collide.standards import hanzi

HERE = Path(hanzi.__file__).parent
T2S, HK2S = opencc.OpenCC("t2s"), opencc.OpenCC("hk2s")
FOLDS = hanzi.fold_table()
TRADITIONAL = sorted(c for c in FOLDS if "\u4e00" <= c <= "\u9fff")
COMMON = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
POLYPHONIC = list("曾重长乐行朝单解查华石区仇朴盖覃尉缪翟员种厦藏和调还")


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    register_functions(c)
    return c


@functools.cache
def _shared() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    register_functions(c)
    return c


def scalar(con: duckdb.DuckDBPyConnection, expr: str) -> object:
    return con.execute(f"SELECT {expr}").fetchone()[0]


def test_shipped_tables_are_what_opencc_and_pypinyin_give() -> None:
    fold_text, pinyin_text = hanzi.build_tables()
    assert (HERE / "hanzi_fold.txt").read_text(encoding="utf-8") == fold_text
    assert (HERE / "hanzi_pinyin.txt").read_text(encoding="utf-8") == pinyin_text
    assert len(FOLDS) > 5000


def _opencc_by_character(text: str) -> str:
    out = []
    for c in text:
        for conv in (T2S, HK2S):
            d = conv.convert(c)
            if d != c:
                break
        # a chain (薴 → 苧 → 苎) ends where OpenCC leaves the character alone
        while len(d) == 1 and T2S.convert(d) not in (d, c) and len(T2S.convert(d)) == 1:
            d = T2S.convert(d)
        out.append(d if len(d) == 1 else c)
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TRADITIONAL + COMMON + list("·a 1（")), max_size=12))
def test_fold_is_opencc_character_by_character(chars: list[str]) -> None:
    text = "".join(chars)
    assert hanzi.fold(text) == _opencc_by_character(text)
    assert hanzi.fold(hanzi.fold(text)) == hanzi.fold(text)
    # the vectorised polars fold is the same as the Python one
    assert semantic.fold_hanzi(pl.Series([text])).to_list() == [hanzi.fold(text)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(st.sampled_from(TRADITIONAL + COMMON + list("·a 1（")), max_size=8)
                | st.none(), max_size=30))  # fmt: skip
def test_both_folds_are_one_mapping(texts: list[str | None]) -> None:
    # ingest folds with polars' replace_many over the table, a SQL function's chunk with
    # Python's str.translate (semantic._fold_polars / _fold_python)
    s = pl.Series("v", texts, pl.Utf8)
    by_polars = s.to_frame().select(semantic._fold_polars(pl.col("v"))).to_series()
    by_python = s.to_frame().select(semantic._fold_python(pl.col("v"))).to_series()
    assert by_polars.to_list() == by_python.to_list()
    assert by_polars.to_list() == [None if t is None else hanzi.fold(t) for t in texts]
    for key in (semantic.org_key, semantic.address_key):
        by_expr = s.to_frame().select(key(pl.col("v"))).to_series().to_list()
        assert key(s).to_list() == by_expr


def test_every_folded_character_is_one_han_character() -> None:
    # what makes the two folds one mapping: replace_many and str.translate agree when every
    # pattern is one character and no replacement can start another match
    table = hanzi.fold_table()
    chars = pl.Series([*table, *table.values()])
    assert chars.str.contains(r"^\p{Han}$").all()
    by_polars = pl.Series(list(table)).str.replace_many(list(table), list(table.values()))
    assert by_polars.to_list() == list(table.values())


def test_fold_examples() -> None:
    assert hanzi.fold("陳偉") == "陈伟"
    assert hanzi.fold("張三") == "张三"
    assert hanzi.fold("北京華信科技有限公司") == "北京华信科技有限公司"
    assert hanzi.fold("衞") == "卫"  # a Hong Kong variant
    assert hanzi.fold("什么") == "什么"  # tw2s would write 幺
    assert hanzi.fold("薴") == "苎"  # a chain, resolved


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(COMMON + TRADITIONAL + POLYPHONIC))
def test_readings_are_pypinyins_without_tones(c: str) -> None:
    """The commonest reading, and the others some word of pypinyin's phrases uses."""

    def pypinyin_readings(ch: str) -> list[str]:
        got = pinyin(ch, style=Style.NORMAL, heteronym=True)[0]
        if got == [ch]:  # no reading
            return []
        got = [r.replace("ü", "v") for r in got]
        used = _ATTESTED.get(ch, set())
        return [got[0], *(r for r in got[1:] if r in used)]

    expected = pypinyin_readings(hanzi.fold(c)) or pypinyin_readings(c)
    assert set(hanzi.readings(c)) == set(expected)
    if expected:  # the commonest reading first, as pypinyin gives it without context
        assert hanzi.readings(c)[0] == expected[0]


def _attested() -> dict[str, set[str]]:
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.phrases_dict import phrases_dict

    out: dict[str, set[str]] = {}
    for word, rs in phrases_dict.items():
        if len(word) == len(rs):
            for ch, r in zip(word, rs):
                out.setdefault(ch, set()).add(to_normal(r[0]).replace("ü", "v"))
    return out


_ATTESTED = _attested()


def test_archaic_readings_are_not_homophones() -> None:
    assert hanzi.readings("王") == ("wang",)  # Unihan also lists yu
    assert hanzi.readings("曾") == ("ceng", "zeng")
    assert set(hanzi.readings("单")) == {"dan", "shan", "chan"}


def _brute_force(a: str, b: str) -> float:
    """Best Levenshtein similarity over every way of reading both names, syllables compared as
    list items (an independent implementation of name_pinyin_sim over the same readings)."""

    def ways(name: str) -> list[list[str]]:
        per = [list(hanzi.readings(c)) or [c] for c in name]
        return [list(w) for w in itertools.product(*per)]

    return max(Levenshtein.normalized_similarity(x, y) for x in ways(a) for y in ways(b))


NAME_CHARS = POLYPHONIC + list("王伟玮李小晓明铭陈陳偉张張三芳方刚钢")


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(st.sampled_from(NAME_CHARS), min_size=1, max_size=4),
            st.text(st.sampled_from(NAME_CHARS), min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_name_pinyin_sim_is_the_best_reading_by_brute_force(pairs: list[tuple[str, str]]) -> None:
    c = _shared()
    c.register("p", pl.DataFrame({"a": [p[0] for p in pairs], "b": [p[1] for p in pairs]}))
    got = [r[0] for r in c.execute("SELECT name_pinyin_sim(a, b) FROM p").fetchall()]
    assert got == pytest.approx([_brute_force(a, b) for a, b in pairs])


def test_many_readings_fall_back_to_the_exact_form() -> None:
    # 曾重长乐行单 has 2·2·2·3·3·3 = 216 readings, more than pinyin_keys lists
    a, b = "曾重长乐行单", "增崇常月杭善"
    assert hanzi.pinyin_keys(a) is None
    c = _shared()
    assert scalar(c, f"name_pinyin_sim('{a}', '{b}')") == pytest.approx(_brute_force(a, b))
    assert scalar(c, f"name_pinyin_sim('{a}', '{b}')") == 1.0


def test_the_issues_examples_in_sql(con: duckdb.DuckDBPyConnection) -> None:
    assert scalar(con, "name_sim('陈伟', '陳偉')") == 1.0
    assert scalar(con, "name_sim('张三', '張三')") == 1.0
    assert scalar(con, "name_jw('陈伟', '陳偉')") == 1.0
    assert scalar(con, "org_sim('北京華信科技有限公司', '北京华信科技有限公司')") == 1.0
    assert scalar(con, "org_key('北京華信科技有限責任公司')") == "北京华信科技有限公司"
    assert scalar(con, "addr_key('中山路1號樓')") == "中山路1栋"
    assert scalar(con, "name_norm(' 陳 偉')") == "陈伟"
    assert scalar(con, "name_pinyin_sim('王伟', '王玮')") == 1.0
    assert scalar(con, "name_pinyin_sim('李小明', '李晓明')") == 1.0
    assert scalar(con, "name_pinyin_sim('陳偉', '陈玮')") == 1.0
    assert scalar(con, "name_pinyin_sim('曾伟', '增伟')") == 1.0  # 曾: ceng or zeng
    assert scalar(con, "name_pinyin_sim('王伟', '李伟')") == 0.5
    assert scalar(con, "name_pinyin_sim('王伟', '王 伟')") == 1.0
    assert scalar(con, "name_pinyin_sim(NULL, '王伟')") is None
    # homophones are not the same characters: name_sim still tells them apart
    assert scalar(con, "name_sim('王伟', '王玮')") == 0.5


def test_a_stored_name_keeps_the_agencys_writing() -> None:
    # folding is for matching keys: the person_name value a prosecutor sees is not folded
    assert semantic.person_name_norm(pl.Series(["陳偉"])).to_list() == ["陳偉"]
    assert semantic.person_name_key(pl.Series(["陳偉"])).to_list() == ["陈伟"]


def test_the_readme_function_table_examples_hold(con: duckdb.DuckDBPyConnection) -> None:
    """Every `f(...)` → `value` example in the README's function table, evaluated (the geo_*
    rows show geometries and are checked in test_geo.py)."""
    import re

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    checked = 0
    for line in readme.splitlines():
        m = re.match(r"\| `(\w+)\(", line)
        if not m or m.group(1).startswith("geo_"):
            continue
        example = line.rstrip(" |").rsplit(" | ", 1)[-1]
        for expr, want in re.findall(r"`([a-z_]+\(.*?\))` → `([^`]*)`", example):
            got = con.execute(f"SELECT {expr}").fetchone()[0]
            if isinstance(got, float):
                assert got == pytest.approx(float(want), abs=0.0051), expr
            elif isinstance(got, bool):
                assert str(got).lower() == want, expr
            else:
                assert str(got) == want.strip("'"), expr
            checked += 1
    assert checked >= 20
