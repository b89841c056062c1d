"""Judgment and decision texts as a source: extractors, provenance, party rows, rejects, formats.

Chinese numerals are checked against a writer in this file (a second implementation, written
the other way round: number → text), with generated dates and amounts.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collide.config.yamlio import load_yaml, pydantic_problems
from collide.ingest.documents import (
    DocumentReport,
    DocumentSourceSpec,
    cn_amount_text,
    cn_date_text,
    paragraphs_of,
    read_documents,
)

ROOT = Path(__file__).resolve().parents[1]

JUDGMENT = """浙江省杭州市上城区人民法院
民 事 判 决 书
（2024）浙0102民初1234号
原告：张三，男，1980年1月2日出生，汉族，住浙江省杭州市上城区清波街道河坊街1号，公民身份号码11010519491231002X。
委托诉讼代理人：李四，浙江某某律师事务所律师。
被告：王五，男，1985年3月4日出生，汉族，住浙江省杭州市西湖区某某街2号，公民身份号码110***********1234。
被告：杭州某某贸易有限公司，住所地浙江省杭州市拱墅区某某路3号，统一社会信用代码91330100MA2XXXXXXX。
法定代表人：赵六，该公司总经理。
原告张三与被告王五、杭州某某贸易有限公司民间借贷纠纷一案，本院于2024年1月5日立案后，依法适用简易程序，公开开庭进行了审理。被告王五经本院公告送达起诉状副本及开庭传票，无正当理由拒不到庭参加诉讼，本院依法缺席审理。本案现已审理终结。
原告张三向本院提出诉讼请求：1.判令被告归还借款本金100000元及按年利率15%计算的利息；2.本案诉讼费用由被告承担。
本院认为，合法的借贷关系受法律保护。依照《中华人民共和国民法典》第六百七十五条之规定，判决如下：
一、被告王五于本判决生效之日起十日内归还原告张三借款本金拾万元整及利息；
案件受理费2300元，减半收取计1150元，由被告王五负担。
如不服本判决，可以在判决书送达之日起十五日内，向本院递交上诉状。
审判员　钱七
二〇二四年五月六日
书记员　孙八
"""

ALL_FIELDS = {
    "title": {"extract": "title"},
    "doc_type": {"extract": "doc_type"},
    "court": {"extract": "court"},
    "case_no": {"extract": "case_number", "required": True},
    "cause": {"extract": "cause"},
    "plaintiff": {"extract": "plaintiff"},
    "defendants": {"extract": "defendants"},
    "agents": {"extract": "agents"},
    "parties": {"extract": "party_count"},
    "service": {"extract": "service"},
    "attendance": {"extract": "attendance"},
    "in_absence": {"extract": "default_judgment"},
    "opinion": {"extract": "court_opinion"},
    "ruling": {"extract": "ruling"},
    "judged_on": {"extract": "judgment_date"},
    "principal": {"extract": "principal"},
    "fee": {"extract": "court_fee"},
    "judges": {"extract": "judges"},
    "clerk": {"extract": "clerk"},
    "rate": {"pattern": r"年利率(?P<value>[0-9.]+)%", "type": "decimal"},
}


def spec_of(**kw) -> DocumentSourceSpec:
    kw.setdefault("path", "docs/*")
    kw.setdefault("fields", ALL_FIELDS)
    return DocumentSourceSpec.model_validate(kw)


def read(spec: DocumentSourceSpec, root: Path) -> tuple[list[dict], DocumentReport]:
    report = DocumentReport()
    batches = list(read_documents(spec, root, report))
    if not batches:
        return [], report
    return pl.from_arrow(pa.Table.from_batches(batches)).to_dicts(), report


def write(root: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = root / "docs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


# --------------------------------------------------------------------------- Chinese numerals

DIG = "〇一二三四五六七八九"


def small(n: int) -> str:
    """1..31 the way a judgment writes it: 五, 十, 十二, 二十, 三十一."""
    if n < 10:
        return DIG[n]
    t, o = divmod(n, 10)
    return ("" if t == 1 else DIG[t]) + "十" + (DIG[o] if o else "")


def chinese_int(n: int, upper: bool = False) -> str:
    """0 < n < 10**8 in Chinese numerals (一万零五百, 十万, 一百二十三), 大写 when `upper`."""

    def four(x: int, lead: bool) -> str:
        out, zero = "", False
        for i, u in zip(range(3, -1, -1), ["千", "百", "十", ""]):
            d = x // 10**i % 10
            if d == 0:
                zero = bool(out) or lead
                continue
            if zero:
                out += "零"
                zero = False
            out += ("" if (d == 1 and u == "十" and not out and not lead) else DIG[d]) + u
        return out

    hi, lo = divmod(n, 10_000)
    text = (four(hi, False) + "万" if hi else "") + (four(lo, bool(hi)) if lo else "")
    if upper:
        text = text.translate(str.maketrans("一二三四五六七八九十百千", "壹贰叁肆伍陆柒捌玖拾佰仟"))
    return text


@settings(max_examples=300, deadline=None)
@given(
    st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)),
    st.sampled_from(["日", "号"]),
    st.booleans(),
)
def test_chinese_numeral_dates_round_trip(d: dt.date, day_word: str, circle: bool) -> None:
    zero = "○" if circle else "〇"
    year = "".join(DIG[int(c)] for c in str(d.year)).replace("〇", zero)
    assert cn_date_text(f"{year}年{small(d.month)}月{small(d.day)}{day_word}") == d.isoformat()
    assert cn_date_text(f"{d.year}年{d.month}月{d.day}日") == d.isoformat()


def test_impossible_dates_are_not_invented() -> None:
    assert cn_date_text("二〇二三年二月二十九日") is None  # not a leap year
    assert cn_date_text("二〇二四年十三月一日") is None
    assert cn_date_text("二〇二四年二月二十九日") == "2024-02-29"


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 99_999_999))
def test_chinese_numeral_amounts(n: int) -> None:
    want = f"{n}.00"
    assert cn_amount_text(f"{chinese_int(n)}元") == want
    assert cn_amount_text(f"{chinese_int(n, upper=True)}元整") == want
    assert cn_amount_text(f"人民币{n:,}.00元") == want
    assert cn_amount_text(f"{n}元") == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("十万元", "100000.00"),
        ("拾万元", "100000.00"),
        ("壹拾万元整", "100000.00"),
        ("1.5万元", "15000.00"),
        ("100,000.00元", "100000.00"),
        ("本金100000元"[2:], "100000.00"),
        ("人民币伍仟元整", "5000.00"),
        ("两万元", "20000.00"),
        ("十二万三千四百五十六元七角八分", "123456.78"),
        ("壹仟贰佰元伍角", "1200.50"),
        ("￥3,500元", "3500.00"),
        ("10万5000元", "105000.00"),
        ("2亿元", "200000000.00"),
    ],
)
def test_amount_spellings(text: str, want: str) -> None:
    assert cn_amount_text(text) == want


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 9_999_999), st.integers(0, 4))
def test_amounts_in_wan_with_decimals(units: int, places: int) -> None:
    """1.5万元, 12.3456万元: the count of 万 with up to four decimals is exact to the yuan."""
    wan = Decimal(units) / (10**places)
    assert cn_amount_text(f"{wan}万元") == f"{(wan * 10_000).quantize(Decimal('0.01'))}"


def test_amount_text_that_is_no_amount() -> None:
    assert cn_amount_text("若干元") is None
    assert cn_amount_text("利息") is None


# --------------------------------------------------------------------------- extractors


def test_every_standard_field_of_a_judgment(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", JUDGMENT)
    (row,), report = read(spec_of(), tmp_path)
    assert row["title"] == "民事判决书" and row["title__text"] == "民 事 判 决 书"
    assert row["doc_type"] == "民事判决书"
    assert row["court"] == "浙江省杭州市上城区人民法院"
    assert row["case_no"] == "（2024）浙0102民初1234号"
    assert row["cause"] == "民间借贷纠纷"
    assert row["cause__text"] == "原告张三与被告王五、杭州某某贸易有限公司民间借贷纠纷一案"
    assert row["plaintiff"] == "张三"
    assert row["defendants"] == "王五、杭州某某贸易有限公司"
    assert row["agents"] == "李四"
    assert row["parties"] == 3
    assert (row["service"], row["attendance"], row["in_absence"]) == ("公告送达", "缺席", True)
    assert row["opinion"].startswith("本院认为，合法的借贷关系") and row["opinion"].endswith(
        "判决如下："
    )
    assert row["ruling"].startswith("一、被告王五") and row["ruling"].endswith("由被告王五负担。")
    assert row["judged_on"] == dt.date(2024, 5, 6)
    assert row["principal"] == Decimal("100000.00")  # the first one, in the ruling: 拾万元整
    assert row["principal__text"] == "借款本金拾万元整"
    assert row["fee"] == Decimal("2300.00")
    assert (row["judges"], row["clerk"]) == ("钱七", "孙八")
    assert row["rate"] == 15.0 and row["rate__text"] == "年利率15%"
    assert row["_issues"] is None
    assert (report.documents_read, report.documents_loaded, report.documents_rejected) == (1, 1, 0)


@pytest.mark.parametrize(
    ("line", "want"),
    [
        ("（2024）浙0102民初1234号", "（2024）浙0102民初1234号"),
        ("(2024)浙0102民初1234号", "（2024）浙0102民初1234号"),
        ("（２０２４）浙０１０２民初１２３４号", "（2024）浙0102民初1234号"),
        ("( 2023 )浙01民终 88 号", "（2023）浙01民终88号"),
        ("杭上市监处罚〔2024〕123号", "杭上市监处罚〔2024〕123号"),
        ("案号：（2022）京0105执恢12号", "（2022）京0105执恢12号"),
        ("民事判决书（2024）浙0102民初7号", "（2024）浙0102民初7号"),
        ("行政处罚决定书临市监处罚〔2024〕57号", "临市监处罚〔2024〕57号"),
        ("文号：临市监处罚[2024]57号", "临市监处罚〔2024〕57号"),
    ],
)
def test_case_number_spellings(tmp_path: Path, line: str, want: str) -> None:
    write(tmp_path, "a.txt", f"某某人民法院\n民事判决书\n{line}\n原告：甲某，男。\n")
    (row,), _ = read(spec_of(fields={"case_no": {"extract": "case_number"}}), tmp_path)
    assert row["case_no"] == want
    assert row["case_no__paragraph"] == 3


@pytest.mark.parametrize(
    ("sentence", "cause"),
    [
        ("原告张三与被告李四民间借贷纠纷一案", "民间借贷纠纷"),
        ("原告张三诉被告李四、王五买卖合同纠纷一案", "买卖合同纠纷"),
        (
            "原告滨江市某某银行股份有限公司临川支行与被告李四金融借款合同纠纷一案",
            "金融借款合同纠纷",
        ),
        ("原告张三与被告李四劳动争议一案", "劳动争议"),
        ("原告张三与被告李四及第三人赵六房屋租赁合同纠纷一案", "房屋租赁合同纠纷"),
    ],
)
def test_cause_after_the_party_names(tmp_path: Path, sentence: str, cause: str) -> None:
    text = (
        "某某人民法院\n民事判决书\n（2024）浙0102民初1号\n"
        "原告：张三，男。\n原告：滨江市某某银行股份有限公司临川支行。\n被告：李四，女。\n被告：王五，男。\n"
        f"第三人：赵六，男。\n{sentence}，本院依法审理。\n"
    )
    write(tmp_path, "a.txt", text)
    (row,), _ = read(spec_of(fields={"cause": {"extract": "cause"}}), tmp_path)
    assert row["cause"] == cause


@pytest.mark.parametrize(
    ("facts", "service", "attendance"),
    [
        (
            "被告经本院公告送达开庭传票，无正当理由拒不到庭参加诉讼，本院依法缺席审理。",
            "公告送达",
            "缺席",
        ),
        ("本院向被告邮寄送达起诉状副本。被告未到庭参加诉讼。", "邮寄送达", "缺席"),
        ("本院向被告直接送达了起诉状副本。原告及被告均到庭参加诉讼。", "直接送达", "到庭"),
        ("原告的委托诉讼代理人、被告到庭参加了诉讼。", None, "到庭"),
        ("本院依法审理。", None, None),
    ],
)
def test_service_and_attendance(tmp_path: Path, facts: str, service, attendance) -> None:
    text = f"某某人民法院\n民事判决书\n（2024）浙0102民初1号\n原告：张三。\n被告：李四。\n原告张三与被告李四民间借贷纠纷一案，{facts}\n本院认为，应予支持。\n"
    write(tmp_path, "a.txt", text)
    fields = {"service": {"extract": "service"}, "attendance": {"extract": "attendance"}}
    (row,), _ = read(spec_of(fields=fields), tmp_path)
    assert (row["service"], row["attendance"]) == (service, attendance)
    if service:
        assert row["service__text"] == service and row["service__paragraph"] == 6


def test_a_pattern_of_the_clerk_in_one_section_with_a_type(tmp_path: Path) -> None:
    text = JUDGMENT.replace("案件受理费2300元", "案件受理费2300元，保证金人民币伍仟元整")
    write(tmp_path, "a.txt", text)
    fields = {
        "deposit": {
            "pattern": r"保证金(?P<value>.+?元整?)",
            "type": "money",
            "section": "judgment",
        },
        "legal_basis": {"pattern": r"《(.+?)》", "take": "all", "section": "opinion"},
        "mentions_interest": {"pattern": r"利息", "take": "count"},
        "filed_on": {"pattern": r"本院于(.+?日)立案", "type": "date"},
    }
    (row,), _ = read(spec_of(fields=fields), tmp_path)
    assert row["deposit"] == Decimal("5000.00") and row["deposit__text"] == "保证金人民币伍仟元整"
    assert row["deposit__paragraph"] == 13
    assert row["legal_basis"] == "中华人民共和国民法典"
    assert row["mentions_interest"] == 2
    assert row["filed_on"] == dt.date(2024, 1, 5)


def test_a_value_that_fails_its_type_keeps_the_row_and_says_why(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", JUDGMENT.replace("二〇二四年五月六日", "二〇二三年二月二十九日"))
    (row,), _ = read(spec_of(fields={"judged_on": {"extract": "judgment_date"}}), tmp_path)
    assert row["judged_on"] is None
    assert row["judged_on__text"] == "二〇二三年二月二十九日"
    assert row["_issues"] == 'judged_on: unparseable date "二〇二三年二月二十九日"'


# --------------------------------------------------------------------------- provenance


def test_provenance_points_at_the_paragraph_even_when_lines_were_hard_wrapped(
    tmp_path: Path,
) -> None:
    width = 17
    wrapped = "\n".join(
        part
        for para in JUDGMENT.splitlines()
        for part in [para[i : i + width] for i in range(0, len(para), width)]
    )
    write(tmp_path, "wrapped.txt", wrapped)
    write(
        tmp_path, "plain.txt", JUDGMENT.replace("\n", "\r\n\r\n")
    )  # blank lines between paragraphs
    rows, _ = read(spec_of(), tmp_path)
    paras = JUDGMENT.strip().splitlines()
    assert len(rows) == 2
    for row in rows:
        assert row["cause__paragraph"] == 9 and row["service__paragraph"] == 9
        assert row["principal__paragraph"] == 12 and row["judged_on__paragraph"] == 16
        for name in ALL_FIELDS:
            p, text = row[f"{name}__paragraph"], row[f"{name}__text"]
            assert text is not None, name
            assert text.split("\n")[0] in paras[p - 1], name
    assert rows[0]["case_no"] == rows[1]["case_no"]
    assert {r["_source_file"] for r in rows} == {"docs/plain.txt", "docs/wrapped.txt"}
    raw = (tmp_path / "docs/plain.txt").read_bytes()
    import hashlib

    assert [r["_source_sha256"] for r in rows if r["_source_file"] == "docs/plain.txt"] == [
        hashlib.sha256(raw).hexdigest()
    ]


def test_paragraphs_of_a_wrapped_file_are_the_original_paragraphs(tmp_path: Path) -> None:
    wrapped = "\n".join(p[i : i + 20] for p in JUDGMENT.splitlines() for i in range(0, len(p), 20))
    path = write(tmp_path, "a.txt", wrapped)
    assert paragraphs_of(path, path.read_bytes()) == JUDGMENT.strip().splitlines()


# --------------------------------------------------------------------------- party rows


def test_one_row_per_party_with_role_agent_and_ids(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", JUDGMENT)
    fields = {
        "case_no": {"extract": "case_number", "required": True},
        "cause": {"extract": "cause"},
    }
    rows, report = read(spec_of(rows="party", fields=fields), tmp_path)
    got = [
        (r["party_no"], r["party_role"], r["party_name"], r["party_kind"], r["party_agent_of"])
        for r in rows
    ]
    assert got == [
        (1, "原告", "张三", "自然人", None),
        (2, "委托诉讼代理人", "李四", "自然人", "张三"),
        (3, "被告", "王五", "自然人", None),
        (4, "被告", "杭州某某贸易有限公司", "单位", None),
        (5, "法定代表人", "赵六", "自然人", "杭州某某贸易有限公司"),
    ]
    assert [r["_source_paragraph"] for r in rows] == [4, 5, 6, 7, 8]
    assert all(
        r["case_no"] == "（2024）浙0102民初1234号" and r["cause"] == "民间借贷纠纷" for r in rows
    )
    zhang, agent, wang, company, _ = rows
    assert zhang["party_id_number"] == "11010519491231002X"
    assert zhang["party_address"] == "浙江省杭州市上城区清波街道河坊街1号"
    assert zhang["party__text"].startswith("原告：张三，男")
    assert agent["party_affiliation"] == "浙江某某律师事务所律师"
    assert wang["party_id_number"] is None  # redacted in the published copy: kept as an issue
    assert wang["_issues"] == 'party_id_number: invalid characters in ID "110***********1234"'
    assert company["party_credit_code"] == "91330100MA2XXXXXXX"  # kept, and reported
    assert company["_issues"].startswith("party_credit_code: ")
    assert (report.documents_read, report.documents_loaded, report.rows_loaded) == (1, 1, 5)


def test_party_rows_of_some_roles_only(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", JUDGMENT)
    rows, _ = read(
        spec_of(rows="party", roles=["被告"], fields={"case_no": {"extract": "case_number"}}),
        tmp_path,
    )
    assert [r["party_name"] for r in rows] == ["王五", "杭州某某贸易有限公司"]


# --------------------------------------------------------------------------- rejects and accounting


def test_a_document_without_case_number_is_rejected_with_the_reason(tmp_path: Path) -> None:
    write(tmp_path, "good.txt", JUDGMENT)
    write(tmp_path, "no_case_no.txt", JUDGMENT.replace("（2024）浙0102民初1234号\n", ""))
    write(tmp_path, "empty.txt", "\n \n")
    write(tmp_path, "old.doc", "binary")
    write(tmp_path, "scan.docx", "not a zip")
    write(tmp_path, "bad_date.txt", JUDGMENT.replace("二〇二四年五月六日", "二〇二四年二月三十日"))
    fields = {
        "case_no": {"extract": "case_number", "required": True},
        "judged_on": {"extract": "judgment_date", "required": True},
    }
    rows, report = read(spec_of(fields=fields), tmp_path)
    assert [r["_source_file"] for r in rows] == ["docs/good.txt"]
    assert {r.file: r.reason for r in report.rejects} == {
        "docs/no_case_no.txt": "no 案号 found (field case_no)",
        "docs/empty.txt": "empty file (no text)",
        "docs/old.doc": ".doc (old Word format) cannot be read: save it as .docx",
        "docs/scan.docx": "not a readable .docx file (no word/document.xml)",
        "docs/bad_date.txt": 'judged_on: unparseable date "二〇二四年二月三十日"',
    }
    assert report.documents_read == 6 == report.documents_loaded + report.documents_rejected
    assert sorted(f["path"] for f in report.files) == sorted(
        f"docs/{p.name}" for p in (tmp_path / "docs").iterdir()
    )
    assert sum(f["bytes"] for f in report.files) == report.bytes_read
    table = report.rejects_table()
    assert (
        table.column_names == ["_source_file", "_source_sha256", "_reason"] and table.num_rows == 5
    )


def test_no_file_matches_is_the_clerks_mistake(tmp_path: Path) -> None:
    from collide.errors import CollideError

    with pytest.raises(CollideError) as exc:
        list(read_documents(spec_of(path="judgments/*.txt"), tmp_path, origin="connectors/j.yaml"))
    assert str(exc.value) == (
        f'connectors/j.yaml: no file matches "judgments/*.txt" (looked in {tmp_path}). '
        "Check the path (relative to the project folder) or put the documents there."
    )


# --------------------------------------------------------------------------- formats


def test_gbk_docx_html_and_pdf_read_like_utf8(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", JUDGMENT)
    write(tmp_path, "b.txt", JUDGMENT.replace("\n", "\r\n"), encoding="gbk")
    import docx

    d = docx.Document()
    for para in JUDGMENT.strip().splitlines():
        p = d.add_paragraph()
        half = len(para) // 2  # one paragraph in two runs, as Word writes edited text
        p.add_run(para[:half])
        p.add_run(para[half:]).bold = True
    d.save(tmp_path / "docs" / "c.docx")
    body = "".join(f"<p>{p}</p>" for p in JUDGMENT.strip().splitlines())
    write(
        tmp_path,
        "d.html",
        f'<html><head><meta charset="gbk"><title>判决书</title></head><body>{body}</body></html>',
        encoding="gbk",
    )
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(tmp_path / "docs" / "e.pdf"))
    c.setFont("STSong-Light", 10)
    y = 800
    for para in JUDGMENT.strip().splitlines():  # wrapped at 40 characters, as a PDF lays it out
        for i in range(0, len(para), 40):
            c.drawString(30, y, para[i : i + 40])
            y -= 14
    c.drawString(280, 40, "- 1 -")  # a page number is no paragraph
    c.showPage()
    c.save()
    rows, report = read(spec_of(), tmp_path)
    assert report.documents_loaded == 5
    strip = {"_source_file", "_source_sha256"}
    first = {k: v for k, v in rows[0].items() if k not in strip}
    for row in rows[1:]:
        assert {k: v for k, v in row.items() if k not in strip} == first, row["_source_file"]


def test_a_declared_encoding_that_does_not_fit_rejects_the_file(tmp_path: Path) -> None:
    write(tmp_path, "gbk.txt", JUDGMENT, encoding="gbk")
    rows, report = read(spec_of(encoding="utf-8"), tmp_path)
    assert rows == []
    assert [r.reason for r in report.rejects] == [
        "not utf-8 text (byte 0): set `encoding: auto` or save it as UTF-8"
    ]
    rows, _ = read(spec_of(encoding="gb18030"), tmp_path)
    assert rows[0]["case_no"] == "（2024）浙0102民初1234号"


def test_a_pool_of_processes_gives_the_same_rows(tmp_path: Path) -> None:
    for k in range(130):  # more than two chunks of files
        write(tmp_path, f"{k:03d}.txt", JUDGMENT.replace("1234号", f"{k + 1}号"))
    serial, _ = read(spec_of(workers=1), tmp_path)
    pooled, report = read(spec_of(workers=2), tmp_path)
    assert pooled == serial and report.documents_loaded == 130


# --------------------------------------------------------------------------- the spec


def test_spec_mistakes_are_reported_at_their_line(tmp_path: Path) -> None:
    conn = tmp_path / "judgments.yaml"
    conn.write_text(
        "type: documents\n"
        "path: judgments/*\n"
        "rows: parties\n"
        "fields:\n"
        "  case_no: {extract: case_no}\n"
        "  fee: {extract: court_fee, pattern: '费(.+)元'}\n"
        "  rate: {pattern: '年利率([0-9.]+)(%)'}\n"
        "  bad: {pattern: '本金(?P<value>'}\n",
        encoding="utf-8",
    )
    doc = load_yaml(conn, "connectors/judgments.yaml")
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as exc:
        DocumentSourceSpec.model_validate(doc.data)
    problems = [
        str(p)
        for p in pydantic_problems(exc.value, doc, "connectors/judgments.yaml", DocumentSourceSpec)
    ]
    assert (
        problems[0] == "connectors/judgments.yaml:3: rows: Input should be 'document' or 'party'."
    )
    assert problems[1].startswith(
        "connectors/judgments.yaml:5: fields.case_no.extract: Input should be 'title', "
    )
    assert problems[2:] == [
        "connectors/judgments.yaml:6: fields.fee: give exactly one of `extract` (a built-in extractor) or `pattern`.",
        "connectors/judgments.yaml:7: fields.rate: pattern has several groups: name the one to keep (?P<value>…), or make the others non-capturing (?:…).",
        "connectors/judgments.yaml:8: fields.bad: pattern is not a valid regular expression: missing ), unterminated subpattern at position 2.",
    ]


# --------------------------------------------------------------------------- the generator


def readme_connector(tmp_path: Path) -> dict:
    """The connector of the README's "Judgment and decision texts" section, as YAML loads it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Judgment and decision texts", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "civil_judgments.yaml"
    path.write_text(block, encoding="utf-8")
    return load_yaml(path).data


def test_generated_judgments_give_back_the_planted_lenders(tmp_path: Path) -> None:
    """The README's connector on generated judgments, and the sample's rule over its rows, find
    exactly the planted plaintiffs and none of the decoys."""
    out = tmp_path / "sample_data"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "sample_data" / "generate_judgments.py"),
            "--out",
            str(out),
            "-n",
            "400",
        ],
        check=True,
        capture_output=True,
    )
    files = list((out / "judgments").iterdir())
    assert {f.suffix for f in files} == {".txt", ".docx", ".html"}
    connector = readme_connector(tmp_path)
    assert connector["source"]["type"] == "documents"
    spec = DocumentSourceSpec.model_validate(connector["source"])
    report = DocumentReport()
    df = pl.from_arrow(pa.Table.from_batches(list(read_documents(spec, tmp_path, report))))
    assert (
        report.documents_read == len(files) == report.documents_loaded + report.documents_rejected
    )
    assert all(r.reason == "no 案号 found (field case_no)" for r in report.rejects)
    loans = df.filter(pl.col("cause").is_in(["民间借贷纠纷", "金融借款合同纠纷"]))
    assert loans.height > 100
    assert loans["principal"].null_count() == 0 and loans["rate"].null_count() == 0
    assert df["judged_on"].null_count() == 0 and df["party_name"].null_count() == 0
    import duckdb

    con = duckdb.connect()
    con.register("suits", df.to_arrow())
    hits = con.sql(
        """
        WITH lend AS (
          SELECT party_name, judged_on, service = '公告送达' AND attendance = '缺席' AS absent
          FROM suits WHERE cause = '民间借贷纠纷'),
        windows AS (
          SELECT a.party_name, a.judged_on, count(*) AS n, sum(b.absent::INT) AS n_absent
          FROM lend a JOIN lend b ON a.party_name = b.party_name
           AND b.judged_on BETWEEN a.judged_on AND a.judged_on + INTERVAL 365 DAY
          GROUP BY ALL)
        SELECT DISTINCT party_name FROM windows WHERE n >= 10 AND n_absent >= 0.6 * n ORDER BY 1
        """
    ).fetchall()
    truth = pl.read_csv(out / "judgments_ground_truth.csv")
    planted = sorted(truth.filter(pl.col("expected") == "hit")["subject_name"].to_list())
    assert planted and [h[0] for h in hits] == planted
    decoys = set(truth.filter(pl.col("expected") == "no-hit")["subject_name"].to_list())
    assert len(decoys) >= 4 and not decoys & {h[0] for h in hits}


PENALTY = """滨江市临川区市场监督管理局
行政处罚决定书
临市监处罚〔2024〕57号
当事人：滨江市临川区鑫源餐饮有限公司
统一社会信用代码：91339012MA2B3C4D5E
住所：滨江市临川区人民路12号
法定代表人：王伟
本局于2024年3月1日对当事人涉嫌未取得排水许可排放污水一案立案调查。
经查，当事人在未取得排水许可的情况下向城镇排水设施排放污水。
本局认为，当事人的行为违反了《城镇排水与污水处理条例》第二十一条的规定。依据该条例第五十条，本局决定如下：
一、责令改正；二、罚款人民币伍万元整。
如不服本决定，可以在收到本决定书之日起六十日内向滨江市临川区人民政府申请行政复议。
滨江市临川区市场监督管理局
二〇二四年四月十日
"""


def test_an_administrative_penalty_decision(tmp_path: Path) -> None:
    write(tmp_path, "p.txt", PENALTY)
    fields = {
        "issuer": {"extract": "issuer"},
        "title": {"extract": "title"},
        "doc_no": {"extract": "case_number", "required": True},
        "subject": {"extract": "plaintiff"},
        "fine": {"extract": "fine"},
        "decided_on": {"extract": "judgment_date"},
    }
    (row,), _ = read(spec_of(fields=fields), tmp_path)
    assert row["issuer"] == "滨江市临川区市场监督管理局"
    assert row["title"] == "行政处罚决定书"
    assert row["doc_no"] == "临市监处罚〔2024〕57号"
    assert row["fine"] == Decimal("50000.00") and row["fine__paragraph"] == 11
    assert row["decided_on"] == dt.date(2024, 4, 10)
    rows, _ = read(spec_of(rows="party", fields={"doc_no": {"extract": "case_number"}}), tmp_path)
    assert [(r["party_role"], r["party_name"], r["party_agent_of"]) for r in rows] == [
        ("当事人", "滨江市临川区鑫源餐饮有限公司", None),
        ("法定代表人", "王伟", "滨江市临川区鑫源餐饮有限公司"),
    ]
    company = rows[0]
    assert company["party_kind"] == "单位" and company["party_address"] == "滨江市临川区人民路12号"
    assert company["party_credit_code"] == "91339012MA2B3C4D5E"  # the detail lines below it
    assert company["party__text"].splitlines()[1:] == [
        "统一社会信用代码：91339012MA2B3C4D5E",
        "住所：滨江市临川区人民路12号",
    ]


def test_appeal_counterclaim_and_statement_lines(tmp_path: Path) -> None:
    text = """滨江市中级人民法院
民事判决书
（2024）滨01民终77号
上诉人（原审被告）：李四（曾用名李斯），男，住滨江市。
被上诉人（原审原告）：张三，男，住滨江市。
原审第三人：某某律师事务所（普通合伙），住所地滨江市。
上诉人李四因与被上诉人张三民间借贷纠纷一案，不服滨江市临川区人民法院（2023）滨0112民初9号民事判决，向本院提起上诉。
上诉人李四上诉请求：撤销原判。
"""
    write(tmp_path, "appeal.txt", text)
    fields = {
        k: {"extract": k}
        for k in ("plaintiff", "defendant", "third_parties", "cause", "case_number", "court")
    }
    (row,), _ = read(spec_of(fields=fields), tmp_path)
    assert (row["plaintiff"], row["defendant"]) == ("张三", "李四")
    assert row["third_parties"] == "某某律师事务所（普通合伙）"
    assert row["cause"] == "民间借贷纠纷"
    assert row["case_number"] == "（2024）滨01民终77号" and row["court"] == "滨江市中级人民法院"
    write(
        tmp_path,
        "appeal.txt",
        text.replace("原审第三人", "原告（反诉被告）").replace(
            "上诉人李四上诉请求", "被告李四辩称"
        ),
    )
    rows, _ = read(spec_of(rows="party", fields={"cause": {"extract": "cause"}}), tmp_path)
    assert [(r["party_role"], r["party_role_detail"], r["party_name"]) for r in rows] == [
        ("上诉人", "原审被告", "李四"),
        ("被上诉人", "原审原告", "张三"),
        ("原告", "反诉被告", "某某律师事务所(普通合伙)"),  # person_name: half-width brackets
    ]


def test_the_extractor_names_are_one_list() -> None:
    from typing import get_args

    from collide.ingest.documents import EXTRACTORS, ExtractorName

    assert set(get_args(ExtractorName)) == set(EXTRACTORS)


# --------------------------------------------------------------------------- in a project


def _collide(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "collide.cli.main", "--project", str(project), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )


LENDING_MODEL = """id: many_suits
title: 多次民间借贷诉讼
domain: 民事检察
description: 同一原告多次民间借贷诉讼
severity: medium
inputs: [judgments]
subject: {type: person, id: plaintiff, name: plaintiff}
score: suits
reason: "{plaintiff}提起民间借贷诉讼{suits}件"
evidence:
  - {dataset: judgments, on: {party_name: plaintiff}}
"""
LENDING_SQL = """SELECT party_name AS plaintiff, count(*) AS suits
FROM judgments WHERE cause = '民间借贷纠纷' GROUP BY party_name HAVING count(*) >= 2
"""


def _document_project(root: Path, texts: dict[str, str]) -> Path:
    for d in ("connectors", "models", "expectations", "docs"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "collide.yaml").write_text("name: t\nrun_date: 2024-12-31\n", encoding="utf-8")
    (root / "connectors" / "judgments.yaml").write_text(
        """id: judgments
title: 民事判决书
source:
  type: documents
  path: docs/*.txt
  rows: party
  roles: [原告]
  fields:
    case_no: {extract: case_number, required: true}
    cause: {extract: cause}
    judged_on: {extract: judgment_date}
""",
        encoding="utf-8",
    )
    (root / "expectations" / "judgments.yaml").write_text(
        "dataset: judgments\nexpectations:\n  - type: expect_column_values_to_not_be_null\n"
        "    column: case_no\n    blocking: true\n",
        encoding="utf-8",
    )
    (root / "models" / "many_suits.yaml").write_text(LENDING_MODEL, encoding="utf-8")
    (root / "models" / "many_suits.sql").write_text(LENDING_SQL, encoding="utf-8")
    for name, text in texts.items():
        write(root, name, text)
    return root


def test_a_documents_connector_is_ingested_run_and_traced_to_the_paragraph(
    tmp_path: Path,
) -> None:
    second = JUDGMENT.replace("1234号", "1235号").replace("被告王五", "被告周九")
    project = _document_project(
        tmp_path,
        {
            "a.txt": JUDGMENT,
            "b.txt": second,
            "c.txt": JUDGMENT.replace("（2024）浙0102民初1234号\n", ""),
        },
    )
    check = _collide(project, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    ing = _collide(project, "ingest", "judgments")
    assert ing.returncode == 0, ing.stdout + ing.stderr
    snaps = project / "output" / "snapshots" / "judgments"
    sid = (snaps / "LATEST").read_text(encoding="utf-8").strip()
    manifest = json.loads((snaps / sid / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["source_type"] == "documents"
    assert (manifest["documents_read"], manifest["documents_loaded"]) == (3, 2)
    assert manifest["documents_rejected"] == 1
    assert [f["path"] for f in manifest["files"]] == ["docs/a.txt", "docs/b.txt", "docs/c.txt"]
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])
    data = pl.read_parquet(snaps / sid / "data.parquet")
    assert set(data["_snapshot_id"]) == {sid}
    assert data["_source_row"].to_list() == data["_source_paragraph"].to_list() == [4, 4]
    rejects = pl.read_parquet(snaps / sid / "rejects.parquet")
    assert rejects["_source_file"].to_list() == ["docs/c.txt"]
    assert "案号" in rejects["_reason"][0]
    # the same files again: the same snapshot, nothing rewritten
    again = _collide(project, "ingest", "judgments")
    assert again.returncode == 0 and (snaps / "LATEST").read_text().strip() == sid
    assert len([p for p in snaps.iterdir() if p.is_dir()]) == 1

    run = _collide(project, "run")
    assert run.returncode == 0, run.stdout + run.stderr
    lines = [
        line
        for p in (project / "runs").glob("*/evidence/*.jsonl")
        for line in p.read_text(encoding="utf-8").splitlines()
    ]
    assert len(lines) == 1
    sheet = json.loads(lines[0])
    rows = [e["行"] for e in sheet["证据"]]
    assert sorted(r["_source_file"] for r in rows) == ["docs/a.txt", "docs/b.txt"]
    assert {r["cause__text"] for r in rows} == {
        "原告张三与被告王五、杭州某某贸易有限公司民间借贷纠纷一案",
        "原告张三与被告周九、杭州某某贸易有限公司民间借贷纠纷一案",
    }
    assert {r["cause__paragraph"] for r in rows} == {9}
    assert {r["_source_row"] for r in rows} == {4}


def test_a_documents_connector_names_only_its_fields_in_columns(tmp_path: Path) -> None:
    project = _document_project(tmp_path, {"a.txt": JUDGMENT})
    conn = project / "connectors" / "judgments.yaml"
    conn.write_text(
        conn.read_text(encoding="utf-8") + "columns:\n  plaintiff: {from: 原告, type: string}\n",
        encoding="utf-8",
    )
    check = _collide(project, "check")
    assert check.returncode != 0
    out = check.stdout + check.stderr
    assert "judgments.yaml" in out and "plaintiff" in out and "Traceback" not in out
