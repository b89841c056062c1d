"""Seeded generator of civil judgments (民事判决书) with planted 职业放贷 cases and near misses.

Writes a folder of judgment texts the way courts hand them over: UTF-8 and GBK .txt, .docx and
.html; full-width and half-width brackets in 案号, hard-wrapped lines, titles with spaces
(民 事 判 决 书), redacted ID numbers (110***********1234), sections that some judgments lack (no
agent, no 本院认为 heading), dates in Chinese numerals (二〇二四年五月六日, 二○二四年…, 2024年5月6日) and
amounts in every spelling (本金100000元, 100,000.00元, 十万元, 拾万元, 1.5万元). A few files have no 案号
and must be rejected by the reader.

The planted rule (a 职业放贷 / 虚假诉讼 model): one plaintiff with at least 10 民间借贷纠纷 suits whose
judgment dates fall within twelve months, most of them (≥ 60 %) served by 公告送达 and judged in
absence (缺席). Decoys that must not be hit: a plaintiff with as many suits served in person with
the defendants present; one with as many suits spread over three years (never 10 in twelve
months); a bank with many 金融借款合同纠纷 suits by 公告送达; a plaintiff with 8 suits (below the
threshold). Everyone else has one to three suits.

    python sample_data/generate_judgments.py --out /tmp/judgments            # 600 judgments
    python sample_data/generate_judgments.py --out /tmp/big -n 20000         # for bench/

Writes OUT/judgments/… and OUT/judgments_ground_truth.csv (model_id, subject_id, subject_name,
expected, why — the columns of sample_data/ground_truth.csv).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import html
import random
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import GIVEN, ROADS, STREETS, SURNAMES, make_id  # noqa: E402

MODEL_ID = "professional_lending"
START, END = dt.date(2022, 1, 1), dt.date(2024, 12, 31)
COURTS = [
    ("滨江市临川区人民法院", "滨0112"),
    ("滨江市东湖区人民法院", "滨0103"),
    ("滨江市西山县人民法院", "滨0121"),
]
CITY = "滨江市"
BACKGROUND_CAUSES = [
    ("民间借贷纠纷", 5),
    ("买卖合同纠纷", 3),
    ("劳动争议", 2),
    ("房屋租赁合同纠纷", 1),
    ("追索劳动报酬纠纷", 1),
    ("服务合同纠纷", 1),
]
JUDGES = [s + g for s in "王李张刘陈杨黄赵吴周" for g in ("晓明", "建华", "丽娟", "国强", "慧")]
LAW_FIRMS = ["浙江某某律师事务所", "滨江正衡律师事务所", "滨江明理律师事务所", "临川法律服务所"]
CN_DIGITS = "〇一二三四五六七八九"


def cn_small(n: int) -> str:
    """1..31 in Chinese numerals as dates write them (十一, 二十, 三十一)."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else CN_DIGITS[tens] + "十")
    return head + (CN_DIGITS[ones] if ones else "") if n >= 10 else CN_DIGITS[n]


def cn_date(d: dt.date, style: int) -> str:
    zero = "〇" if style % 3 else "○"
    y = "".join(CN_DIGITS[int(c)] for c in str(d.year)).replace("〇", zero)
    if style % 7 == 6:
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{y}年{cn_small(d.month)}月{cn_small(d.day)}{'号' if style % 11 == 10 else '日'}"


def cn_amount(yuan: int, style: int) -> tuple[str, str]:
    """(how the text writes it, canonical "100000.00")."""
    canon = f"{yuan}.00"
    s = style % 6
    if s == 0:
        return f"{yuan}元", canon
    if s == 1:
        return f"{yuan:,}.00元", canon
    if s == 2 and yuan % 10_000 == 0 and yuan < 1_000_000:
        return f"{_cn_wan(yuan // 10_000)}万元", canon
    if s == 3 and yuan % 1000 == 0:
        return f"{yuan / 10_000:g}万元", canon
    if s == 4 and yuan % 10_000 == 0 and yuan < 1_000_000:
        upper = _cn_wan(yuan // 10_000).translate(
            str.maketrans("一二三四五六七八九十", "壹贰叁肆伍陆柒捌玖拾")
        )
        return f"{upper}万元整", canon
    return f"人民币{yuan}元", canon


def _cn_wan(n: int) -> str:
    """1..99 as 一 … 九十九 (the count of 万)."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else CN_DIGITS[tens] + "十")
    return head + (CN_DIGITS[ones] if ones else "") if n >= 10 else CN_DIGITS[n]


@dataclass
class Person:
    name: str
    id_number: str
    male: bool
    birth: dt.date
    address: str


@dataclass
class Suit:
    plaintiff: Person | str  # a bank is a name (str)
    defendant: Person
    cause: str
    judged: dt.date
    public_notice: bool
    absent: bool
    principal: int


class Gen:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.ids: set[str] = set()
        self.names: set[str] = set()
        self.case_no: dict[tuple[str, int], int] = {}

    def person(self) -> Person:
        r = self.rng
        while True:
            birth = dt.date(r.randint(1955, 2000), r.randint(1, 12), r.randint(1, 28))
            pid = make_id(birth, r.randint(1, 999))
            name = r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2, 2))))
            if pid not in self.ids and name not in self.names:
                self.ids.add(pid)
                self.names.add(name)
                break
        male = int(pid[16]) % 2 == 1
        addr = f"{CITY}{r.choice(['临川区', '东湖区', '西山县'])}{r.choice(STREETS)}{r.choice(ROADS)}{r.randint(1, 500)}号"
        return Person(name, pid, male, birth, addr)

    def date_in(self, a: dt.date, b: dt.date) -> dt.date:
        return a + dt.timedelta(days=self.rng.randint(0, (b - a).days))

    def amount(self) -> int:
        r = self.rng
        return r.choice(
            [r.randint(1, 60) * 10_000, r.randint(5, 300) * 1000, r.randint(2000, 99999)]
        )


def plan(g: Gen, n: int) -> tuple[list[Suit], list[tuple[str, str, str, str, str]]]:
    """The suits: planted subjects, decoys, background; and the ground truth rows."""
    r = g.rng
    suits: list[Suit] = []
    truth: list[tuple[str, str, str, str, str]] = []
    n_planted = max(2, n // 150)
    for _ in range(n_planted):
        p = g.person()
        k = r.randint(10, 18)
        start = g.date_in(START, END - dt.timedelta(days=365))
        n_public = max(int(k * 0.6) + 1, k - r.randint(0, 3))
        for j in range(k):
            pub = j < n_public
            suits.append(
                Suit(
                    p,
                    g.person(),
                    "民间借贷纠纷",
                    g.date_in(start, start + dt.timedelta(days=330)),
                    pub,
                    pub,
                    g.amount(),
                )
            )
        truth.append(
            (
                MODEL_ID,
                p.id_number,
                p.name,
                "hit",
                f"十二个月内作为原告提起民间借贷诉讼{k}件，其中{n_public}件公告送达、缺席判决",
            )
        )
    for _ in range(max(1, n_planted // 2)):
        # decoy: as many suits, but served in person and the defendants came
        p = g.person()
        k = r.randint(10, 16)
        start = g.date_in(START, END - dt.timedelta(days=365))
        for _ in range(k):
            suits.append(
                Suit(
                    p,
                    g.person(),
                    "民间借贷纠纷",
                    g.date_in(start, start + dt.timedelta(days=330)),
                    False,
                    False,
                    g.amount(),
                )
            )
        truth.append(
            (
                MODEL_ID,
                p.id_number,
                p.name,
                "no-hit",
                f"民间借贷诉讼{k}件均直接送达、被告到庭（非公告送达、非缺席）",
            )
        )
        # decoy: many suits over three years, never ten in twelve months
        p = g.person()
        k = 12
        for j in range(k):
            d = START + dt.timedelta(days=j * 90 + r.randint(0, 20))
            suits.append(Suit(p, g.person(), "民间借贷纠纷", d, True, True, g.amount()))
        truth.append(
            (
                MODEL_ID,
                p.id_number,
                p.name,
                "no-hit",
                "民间借贷诉讼12件分散在三年内，任意十二个月不足10件",
            )
        )
        # decoy: below the threshold
        p = g.person()
        start = g.date_in(START, END - dt.timedelta(days=365))
        for _ in range(8):
            suits.append(
                Suit(
                    p,
                    g.person(),
                    "民间借贷纠纷",
                    g.date_in(start, start + dt.timedelta(days=300)),
                    True,
                    True,
                    g.amount(),
                )
            )
        truth.append(
            (MODEL_ID, p.id_number, p.name, "no-hit", "十二个月内民间借贷诉讼8件，不足10件")
        )
    # decoy: a bank with many suits by public notice (金融借款, not 民间借贷)
    bank = f"{CITY}农村商业银行股份有限公司临川支行"
    start = g.date_in(START, END - dt.timedelta(days=365))
    for _ in range(max(12, n_planted * 3)):
        suits.append(
            Suit(
                bank,
                g.person(),
                "金融借款合同纠纷",
                g.date_in(start, start + dt.timedelta(days=300)),
                True,
                True,
                g.amount(),
            )
        )
    truth.append((MODEL_ID, "", bank, "no-hit", "银行作为原告的金融借款合同纠纷（非民间借贷）"))
    # background: one to three suits each
    weights = [w for _, w in BACKGROUND_CAUSES]
    causes = [c for c, _ in BACKGROUND_CAUSES]
    while len(suits) < n:
        p = g.person()
        for _ in range(r.choice((1, 1, 1, 2, 3))):
            pub = r.random() < 0.15
            cause = r.choices(causes, weights)[0]
            suits.append(
                Suit(
                    p,
                    g.person(),
                    cause,
                    g.date_in(START, END),
                    pub,
                    pub or r.random() < 0.05,
                    g.amount(),
                )
            )
    r.shuffle(suits)
    return suits, truth


def party_line(role: str, p: Person, r: random.Random, colon: bool) -> str:
    sep = "：" if colon else ""
    sex = "男" if p.male else "女"
    birth = f"{p.birth.year}年{p.birth.month}月{p.birth.day}日出生"
    pid = p.id_number
    shown = pid if r.random() < 0.5 else f"{pid[:3]}{'*' * 11}{pid[-4:]}"
    idpart = f"，公民身份号码{shown}" if r.random() < 0.85 else ""
    return f"{role}{sep}{p.name}，{sex}，{birth}，汉族，住{p.address}{idpart}。"


def render(s: Suit, court: tuple[str, str], seq: int, r: random.Random) -> tuple[str, bool]:
    """The judgment text (paragraphs joined by newlines) and whether it has a 案号."""
    name, code = court
    year = s.judged.year if s.judged.month > 2 else s.judged.year - 1
    brackets = r.choice([("（", "）"), ("(", ")"), ("（", "）"), ("〔", "〕")])
    case_no = f"{brackets[0]}{year}{brackets[1]}{code}民初{seq}号"
    if r.random() < 0.08:
        case_no = case_no.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    has_case_no = r.random() >= 0.01
    title = r.choice(["民事判决书", "民 事 判 决 书", "民  事  判  决  书"])
    plaintiff = s.plaintiff
    p_name = plaintiff if isinstance(plaintiff, str) else plaintiff.name
    d = s.defendant
    colon = r.random() < 0.8
    lines = [name, title]
    if has_case_no:
        lines.append(case_no)
    if isinstance(plaintiff, str):
        lines.append(f"原告{'：' if colon else ''}{plaintiff}，住所地{CITY}临川区人民路88号。")
        lines.append(f"负责人：{r.choice(SURNAMES)}{r.choice(GIVEN)}，该支行行长。")
    else:
        lines.append(party_line("原告", plaintiff, r, colon))
    agent = None
    if r.random() < 0.75:
        agent = r.choice(SURNAMES) + r.choice(GIVEN) + r.choice(GIVEN)
        lines.append(f"委托诉讼代理人{'：' if colon else ''}{agent}，{r.choice(LAW_FIRMS)}律师。")
    lines.append(party_line("被告", d, r, colon))
    filed = s.judged - dt.timedelta(days=r.randint(30, 120))
    if s.public_notice:
        service = f"被告{d.name}经本院公告送达起诉状副本、应诉通知书及开庭传票"
    else:
        service = f"本院向被告{d.name}{r.choice(['直接送达', '邮寄送达'])}了起诉状副本及开庭传票"
    if s.absent:
        attend = r.choice(
            [
                f"被告{d.name}无正当理由拒不到庭参加诉讼，本院依法缺席审理",
                f"被告{d.name}未到庭参加诉讼，本院依法缺席判决",
            ]
        )
        present = f"原告{p_name}{'及其委托诉讼代理人' + agent if agent else ''}到庭参加诉讼"
        attend = present + "，" + attend
    else:
        attend = (
            f"原告{p_name}{'及其委托诉讼代理人' + agent if agent else ''}、被告{d.name}到庭参加诉讼"
        )
    lines.append(
        f"原告{p_name}与被告{d.name}{s.cause}一案，本院于{filed.year}年{filed.month}月{filed.day}日立案后，"
        f"依法适用简易程序，公开开庭进行了审理。{service}。{attend}。本案现已审理终结。"
    )
    amount_text, _ = cn_amount(s.principal, r.randint(0, 5))
    if s.cause in ("民间借贷纠纷", "金融借款合同纠纷"):
        claim = f"1.判令被告归还借款本金{amount_text}及利息；2.本案诉讼费用由被告负担。"
        facts = f"经审理查明：被告于{filed.year - 1}年向原告借款{amount_text}，约定年利率{r.choice([6, 12, 15, 24])}%，到期未还。"
        ruling = (
            f"一、被告{d.name}于本判决生效之日起十日内归还原告{p_name}借款本金{amount_text}及利息；"
        )
    elif s.cause in ("劳动争议", "追索劳动报酬纠纷"):
        claim = f"1.判令被告支付拖欠的劳动报酬{amount_text}；2.本案诉讼费用由被告负担。"
        facts = "经审理查明：原告在被告处工作，被告未足额支付劳动报酬。"
        ruling = f"一、被告{d.name}于本判决生效之日起十日内支付原告{p_name}劳动报酬{amount_text}；"
    else:
        claim = f"1.判令被告支付货款{amount_text}；2.本案诉讼费用由被告负担。"
        facts = "经审理查明：原、被告之间存在合同关系，被告未按约履行付款义务。"
        ruling = f"一、被告{d.name}于本判决生效之日起十日内支付原告{p_name}款项{amount_text}；"
    lines.append(f"原告{p_name}向本院提出诉讼请求：{claim}")
    lines.append(facts)
    if r.random() < 0.95:
        lines.append(
            "本院认为，合法的债权债务关系受法律保护。原告提交的证据能够证明其主张，本院予以支持。"
            "依照《中华人民共和国民法典》第六百七十五条、《中华人民共和国民事诉讼法》第一百四十七条之规定，判决如下："
        )
    else:
        lines.append("依照《中华人民共和国民事诉讼法》第一百四十七条之规定，判决如下：")
    lines.append(ruling)
    lines.append(f"案件受理费{max(50, s.principal // 50)}元，减半收取，由被告{d.name}负担。")
    lines.append(
        "如不服本判决，可以在判决书送达之日起十五日内，向本院递交上诉状，并按对方当事人的人数提出副本，"
        f"上诉于{CITY}中级人民法院。"
    )
    lines.append(f"审判员{r.choice(['　', ' ', '  '])}{r.choice(JUDGES)}")
    lines.append(cn_date(s.judged, r.randint(0, 50)))
    lines.append(f"书记员{r.choice(['　', ' '])}{r.choice(JUDGES)}")
    return "\n".join(lines), has_case_no


def wrap(text: str, width: int) -> str:
    """Hard-wrap every paragraph at `width` characters (fixed-width exports do this)."""
    out = []
    for para in text.split("\n"):
        out.extend(para[i : i + width] for i in range(0, len(para), width))
    return "\n".join(out)


def docx_bytes(paragraphs: list[str]) -> bytes:
    """A minimal .docx (WordprocessingML): one w:p per paragraph."""
    import io

    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(
        f'<w:p><w:r><w:t xml:space="preserve">{html.escape(p, quote=False)}</w:t></w:r></w:p>'
        for p in paragraphs
    )
    doc = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{ns}"><w:body>{body}</w:body></w:document>'
    types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
        "</Relationships>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", rels)
        z.writestr("word/document.xml", doc)
    return buf.getvalue()


def html_bytes(paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{html.escape(p)}</p>\n" for p in paragraphs)
    return f'<html><head><meta charset="utf-8"><title>{html.escape(paragraphs[1])}</title></head><body>\n{body}</body></html>'.encode()


def generate(out: Path, n: int = 600, seed: int = 13) -> dict[str, int]:
    """Write the judgments and the ground truth under `out`; returns counts by format."""
    g = Gen(seed)
    r = g.rng
    suits, truth = plan(g, n)
    folder = out / "judgments"
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    seqs: dict[tuple[str, int], int] = {}
    for k, s in enumerate(suits):
        court = r.choice(COURTS)
        key = (court[1], s.judged.year)
        seqs[key] = seqs.get(key, r.randint(100, 900)) + r.randint(1, 7)
        text, _ = render(s, court, seqs[key], r)
        fmt = r.choices(["txt", "gbk", "docx", "html"], [70, 15, 10, 5])[0]
        stem = f"{court[1].replace('滨', 'B')}_{s.judged:%Y%m%d}_{k:06d}"
        if fmt == "txt":
            if r.random() < 0.25:
                text = wrap(text, r.randint(30, 40))
            nl = "\r\n" if r.random() < 0.3 else "\n"
            (folder / f"{stem}.txt").write_bytes(text.replace("\n", nl).encode("utf-8"))
        elif fmt == "gbk":
            (folder / f"{stem}.txt").write_bytes(text.replace("\n", "\r\n").encode("gbk"))
        elif fmt == "docx":
            (folder / f"{stem}.docx").write_bytes(docx_bytes(text.split("\n")))
        else:
            (folder / f"{stem}.html").write_bytes(html_bytes(text.split("\n")))
        counts[fmt] = counts.get(fmt, 0) + 1
    with (out / "judgments_ground_truth.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["model_id", "subject_id", "subject_name", "expected", "why"])
        w.writerows(truth)
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("-n", type=int, default=600, help="number of judgments (default 600)")
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    counts = generate(args.out, args.n, args.seed)
    print(f"{sum(counts.values())} judgments in {args.out / 'judgments'}: {counts}")


if __name__ == "__main__":
    main()
