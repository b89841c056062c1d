"""Judgment and decision texts as a source: 裁判文书 / 行政处罚决定书 files → rows.

A folder of .txt (UTF-8 or GBK/GB18030), .docx, .html and .pdf (text layer) files is read into
one row per document or one row per party. The clerk declares the fields in the connector's
`source:` block (`DocumentSourceSpec`): a built-in extractor for the standard parts of a
judgment (案号, 当事人, 案由, 送达方式, 到庭情况, 本院认为, 判决如下, 落款日期, 本金 …) or a
`pattern:` for anything else. Every value keeps its provenance (`<field>__text`: the matched
text, `<field>__paragraph`: the paragraph it was found in; `_source_file`, `_source_paragraph`,
`_source_sha256` per row), and then goes through the same semantic types as any column
(`collide.ingest.semantic`): Chinese-numeral dates and amounts are rewritten here into
spellings those normalisers accept.

Files are parsed in a process pool (regular expressions hold the GIL); the typed columns are
computed per batch in polars. Nothing is downloaded: no language model, only rules.

Paragraphs are what a person sees as paragraphs: non-empty lines (.txt, .pdf), `w:p` elements
(.docx), block elements (.html), numbered from 1; a line that was hard-wrapped (a long line that
stops mid-sentence, as PDF text layers and fixed-width exports do) is joined to the next one.
"""

from __future__ import annotations

import codecs
import glob
import hashlib
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from collide.errors import CollideError, Problem

# (not from collide.config.specs: that module imports this one, for the connector union)
from collide.standards.types import DUCKDB_TYPES, KEYED_TYPES, SemanticType

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "EXTRACTORS",
    "PARTY_COLUMNS",
    "DocumentFieldSpec",
    "DocumentReject",
    "DocumentReport",
    "DocumentSourceSpec",
    "cn_amount_text",
    "cn_date_text",
    "paragraphs_of",
    "read_documents",
]

# --------------------------------------------------------------------------- Chinese numerals

_DIGIT = {
    **dict.fromkeys("〇○零О0", 0),
    **dict.fromkeys("一壹1", 1),
    **dict.fromkeys("二贰貳两兩2", 2),
    **dict.fromkeys("三叁參3", 3),
    **dict.fromkeys("四肆4", 4),
    **dict.fromkeys("五伍5", 5),
    **dict.fromkeys("六陆陸6", 6),
    **dict.fromkeys("七柒7", 7),
    **dict.fromkeys("八捌8", 8),
    **dict.fromkeys("九玖9", 9),
}
_SMALL = {**dict.fromkeys("十拾", 10), **dict.fromkeys("百佰", 100), **dict.fromkeys("千仟", 1000)}
_BIG = {**dict.fromkeys("万萬", 10_000), **dict.fromkeys("亿億", 100_000_000)}
_CN_NUM = "〇○零一壹二贰貳两兩三叁參四肆五伍六陆陸七柒八捌九玖十拾百佰千仟万萬亿億"


def cn_int(text: str) -> int | None:
    """一百零五 → 105, 壹拾万 → 100000, 二〇二四 → 2024 (digit by digit when there is no unit)."""
    if not text:
        return None
    if not any(c in _SMALL or c in _BIG for c in text):
        if not all(c in _DIGIT for c in text):
            return None
        return int("".join(str(_DIGIT[c]) for c in text))
    total = section = num = 0
    for c in text:
        if c in _DIGIT:
            num = _DIGIT[c]
        elif c in _SMALL:
            section += (num or 1) * _SMALL[c]
            num = 0
        elif c in _BIG:
            if _BIG[c] == 100_000_000:
                total = (total + section + num) * _BIG[c]
            else:
                total += (section + num) * _BIG[c]
            section = num = 0
        else:
            return None
    return total + section + num


_Y = "〇○零О0-9一二三四五六七八九"
_MD = "0-9一二三四五六七八九十"
DATE_RE = re.compile(
    rf"(?P<y>[{_Y}]{{4}})\s*年\s*(?P<m>[{_MD}]{{1,3}})\s*月\s*(?P<d>[{_MD}]{{1,3}})\s*[日号號]"
)


def cn_date_text(text: str) -> str | None:
    """二〇二四年五月六日 / 二〇二四年五月六号 / 2024年5月6日 → "2024-05-06"; None when the text
    holds no date of that shape or the day does not exist (the normaliser then quotes it)."""
    import datetime as dt

    m = DATE_RE.search(text)
    if not m:
        return None
    y, mo, d = (cn_int(m.group(k)) for k in ("y", "m", "d"))
    if y is None or mo is None or d is None:
        return None
    try:
        return dt.date(y, mo, d).isoformat()
    except ValueError:
        return None


_ARABIC = r"[0-9][0-9,，]*(?:\.[0-9]+)?"
_JIAO_FEN = rf"(?:[{_CN_NUM}0-9]角)?(?:[{_CN_NUM}0-9]分)?"
AMOUNT = (
    rf"(?:人民币|RMB|￥|¥)?\s*(?:{_ARABIC}\s*(?:万|亿)?|[{_CN_NUM}]+|{_ARABIC}\s*万[{_CN_NUM}0-9]+)"
    rf"\s*(?:元|圆){_JIAO_FEN}整?"
)
AMOUNT_RE = re.compile(AMOUNT)


def cn_amount_text(text: str) -> str | None:
    """十万元 / 拾万元整 / 1.5万元 / 人民币100,000.00元 / 壹仟贰佰元伍角 → "100000.00" (what the
    money normaliser reads exactly); None when `text` is no amount of those shapes."""
    t = re.sub(r"\s|人民币|RMB|[￥¥]", "", text).replace("，", ",").rstrip("整")
    m = re.fullmatch(rf"(?P<n>[^元圆]+)[元圆](?P<j>[{_CN_NUM}0-9]角)?(?P<f>[{_CN_NUM}0-9]分)?", t)
    if not m:
        m = re.fullmatch(r"(?P<n>[0-9,]+(?:\.[0-9]+)?(?:万|亿)?)", t)
        if not m:
            return None
    n = m.group("n")
    value: Decimal | None = None
    a = re.fullmatch(r"([0-9,]+(?:\.[0-9]+)?)(万|亿)?", n)
    try:
        if a:
            value = Decimal(a.group(1).replace(",", ""))
            if a.group(2):
                value *= _BIG[a.group(2)]
        else:
            mixed = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)万(.+)", n)
            if mixed:
                rest = (
                    cn_int(mixed.group(2)) if not mixed.group(2).isdigit() else int(mixed.group(2))
                )
                if rest is None:
                    return None
                value = Decimal(mixed.group(1)) * 10_000 + rest
            else:
                whole = cn_int(n)
                if whole is None:
                    return None
                value = Decimal(whole)
    except InvalidOperation:
        return None
    for key, scale in (("j", Decimal("0.1")), ("f", Decimal("0.01"))):
        part = m.groupdict().get(key)
        if part:
            digit = cn_int(part[:-1])
            if digit is None:
                return None
            value += digit * scale
    return f"{value.quantize(Decimal('0.01'))}"


# --------------------------------------------------------------------------- paragraphs

# Full-width digits, letters and spaces read as ASCII (one character for one, so a match's
# position is the same in the original text: `__text` is sliced from what the file says).
_FOLD = str.maketrans(
    {
        **{chr(c): chr(c - 0xFEE0) for c in range(0xFF10, 0xFF1A)},
        **{chr(c): chr(c - 0xFEE0) for c in range(0xFF21, 0xFF3B)},
        **{chr(c): chr(c - 0xFEE0) for c in range(0xFF41, 0xFF5B)},
        "\u3000": " ",
        "\u00a0": " ",
        "＊": "*",
    }
)
_FOLD_RE = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000\u00a0＊]")


def fold(text: str) -> str:
    """`text` with full-width digits, letters and spaces as ASCII (most paragraphs have none:
    a regex search is much cheaper than `str.translate` with a table)."""
    return text.translate(_FOLD) if _FOLD_RE.search(text) else text


_END_PUNCT = tuple("。！？!?；;：:」”’）)】")
_SENTENCE_END = tuple("。！？!?")
_HEADING_END = ("书", "法院", "号", "日", "局", "委员会")
_STARTS = (
    "原告|被告|第三人|上诉人|被上诉人|原审|申请人|被申请人|再审申请人|申请执行人|被执行人|"
    "委托|诉讼代理人|法定代|负责人|当事人|本院认为|判决如下|裁定如下|审判长|审判员|代理审判员|"
    "人民陪审员|书记员|法官助理|如不服|一、|二、|三、|四、|五、|六、|七、|八、|九、|十、"
)
# ... or a label line (住所：…, 统一社会信用代码：…), a 案号 or a date line
_START_RE = re.compile(
    rf"^(?:{_STARTS}|[\u4e00-\u9fff]{{2,10}}[:：]|[（(〔\[]\s*(?:19|20)\d\d\s*[)）〕\]]|[〇○零一二]{{4}}年)"
)
_CONT_START = frozenset("，,。；;：:、）)】」”")  # a line starting so continues the one before
_WRAP_MIN = 20  # a line at least this long that stops mid-sentence was hard-wrapped
_PAGE_NO_RE = re.compile(
    r"^(?:[-—–\s]*\d+[-—–\s]*|第\s*\d+\s*页(?:\s*[,，/／]?\s*共\s*\d+\s*页)?)$"
)


def _unwrap(lines: Iterable[str], drop_page_numbers: bool = False) -> list[str]:
    """Non-empty lines, stripped, with hard-wrapped lines joined to the line they continue.

    A file wrapped at a fixed width (most lines exactly as long as the longest) is joined by
    that width: a full line that does not end a sentence continues on the next one, whatever
    the next one starts with. Otherwise a long line that stops mid-sentence continues unless
    the next line starts like a paragraph of a judgment (原告…, 本院认为…, 审判员…).
    """
    kept = []
    for raw in lines:
        line = raw.strip(" \t\r\n\u3000\u00a0\ufeff")
        if line and drop_page_numbers and _PAGE_NO_RE.match(fold(line)):
            continue
        kept.append(line)
    lengths = [len(x) for x in kept if x]
    width = max(lengths, default=0)
    fixed = width >= 15 and lengths.count(width) >= 3 and lengths.count(width) * 5 >= len(lengths)
    out: list[str] = []
    wrapped = False
    for line in kept:
        if not line:
            wrapped = False
            continue
        if out and (line[0] in _CONT_START or (wrapped and (fixed or not _START_RE.match(line)))):
            out[-1] += line
        else:
            out.append(line)
        last = out[-1]
        if fixed:
            wrapped = len(line) == width and not last.endswith(_SENTENCE_END)
        else:
            # a short line ending like a heading (法院, 判决书, 案号…号, a date) is one, not a wrap
            heading = len(line) < 30 and last.endswith(_HEADING_END)
            wrapped = len(line) >= _WRAP_MIN and not last.endswith(_END_PUNCT) and not heading
    return out


class _Unreadable(Exception):
    """A file that holds no text we can read; the message is the reject reason."""


def decode_text(data: bytes, encoding: str = "auto") -> str:
    """Text of a .txt/.html file: BOM, else UTF-8, else GB18030 (a superset of GBK)."""
    if encoding != "auto":
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise _Unreadable(
                f"not {encoding} text (byte {exc.start}): set `encoding: auto` or save it as UTF-8"
            ) from None
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(name, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx_lines(data: bytes) -> list[str]:
    """The paragraphs of word/document.xml (tables included, in reading order)."""
    import io
    import xml.etree.ElementTree as ET

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            xml = z.read("word/document.xml")
    except (zipfile.BadZipFile, KeyError):
        raise _Unreadable("not a readable .docx file (no word/document.xml)") from None
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        raise _Unreadable("not a readable .docx file (document.xml is not XML)") from None
    lines: list[str] = []
    for p in root.iter(f"{_W}p"):
        parts: list[str] = []
        for el in p.iter():
            if el.tag == f"{_W}t" and el.text:
                parts.append(el.text)
            elif el.tag == f"{_W}tab":
                parts.append(" ")
            elif el.tag in (f"{_W}br", f"{_W}cr"):
                parts.append("\n")
        lines.extend("".join(parts).split("\n"))
        lines.append("")  # a w:p ends a paragraph
    return lines


_BLOCK = frozenset(
    "p div br li tr h1 h2 h3 h4 h5 h6 table section article header footer pre blockquote td".split()
)


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skip += 1
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data.replace("\n", " ") if self.parts else data)


def _html_lines(data: bytes, encoding: str) -> list[str]:
    head = data[:2048].decode("ascii", errors="ignore")
    declared = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_-]+)", head, re.I)
    enc = encoding
    if declared and encoding == "auto":
        try:
            enc = codecs.lookup(declared.group(1)).name
        except LookupError:
            enc = "auto"
        if enc in ("gbk", "gb2312"):
            enc = "gb18030"
    parser = _HtmlText()
    parser.feed(decode_text(data, enc))
    parser.close()
    return "".join(parser.parts).split("\n")


def _pdf_lines(path: Path) -> list[str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        lines: list[str] = []
        for page in reader.pages:
            lines.extend((page.extract_text() or "").splitlines())
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise _Unreadable(f"not a readable PDF ({type(exc).__name__})") from None
    if not any(line.strip() for line in lines):
        raise _Unreadable("PDF has no text layer (a scan?): run OCR first or ask for the text")
    return lines


SUFFIXES = (".txt", ".docx", ".html", ".htm", ".pdf")


def paragraphs_of(path: Path, data: bytes, encoding: str = "auto") -> list[str]:
    """The paragraphs of one file as a person reads them (see the module docstring)."""
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return _unwrap(decode_text(data, encoding).splitlines())
    if suffix == ".docx":
        return _unwrap(_docx_lines(data))
    if suffix in (".html", ".htm"):
        return _unwrap(_html_lines(data, encoding))
    if suffix == ".pdf":
        return _unwrap(_pdf_lines(path), drop_page_numbers=True)
    if suffix in (".doc", ".wps"):
        raise _Unreadable(f"{suffix} (old Word format) cannot be read: save it as .docx")
    raise _Unreadable(
        f'unsupported file type "{suffix or path.name}" (read: {", ".join(SUFFIXES)})'
    )


# --------------------------------------------------------------------------- structure

ROLES = (
    "再审申请人",
    "被申请人",
    "申请执行人",
    "被执行人",
    "申请人",
    "被上诉人",
    "上诉人",
    "原审原告",
    "原审被告",
    "原审第三人",
    "原告",
    "被告",
    "第三人",
    "委托诉讼代理人",
    "委托代理人",
    "诉讼代理人",
    "指定代理人",
    "法定代理人",
    "法定代表人",
    "主要负责人",
    "负责人",
    "当事人",
)
_APPEAL_ROLES = frozenset({"上诉人", "被上诉人", "再审申请人", "被申请人"})
# a paragraph that starts with a role word but is a statement, not a party line
_NOT_PARTY_RE = re.compile(r"诉称|辩称|述称|陈述|向本院|提出诉讼请求|不服|申请称|答辩|提交")
_DETAIL_RE = re.compile(
    r"^(?:统一社会信用代码|社会信用代码|公民身份号码|居民身份证号码|身份证号码|身份证号|住所地|住所|住址|"
    r"地址|经营场所|联系电话|电话|出生日期|性别|民族|职务)\s*[:：]"
)
_NAME_TAIL_RE = re.compile(r"[（(](?!普通合伙|有限合伙|特殊普通合伙)[^）)]*[）)]$")
AGENT_ROLES = frozenset(
    {"委托诉讼代理人", "委托代理人", "诉讼代理人", "指定代理人", "法定代理人", "法定代表人",
     "主要负责人", "负责人"}
)  # fmt: skip
PARTY_RE = re.compile(
    rf"^(?P<role>{'|'.join(ROLES)})\s*(?:[（(](?P<detail>[^）)]{{1,16}})[）)])?\s*[:：]?\s*"
    r"(?P<name>[^，,。；;：:\s][^，,。；;：:]{0,59}?)\s*(?=[，,。；;]|$)"
)
_ID_RE = re.compile(
    r"(?P<label>统一社会信用代码|社会信用代码|公民身份号码|居民身份证号码|身份证号码|身份证号)\s*"
    r"(?:为|是)?\s*[:：]?\s*(?P<value>[0-9A-Za-z*]{6,20})"
)
_ADDR_RE = re.compile(
    r"(?:住所地|住所|住址|住|户籍地|经常居住地)\s*[:：]?\s*(?P<value>[^，,。；;]{3,80})"
)
_ORG_END = re.compile(
    r"(公司|银行|支行|分行|合作社|中心|厂|店|商行|经营部|事务所|工作室|委员会|协会|集团|学校|医院|"
    r"研究所|研究院|局|所|部|站|社|园|馆)$"
)
_AFFIL_RE = re.compile(r"[^，,。；;]*(律师事务所|法律服务所|公司|银行|分行|支行)[^，,。；;]*")
# 案号 （2024）浙0102民初1234号; 文号 临市监处罚〔2024〕57号 (only 〔〕 numbers have a prefix)
_CASE_RE = re.compile(
    r"(?:[\u4e00-\u9fff]{1,16}[〔\[]|[（(〔\[【])\s*(?:19|20)\d{2}\s*[)）〕\]】]\s*"
    r"[\u4e00-\u9fff0-9]{0,16}?\s*[0-9]+\s*号"
)
_OPINION_RE = re.compile(r"^\s*(?:本院认为|本局认为|本机关认为|经审查认为)")
_RULING_RE = re.compile(r"(?:判决|裁定|决定|调解协议)如下\s*[:：]?\s*$|(?:判决|裁定|决定)如下[:：]")
_SIGN_RE = re.compile(r"^(?:审\s*判\s*长|审\s*判\s*员|代理审判员|人民陪审员|独任审判员)")
_JUDGE_RE = re.compile(
    r"^(?P<role>审\s*判\s*长|审\s*判\s*员|代理审判员|人民陪审员|独任审判员|书\s*记\s*员|法官助理)"
    r"\s*[:：]?\s*(?P<name>\S.{0,12})$"
)
_CAUSE_LINE_RE = re.compile(r"案由\s*[:：]\s*(?P<value>[^，,。；;\s]{2,30})")
_CASE_SENTENCE_RE = re.compile(r"一案")
_COMMON_CAUSES = (
    "民间借贷纠纷", "金融借款合同纠纷", "借款合同纠纷", "小额借款合同纠纷", "信用卡纠纷",
    "买卖合同纠纷", "房屋租赁合同纠纷", "租赁合同纠纷", "劳动争议", "劳动合同纠纷",
    "追索劳动报酬纠纷", "劳务合同纠纷", "建设工程施工合同纠纷", "承揽合同纠纷", "服务合同纠纷",
    "物业服务合同纠纷", "保证合同纠纷", "追偿权纠纷", "不当得利纠纷", "机动车交通事故责任纠纷",
    "离婚纠纷", "股权转让纠纷", "财产损害赔偿纠纷", "合同纠纷",
)  # fmt: skip
_SERVICE_ORDER = (
    "公告送达",
    "留置送达",
    "邮寄送达",
    "电子送达",
    "委托送达",
    "转交送达",
    "直接送达",
)
_SERVICE_RE = re.compile("|".join(_SERVICE_ORDER))
_ABSENT_RE = re.compile(r"缺席|拒不到庭|未到庭|不到庭|未出庭|拒不出庭")
_PRESENT_RE = re.compile(r"到庭参加(?:了)?诉讼|均到庭|到庭应诉|出庭参加(?:了)?诉讼|均出庭")
_PRINCIPAL_RE = re.compile(
    rf"(?:借款本金|本金|借款)\s*(?:人民币)?\s*(?:共计|合计|计)?\s*(?P<value>{AMOUNT})"
)
_FINE_RE = re.compile(rf"罚款\s*(?:人民币)?\s*(?P<value>{AMOUNT})")
_FEE_RE = re.compile(rf"(?:案件)?受理费\s*(?:人民币)?\s*(?P<value>{AMOUNT})")
_RULING_END_RE = re.compile(r"^(?:如不服|如未按|审\s*判\s*长|审\s*判\s*员|代理审判员|人民陪审员)")

SECTIONS = ("all", "header", "parties", "facts", "opinion", "judgment", "signature")
Section = Literal["all", "header", "parties", "facts", "opinion", "judgment", "signature"]


@dataclass
class Party:
    no: int
    role: str
    detail: str | None
    name: str
    paragraph: int  # 1-based
    text: str
    agent_of: str | None = None
    details: list[int] = field(default_factory=list)  # 0-based detail lines (住所：…) below it

    @property
    def kind(self) -> str:
        return "单位" if _ORG_END.search(self.name) or len(self.name) > 6 else "自然人"

    def _was(self, word: str) -> bool:
        """An appeal's party says in brackets what it was at first instance (上诉人（原审原告）);
        a counterclaim's bracket (原告（反诉被告）) does not change who sued."""
        return self.role in _APPEAL_ROLES and word in (self.detail or "")

    @property
    def plaintiff_like(self) -> bool:
        return self.role in ("原告", "申请执行人", "申请人") or self._was("原告")

    @property
    def defendant_like(self) -> bool:
        return self.role in ("被告", "被执行人") or self._was("被告")


@dataclass
class Doc:
    """One document's paragraphs (as written, and folded for matching) and its sections."""

    paras: list[str]
    folded: list[str]
    parties: list[Party]
    spans: dict[str, range]

    @classmethod
    def parse(cls, paras: list[str]) -> Doc:
        folded = [fold(p) for p in paras]
        n = len(paras)
        parties: list[Party] = []
        principal: Party | None = None
        first_party = last_party = None
        for i, text in enumerate(folded):
            if last_party is not None and i > last_party + 1 and parties:
                break  # the party block is over
            if "一案" in text or _OPINION_RE.match(text):
                if parties:
                    break
                continue
            if parties and last_party == i - 1 and _DETAIL_RE.match(text):
                parties[-1].details.append(i)  # 统一社会信用代码：… on a line of its own
                last_party = i
                continue
            m = PARTY_RE.match(text)
            if not m or i > 60 or _NOT_PARTY_RE.search(m.group("name")):
                continue
            role = m.group("role")
            # 张三（曾用名张山）→ 张三; 某某律师事务所（普通合伙） keeps its bracket
            name = _NAME_TAIL_RE.sub("", m.group("name").strip()) or m.group("name").strip()
            party = Party(len(parties) + 1, role, m.group("detail"), name, i + 1, paras[i])
            if role in AGENT_ROLES:
                party.agent_of = principal.name if principal else None
            else:
                principal = party
            parties.append(party)
            first_party = i if first_party is None else first_party
            last_party = i
        opinion = next((i for i, t in enumerate(folded) if _OPINION_RE.match(t)), None)
        ruling = next(
            (i for i in range(opinion or 0, n) if _RULING_RE.search(folded[i])),
            None,
        )
        sign = next(
            (i for i in range((ruling or opinion or 0) + 1, n) if _SIGN_RE.match(folded[i])), None
        )
        head_end = first_party if first_party is not None else min(n, 3)
        facts_start = last_party + 1 if last_party is not None else head_end
        facts_end = opinion if opinion is not None else (ruling if ruling is not None else n)
        spans = {
            "all": range(n),
            "header": range(0, head_end),
            "parties": range(first_party, last_party + 1) if first_party is not None else range(0),
            "facts": range(facts_start, max(facts_start, facts_end)),
            "opinion": range(opinion, (ruling if ruling is not None else opinion) + 1)
            if opinion is not None
            else range(0),
            "judgment": range(ruling + 1, sign if sign is not None else n)
            if ruling is not None
            else range(0),
            "signature": range(sign, n) if sign is not None else range(0),
        }
        return cls(paras, folded, parties, spans)


@dataclass
class Hit:
    value: str | None  # raw text handed to the semantic type
    paragraph: int  # 1-based
    text: str  # the matched text, as the file writes it


def _search(
    doc: Doc, rx: re.Pattern[str], section: str = "all", group: str | int = 0
) -> Iterator[Hit]:
    for i in doc.spans[section]:
        for m in rx.finditer(doc.folded[i]):
            g = m.group(group) if group else m.group(0)
            yield Hit(g, i + 1, doc.paras[i][m.start() : m.end()])


def _first(it: Iterator[Hit]) -> list[Hit]:
    h = next(it, None)
    return [h] if h else []


def _x_case_number(doc: Doc) -> list[Hit]:
    hits = list(_search(doc, _CASE_RE, "header")) or list(_search(doc, _CASE_RE))
    out = []
    for h in hits[:1]:
        v = re.sub(r"\s", "", h.text.translate(_FOLD))
        v = re.sub(r"^.*[书:：]", "", v)  # a title or label on the same line is no part of it
        v = v.replace("(", "（").replace(")", "）").replace("[", "〔").replace("]", "〕")
        out.append(Hit(v, h.paragraph, h.text))
    return out


def _x_court(doc: Doc) -> list[Hit]:
    for i in range(min(len(doc.paras), 6)):
        t = doc.folded[i]
        m = re.search(r"^(?P<v>\S{2,40}?人民法院)", t.replace(" ", ""))
        if m:
            return [Hit(m.group("v"), i + 1, doc.paras[i])]
    return []


_ISSUER_END = r"(?:人民法院|人民检察院|局|委员会|办公室|人民政府|大队|支队|中心|管理处)"
_ISSUER_RE = re.compile(
    rf"^(?P<v>\S{{2,40}}?{_ISSUER_END})(?=(?:行政处罚|不予行政处罚|责令)?\S{{0,8}}(?:决定书|通知书)$|$)"
)


def _x_issuer(doc: Doc) -> list[Hit]:
    """Who issued the document: the court, or the agency of a 行政处罚决定书 (its own line or
    the title's first words: 某某市场监督管理局行政处罚决定书)."""
    for i in range(min(len(doc.paras), 6)):
        m = _ISSUER_RE.match(re.sub(r"\s", "", doc.folded[i]))
        if m:
            return [Hit(m.group("v"), i + 1, doc.paras[i])]
    return []


_TITLE_RE = re.compile(r"^\S{0,40}(?:判决书|裁定书|调解书|决定书|通知书|支付令)$")


def _x_title(doc: Doc) -> list[Hit]:
    for i in range(min(len(doc.paras), 6)):
        t = re.sub(r"\s", "", doc.folded[i])
        if _TITLE_RE.match(t):
            return [Hit(t, i + 1, doc.paras[i])]
    return []


def _x_doc_type(doc: Doc) -> list[Hit]:
    hits = _x_title(doc)
    if not hits:
        return []
    m = re.search(
        r"(民事|刑事|行政|执行|行政处罚)?(判决书|裁定书|调解书|决定书|通知书|支付令)$",
        hits[0].value or "",
    )
    return [Hit(m.group(0) if m else None, hits[0].paragraph, hits[0].text)]


def _x_cause(doc: Doc) -> list[Hit]:
    hit = next(_search(doc, _CAUSE_LINE_RE, "all", "value"), None)
    if hit:
        return [hit]
    names = sorted({p.name for p in doc.parties}, key=len, reverse=True)
    for i in range(len(doc.paras)):
        t = doc.folded[i]
        k = t.find("一案")
        if k < 0:
            continue
        seg = re.split(r"[，,。；;]", t[:k])[-1]
        base = k - len(seg)
        cut = 0
        for name in names:
            j = seg.rfind(name)
            if j >= 0:
                cut = max(cut, j + len(name))
        cause = seg[cut:].lstrip("等、与诉及之间的")
        if not cut or not cause:
            known = next(
                (c for c in sorted(_COMMON_CAUSES, key=len, reverse=True) if seg.endswith(c)), None
            )
            if not known:
                continue
            cause = known
        return [Hit(cause, i + 1, doc.paras[i][base : k + 2])]
    return []


def _x_service(doc: Doc) -> list[Hit]:
    span = "facts" if len(doc.spans["facts"]) else "all"
    hits = list(_search(doc, _SERVICE_RE, span)) or list(_search(doc, _SERVICE_RE))
    if not hits:
        return []
    best = min(hits, key=lambda h: _SERVICE_ORDER.index(h.value or ""))
    return [best]


def _x_attendance(doc: Doc) -> list[Hit]:
    span = "facts" if len(doc.spans["facts"]) else "all"
    absent = _first(_search(doc, _ABSENT_RE, span))
    if absent:
        return [Hit("缺席", absent[0].paragraph, absent[0].text)]
    present = _first(_search(doc, _PRESENT_RE, span))
    return [Hit("到庭", present[0].paragraph, present[0].text)] if present else []


def _x_default_judgment(doc: Doc) -> list[Hit]:
    hits = _x_attendance(doc)
    if not hits:
        return []
    return [Hit("是" if hits[0].value == "缺席" else "否", hits[0].paragraph, hits[0].text)]


def _block(doc: Doc, span: str) -> list[Hit]:
    r = doc.spans[span]
    if not len(r):
        return []
    if span == "judgment":
        end = next((i for i in r if _RULING_END_RE.match(doc.folded[i])), r.stop)
        r = range(r.start, end)
        if not len(r):
            return []
    text = "\n".join(doc.paras[i] for i in r)
    return [Hit(text, r.start + 1, text)]


def _x_date(doc: Doc) -> list[Hit]:
    n = len(doc.paras)
    tail = range(n - 1, max(-1, n - 15), -1)
    for i in tail:  # the date line of the signature block
        t = re.sub(r"\s", "", doc.folded[i])
        m = DATE_RE.fullmatch(t)
        if m:
            return [Hit(cn_date_text(t) or t, i + 1, doc.paras[i])]
    for i in tail:
        ms = list(DATE_RE.finditer(doc.folded[i]))
        if ms:
            m = ms[-1]
            return [
                Hit(
                    cn_date_text(m.group(0)) or m.group(0), i + 1, doc.paras[i][m.start() : m.end()]
                )
            ]
    return []


def _amount_hits(doc: Doc, rx: re.Pattern[str], prefer: str) -> list[Hit]:
    hits = _first(_search(doc, rx, prefer, "value")) or _first(_search(doc, rx, "all", "value"))
    return [Hit(cn_amount_text(h.value or "") or h.value, h.paragraph, h.text) for h in hits]


def _judges(doc: Doc, clerk: bool) -> list[Hit]:
    out = []
    for i in doc.spans["signature"] or range(max(0, len(doc.paras) - 10), len(doc.paras)):
        m = _JUDGE_RE.match(doc.folded[i])
        if not m:
            continue
        is_clerk = re.sub(r"\s", "", m.group("role")) in ("书记员", "法官助理")
        if is_clerk == clerk:
            out.append(Hit(re.sub(r"\s", "", m.group("name")), i + 1, doc.paras[i]))
    return out


def _party_hits(doc: Doc, which: str) -> list[Hit]:
    pick = {
        "plaintiff": lambda p: p.plaintiff_like,
        "defendant": lambda p: p.defendant_like,
        "third_party": lambda p: p.role in ("第三人", "原审第三人"),
        "agent": lambda p: p.role in ("委托诉讼代理人", "委托代理人", "诉讼代理人"),
    }[which]
    return [Hit(p.name, p.paragraph, p.text) for p in doc.parties if pick(p)]


def _principals(doc: Doc) -> list[Hit]:
    return [Hit(p.name, p.paragraph, p.text) for p in doc.parties if p.role not in AGENT_ROLES]


_Extractor = Callable[[Doc], list[Hit]]

# name → (function, default semantic type, default take, Chinese label)
EXTRACTORS: dict[str, tuple[_Extractor, str, str, str]] = {
    "title": (_x_title, "string", "first", "标题"),
    "doc_type": (_x_doc_type, "string", "first", "文书类型"),
    "court": (_x_court, "org_name", "first", "法院"),
    "issuer": (_x_issuer, "org_name", "first", "制作机关"),
    "case_number": (_x_case_number, "string", "first", "案号"),
    "cause": (_x_cause, "string", "first", "案由"),
    "plaintiff": (lambda d: _party_hits(d, "plaintiff"), "person_name", "first", "原告"),
    "plaintiffs": (lambda d: _party_hits(d, "plaintiff"), "string", "all", "原告"),
    "defendant": (lambda d: _party_hits(d, "defendant"), "person_name", "first", "被告"),
    "defendants": (lambda d: _party_hits(d, "defendant"), "string", "all", "被告"),
    "third_parties": (lambda d: _party_hits(d, "third_party"), "string", "all", "第三人"),
    "agents": (lambda d: _party_hits(d, "agent"), "string", "all", "委托诉讼代理人"),
    "party_count": (_principals, "int", "count", "当事人数"),
    "service": (_x_service, "string", "first", "送达方式"),
    "attendance": (_x_attendance, "string", "first", "到庭情况"),
    "default_judgment": (_x_default_judgment, "bool", "first", "缺席判决"),
    "facts": (lambda d: _block(d, "facts"), "string", "first", "审理查明"),
    "court_opinion": (lambda d: _block(d, "opinion"), "string", "first", "本院认为"),
    "ruling": (lambda d: _block(d, "judgment"), "string", "first", "判决主文"),
    "judgment_date": (_x_date, "date", "first", "落款日期"),
    "principal": (lambda d: _amount_hits(d, _PRINCIPAL_RE, "judgment"), "money", "first", "本金"),
    "fine": (lambda d: _amount_hits(d, _FINE_RE, "judgment"), "money", "first", "罚款"),
    "court_fee": (lambda d: _amount_hits(d, _FEE_RE, "judgment"), "money", "first", "案件受理费"),
    "judges": (lambda d: _judges(d, clerk=False), "string", "all", "审判人员"),
    "clerk": (lambda d: _judges(d, clerk=True), "person_name", "first", "书记员"),
}  # fmt: skip
ExtractorName = Literal[
    "title", "doc_type", "court", "issuer", "case_number", "cause", "plaintiff", "plaintiffs",
    "defendant", "defendants", "third_parties", "agents", "party_count", "service", "attendance",
    "default_judgment", "facts", "court_opinion", "ruling", "judgment_date", "principal", "fine",
    "court_fee", "judges", "clerk",
]  # fmt: skip

# The columns of a party row (`rows: party`), with their semantic types.
PARTY_COLUMNS: dict[str, str] = {
    "party_no": "int",
    "party_role": "string",
    "party_role_detail": "string",
    "party_kind": "string",
    "party_name": "person_name",
    "party_id_number": "cn_id",
    "party_credit_code": "cn_uscc",
    "party_address": "address",
    "party_affiliation": "org_name",
    "party_agent_of": "person_name",
}

# --------------------------------------------------------------------------- spec


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class DocumentFieldSpec(_Strict):
    """One field: a built-in extractor (`extract:`) or a regular expression (`pattern:`)."""

    extract: ExtractorName | None = None
    pattern: str | None = None
    type: SemanticType | None = None
    required: bool = False
    section: Section = "all"
    take: Literal["first", "last", "all", "count"] | None = None
    label: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _one_way(self) -> DocumentFieldSpec:
        if bool(self.extract) == bool(self.pattern):
            raise ValueError("give exactly one of `extract` (a built-in extractor) or `pattern`")
        if self.pattern is not None:
            try:
                rx = re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from None
            if "value" not in rx.groupindex and rx.groups > 1:
                raise ValueError(
                    "pattern has several groups: name the one to keep (?P<value>…), "
                    "or make the others non-capturing (?:…)"
                )
        elif self.section != "all":
            raise ValueError(
                "`section` applies to `pattern` fields (built-in extractors know theirs)"
            )
        if self.resolved_take == "count" and self.resolved_type != "int":
            raise ValueError("take: count gives a number: leave `type` out or set it to int")
        if self.resolved_take == "all" and self.resolved_type != "string":
            raise ValueError(
                "take: all gives the values joined by 、: leave `type` out or set it to string"
            )
        return self

    @property
    def resolved_take(self) -> str:
        if self.take:
            return self.take
        return EXTRACTORS[self.extract][2] if self.extract else "first"

    @property
    def resolved_type(self) -> str:
        if self.type:
            return self.type
        if self.resolved_take == "count":
            return "int"
        return EXTRACTORS[self.extract][1] if self.extract else "string"

    def label_for(self, name: str) -> str:
        return self.label or (EXTRACTORS[self.extract][3] if self.extract else name)


RESERVED = frozenset(PARTY_COLUMNS) | {"party"}


class DocumentSourceSpec(_Strict):
    """The `source:` block of a connector over judgment or decision texts."""

    type: Literal["documents"] = "documents"
    path: str | list[str]
    encoding: str = "auto"  # .txt / .html without a declared charset: auto | utf-8 | gb18030
    rows: Literal["document", "party"] = "document"
    roles: list[str] | None = None  # party rows: only these roles (原告, 被告, 委托诉讼代理人 …)
    fields: dict[str, DocumentFieldSpec] = Field(min_length=1)
    # processes parsing files; default: one per core once there are enough files to pay for them
    workers: int | None = Field(None, ge=1, le=64)
    batch_rows: int = Field(20_000, ge=100)

    @field_validator("fields")
    @classmethod
    def _names(cls, v: dict[str, DocumentFieldSpec]) -> dict[str, DocumentFieldSpec]:
        from collide.standards.types import COLUMN_RE

        for name in v:
            if not COLUMN_RE.match(name) or "__" in name or name.startswith("_"):
                raise ValueError(
                    f'field name "{name}" must be snake_case ([a-z0-9_]), without "__" '
                    "or a leading _ (those are provenance columns)"
                )
            if name in RESERVED:
                raise ValueError(f'field name "{name}" is a party column: choose another name')
        return v

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str) -> str:
        if v != "auto":
            try:
                codecs.lookup(v)
            except LookupError:
                raise ValueError(f'unknown encoding "{v}" (use auto, utf-8 or gb18030)') from None
        return v

    @field_validator("roles")
    @classmethod
    def _roles(cls, v: list[str] | None) -> list[str] | None:
        for r in v or []:
            if r not in ROLES:
                from collide.errors import did_you_mean

                raise ValueError(f'unknown role "{r}". {did_you_mean(r, ROLES)}')
        return v

    @property
    def paths(self) -> list[str]:
        return [self.path] if isinstance(self.path, str) else list(self.path)

    def columns(self) -> dict[str, str]:
        """Value column → semantic type, in output order (party columns first in party rows)."""
        out = dict(PARTY_COLUMNS) if self.rows == "party" else {}
        out.update({n: f.resolved_type for n, f in self.fields.items()})
        return out

    def schema(self) -> dict[str, str]:
        """Column → DuckDB type of the rows this source yields (as ConnectorSpec.schema)."""
        out: dict[str, str] = {}
        for name, sem in self.columns().items():
            out[name] = DUCKDB_TYPES[sem]
            if sem in KEYED_TYPES:
                out[f"{name}_key"] = "VARCHAR"
        for name in self.fields:
            out[f"{name}__text"] = "VARCHAR"
            out[f"{name}__paragraph"] = "INTEGER"
        if self.rows == "party":
            out["party__text"] = "VARCHAR"
        out.update(
            {
                "_source_file": "VARCHAR",
                "_source_paragraph": "INTEGER",
                "_source_sha256": "VARCHAR",
                "_issues": "VARCHAR",
            }
        )
        return out


# --------------------------------------------------------------------------- per document


def _field_hits(doc: Doc, f: DocumentFieldSpec, rx: re.Pattern[str] | None) -> list[Hit]:
    if f.extract:
        return EXTRACTORS[f.extract][0](doc)
    assert rx is not None
    group: str | int = "value" if "value" in rx.groupindex else (1 if rx.groups else 0)
    hits = list(_search(doc, rx, f.section, group))
    sem = f.resolved_type
    if sem in ("date", "datetime"):
        hits = [Hit(cn_date_text(h.value or "") or h.value, h.paragraph, h.text) for h in hits]
    elif sem == "money":
        hits = [Hit(cn_amount_text(h.value or "") or h.value, h.paragraph, h.text) for h in hits]
    return hits


def _take(hits: list[Hit], take: str) -> tuple[str | None, int | None, str | None]:
    if not hits:
        return (None, None, None) if take != "count" else ("0", None, None)
    if take == "first":
        h = hits[0]
        return h.value, h.paragraph, h.text
    if take == "last":
        h = hits[-1]
        return h.value, h.paragraph, h.text
    if take == "count":
        return str(len(hits)), hits[0].paragraph, "\n".join(h.text for h in hits)
    values = list(dict.fromkeys(h.value for h in hits if h.value))
    return "、".join(values), hits[0].paragraph, "\n".join(dict.fromkeys(h.text for h in hits))


def _party_values(p: Party, folded: str) -> dict[str, Any]:
    ident = _ID_RE.search(folded)
    uscc = ident.group("value") if ident and "信用代码" in ident.group("label") else None
    rid = ident.group("value") if ident and "信用代码" not in ident.group("label") else None
    addr = _ADDR_RE.search(folded)
    rest = folded[len(PARTY_RE.match(folded).group(0)) :] if PARTY_RE.match(folded) else ""  # type: ignore[union-attr]
    affil = _AFFIL_RE.search(rest) if p.role in AGENT_ROLES else None
    return {
        "party_no": str(p.no),
        "party_role": p.role,
        "party_role_detail": p.detail,
        "party_kind": "自然人" if p.role in AGENT_ROLES else p.kind,
        "party_name": p.name,
        "party_id_number": rid,
        "party_credit_code": uscc,
        "party_address": addr.group("value") if addr else None,
        "party_affiliation": affil.group(0).strip() if affil else None,
        "party_agent_of": p.agent_of,
    }


@dataclass
class _Plan:
    spec: DocumentSourceSpec
    patterns: dict[str, re.Pattern[str] | None]

    @classmethod
    def of(cls, spec: DocumentSourceSpec) -> _Plan:
        pats = {
            n: re.compile(f.pattern.translate(_FOLD)) if f.pattern else None
            for n, f in spec.fields.items()
        }
        return cls(spec, pats)


def parse_document(
    plan: _Plan, path: Path, display: str, data: bytes
) -> tuple[list[dict[str, Any]], str | None]:
    """The rows of one document, or no rows and the reason it is rejected."""
    spec = plan.spec
    try:
        paras = paragraphs_of(path, data, spec.encoding)
    except _Unreadable as exc:
        return [], str(exc)
    if not paras:
        return [], "empty file (no text)"
    doc = Doc.parse(paras)
    base: dict[str, Any] = {}
    first_para: int | None = None
    for name, f in spec.fields.items():
        value, para, text = _take(_field_hits(doc, f, plan.patterns[name]), f.resolved_take)
        if f.required and (value is None or value == ""):
            return [], f"no {f.label_for(name)} found (field {name})"
        base[name] = value
        base[f"{name}__text"] = text
        base[f"{name}__paragraph"] = para
        if first_para is None and para is not None:
            first_para = para
    if spec.rows == "document":
        base["_source_paragraph"] = first_para
        return [base], None
    rows = []
    for p in doc.parties:
        if spec.roles and p.role not in spec.roles:
            continue
        row = dict(base)
        lines = [doc.folded[p.paragraph - 1], *(doc.folded[i] for i in p.details)]
        row.update(_party_values(p, "，".join(lines)))
        row["party__text"] = "\n".join([p.text, *(doc.paras[i] for i in p.details)])
        row["_source_paragraph"] = p.paragraph
        rows.append(row)
    if not rows:
        wanted = "、".join(spec.roles) if spec.roles else "当事人"
        return [], f"no party line found ({wanted})"
    return rows, None


# --------------------------------------------------------------------------- reading a folder


@dataclass
class DocumentReject:
    file: str
    reason: str
    sha256: str


@dataclass
class DocumentReport:
    """Row accounting: documents read = documents loaded + documents rejected."""

    documents_read: int = 0
    documents_loaded: int = 0
    documents_rejected: int = 0
    rows_loaded: int = 0
    bytes_read: int = 0
    rejects: list[DocumentReject] = field(default_factory=list)
    issues_by_field: dict[str, int] = field(default_factory=dict)
    # every file read, for a snapshot manifest: {"path", "sha256", "bytes", "rows"} (rows parsed;
    # a document rejected later for a value that fails its type keeps its count here)
    files: list[dict[str, Any]] = field(default_factory=list)

    def rejects_table(self) -> pa.Table:
        import pyarrow as pa

        return pa.table(
            {
                "_source_file": pa.array([r.file for r in self.rejects], pa.string()),
                "_source_sha256": pa.array([r.sha256 for r in self.rejects], pa.string()),
                "_reason": pa.array([r.reason for r in self.rejects], pa.string()),
            }
        )


def find_files(spec: DocumentSourceSpec, root: Path, origin: str | None = None) -> list[Path]:
    """The files the `path` globs match, sorted, each once (a missing match is the clerk's)."""
    found: list[Path] = []
    seen: set[Path] = set()
    for pattern in spec.paths:
        full = pattern if os.path.isabs(pattern) else str(Path(root) / pattern)
        hits = sorted(Path(p) for p in glob.glob(full, recursive=True) if Path(p).is_file())
        if not hits:
            raise CollideError(
                Problem(
                    origin,
                    None,
                    f'no file matches "{pattern}" (looked in {root})',
                    "Check the path (relative to the project folder) or put the documents there",
                )
            )
        for h in hits:
            if h not in seen:
                seen.add(h)
                found.append(h)
    return found


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return str(path)


_WORKER_PLAN: _Plan | None = None
# Starting a worker process costs about a second (it imports the engine): below this many files
# per worker, parsing in this process is faster.
_FILES_PER_WORKER = 1500


def _init_worker(spec_json: str) -> None:
    global _WORKER_PLAN
    _WORKER_PLAN = _Plan.of(DocumentSourceSpec.model_validate_json(spec_json))


def _parse_chunk(
    jobs: list[tuple[str, str]], plan: _Plan | None = None
) -> list[tuple[str, str, int, list[dict[str, Any]], str | None]]:
    plan = plan or _WORKER_PLAN
    assert plan is not None
    out = []
    for path_s, display in jobs:
        path = Path(path_s)
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        rows, reason = parse_document(plan, path, display, data)
        out.append((display, digest, len(data), rows, reason))
    return out


def _parsed(
    spec: DocumentSourceSpec, jobs: list[tuple[str, str]], workers: int
) -> Iterator[tuple[str, str, int, list[dict[str, Any]], str | None]]:
    chunk = 64
    chunks = [jobs[i : i + chunk] for i in range(0, len(jobs), chunk)]
    if workers <= 1 or len(chunks) <= 1:
        plan = _Plan.of(spec)
        for c in chunks:
            yield from _parse_chunk(c, plan)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    ctx = mp.get_context("spawn")  # never fork a process that runs polars threads
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(spec.model_dump_json(),),
    ) as pool:
        for result in pool.map(_parse_chunk, chunks):
            yield from result


def read_documents(
    spec: DocumentSourceSpec,
    root: Path | str,
    report: DocumentReport | None = None,
    *,
    origin: str | None = None,
) -> Iterator[pa.RecordBatch]:
    """Read the documents `spec.path` matches under `root` into typed Arrow batches.

    `report` (if given) is filled in as the batches go: the accounting holds once the iterator
    is exhausted. Rejected documents are in `report.rejects` with their reason. A document whose
    required field is found but fails its type (an impossible date) is rejected too.
    """
    root = Path(root)
    report = report if report is not None else DocumentReport()
    files = find_files(spec, root, origin)
    jobs = [(str(p), _display(p, root)) for p in files]
    if spec.workers is not None:  # as the clerk says (at most one per chunk of files)
        workers = spec.workers
    else:
        workers = min(os.cpu_count() or 1, 8, max(1, len(jobs) // _FILES_PER_WORKER))
    pending: list[tuple[str, str, list[dict[str, Any]]]] = []
    rows_pending = 0
    for display, digest, size, rows, reason in _parsed(spec, jobs, workers):
        report.documents_read += 1
        report.bytes_read += size
        report.files.append({"path": display, "sha256": digest, "bytes": size, "rows": len(rows)})
        if reason is not None:
            report.documents_rejected += 1
            report.rejects.append(DocumentReject(display, reason, digest))
            continue
        pending.append((display, digest, rows))
        rows_pending += len(rows)
        if rows_pending >= spec.batch_rows:
            yield from _typed(spec, pending, report)
            pending, rows_pending = [], 0
    if pending:
        yield from _typed(spec, pending, report)


def _typed(
    spec: DocumentSourceSpec,
    docs: list[tuple[str, str, list[dict[str, Any]]]],
    report: DocumentReport,
) -> Iterator[pa.RecordBatch]:
    """Run the semantic types over a batch of parsed documents; reject documents whose required
    value fails its type; count issues."""
    import polars as pl

    from collide.ingest.semantic import column_exprs

    columns = spec.columns()
    raw: dict[str, list[Any]] = {f"__raw_{c}": [] for c in columns}
    prov: dict[str, list[Any]] = {
        f"{n}__{k}": [] for n in spec.fields for k in ("text", "paragraph")
    }
    if spec.rows == "party":
        prov["party__text"] = []
    meta: dict[str, list[Any]] = {
        "_source_file": [],
        "_source_paragraph": [],
        "_source_sha256": [],
        "__doc": [],
    }
    for k, (display, digest, rows) in enumerate(docs):
        for row in rows:
            for c in columns:
                raw[f"__raw_{c}"].append(row.get(c))
            for c in prov:
                prov[c].append(row.get(c))
            meta["_source_file"].append(display)
            meta["_source_paragraph"].append(row.get("_source_paragraph"))
            meta["_source_sha256"].append(digest)
            meta["__doc"].append(k)
    df = pl.DataFrame(
        {
            **{c: pl.Series(c, v, pl.Utf8) for c, v in raw.items()},
            **{
                c: pl.Series(c, v, pl.Int32 if c.endswith("__paragraph") else pl.Utf8)
                for c, v in prov.items()
            },
            "_source_file": pl.Series(meta["_source_file"], dtype=pl.Utf8),
            "_source_paragraph": pl.Series(meta["_source_paragraph"], dtype=pl.Int32),
            "_source_sha256": pl.Series(meta["_source_sha256"], dtype=pl.Utf8),
            "__doc": pl.Series(meta["__doc"], dtype=pl.Int64),
        }
    )
    structs = []
    outs: list[pl.Expr] = []
    issues: list[pl.Expr] = []
    required = [n for n, f in spec.fields.items() if f.required]
    for c, sem in columns.items():
        se = column_exprs(f"__raw_{c}", c, sem)
        assert se.struct is not None
        structs.append(se.struct.alias(f"__s_{c}"))
        s = pl.col(f"__s_{c}").struct.field
        outs.append(s("value").alias(c))
        if sem in KEYED_TYPES:
            outs.append(s("key").alias(f"{c}_key"))
        outs.append(s("issue").alias(f"__iss_{c}"))
        outs.append(s("fatal").alias(f"__fat_{c}"))
    df = df.with_columns(structs).with_columns(outs)
    for c in columns:
        issues.append(pl.format("{}: {}", pl.lit(c), pl.col(f"__iss_{c}")))
    text = (
        pl.concat_str(issues, separator="; ", ignore_nulls=True)
        if issues
        else pl.lit(None, pl.Utf8)
    )
    df = df.with_columns(pl.when(text.str.len_bytes() > 0).then(text).alias("_issues"))
    if required:
        reason = pl.concat_str(
            [
                pl.when(pl.col(f"__fat_{n}")).then(
                    pl.format("{}: {}", pl.lit(n), pl.col(f"__iss_{n}"))
                )
                for n in required
            ],
            separator="; ",
            ignore_nulls=True,
        )
        df = df.with_columns(pl.when(reason.str.len_bytes() > 0).then(reason).alias("__reason"))
        bad = (
            df.filter(pl.col("__reason").is_not_null())
            .group_by("__doc", maintain_order=True)
            .agg(pl.col("__reason").first())
        )
        if bad.height:
            for k, why in bad.iter_rows():
                display, digest, _ = docs[k]
                report.rejects.append(DocumentReject(display, why, digest))
            report.documents_rejected += bad.height
            df = df.filter(~pl.col("__doc").is_in(bad["__doc"].implode()))
    report.documents_loaded += df["__doc"].n_unique() if df.height else 0
    report.rows_loaded += df.height
    for c in columns:
        n = df.height - df[f"__iss_{c}"].null_count()
        if n:
            report.issues_by_field[c] = report.issues_by_field.get(c, 0) + n
    order = list(spec.schema())
    table = df.select(order).to_arrow(compat_level=pl.CompatLevel.oldest())
    yield from table.to_batches()
