"""Seeded generator of the agency extracts the shipped models run on, with known answers.

Everything lives in one fictional district, 滨江市临川区 (area code 339012, invented). Each model gets
planted violations that must be found and near-misses (decoys) that must not; both are written to
`ground_truth.csv`. Background rows are generated so that they never trigger a model, so any hit that
is not a planted case is a false positive.

Files come in the formats agencies send: GBK CSV from the water company, .xlsx with a title row and a
合计 row from the market regulator, UTF-8 (with or without BOM) and GB18030 CSV from the others, with
realistic noise (full-width digits, lower-case x, 15-digit IDs, spaces in names, bracket and suffix
variants, mixed date and money formats, a few Excel-mangled IDs that ingest must reject).

    python sample_data/generate.py                        # the committed sample, into sample_data/
    python sample_data/generate.py --scale 10000000 --out /tmp/big   # 10 M bill rows for bench/

Above COLLIDE_GEN_CHUNK rows (default 3 M) the water bills and pension payments are made and
written chunk by chunk, with the same bytes as one frame, so memory stays bounded in those tables.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter
from stdnum.cn import uscc

HERE = Path(__file__).resolve().parent
AREA = "339012"  # 滨江市临川区 — invented, not a real GB/T 2260 code
CITY, DISTRICT = "滨江市", "临川区"
AS_OF = dt.date(2024, 12, 31)  # 数据截止日 of every extract
PERIODS = [f"{y}{m:02d}" for y in (2023, 2024) for m in range(1, 13)]
DEFAULT_BILLS = 28_000  # bill rows of the committed sample (≈ 1,170 accounts × 24 months)

STREETS = ["城关街道", "东湖街道", "西山街道", "南塘街道", "北津镇", "柳溪镇", "青石镇", "白沙乡"]
ROADS = ["人民路", "解放路", "新华路", "建设路", "文昌路", "滨江大道", "湖滨路", "学府路", "工业路",
         "朝阳街", "青年路", "和平路", "胜利路", "长安路", "迎宾大道", "健康路"]  # fmt: skip
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉力斌波宇浩凯鹏飞鑫婷雪琳晨阳佳俊峰志林云海亮成龙春梅兵东晓燕慧宁欣"
)
HOMOPHONE = {"伟": "玮", "芳": "方", "丽": "莉", "明": "铭", "华": "化", "军": "君", "静": "婧",
             "杰": "洁", "红": "宏", "国": "帼", "建": "健", "文": "雯", "林": "琳", "峰": "锋",
             "海": "每", "平": "萍", "玉": "钰", "涛": "滔", "云": "芸", "春": "椿", "飞": "菲",
             "宇": "雨", "鹏": "朋", "志": "智", "成": "诚", "东": "冬", "亮": "靓", "斌": "彬",
             "强": "蔷", "勇": "永", "超": "朝", "洋": "阳", "霞": "侠", "燕": "雁", "辉": "晖",
             "敏": "民", "娜": "那", "磊": "垒", "娟": "绢", "秀": "琇", "桂": "贵", "英": "瑛",
             "兰": "岚", "萍": "苹", "力": "立", "波": "博", "浩": "皓", "凯": "恺", "鑫": "新",
             "婷": "亭", "雪": "血", "琳": "林", "晨": "辰", "阳": "洋", "佳": "嘉", "俊": "骏",
             "龙": "隆", "梅": "玫", "兵": "冰", "晓": "筱", "慧": "惠", "宁": "凝", "欣": "馨"}  # fmt: skip
BRANDS = ["鑫源", "恒达", "宏泰", "金盛", "聚福", "瑞丰", "永兴", "华盛", "兴旺", "佳美", "福满",
          "顺发", "天和", "润泽", "德隆", "祥瑞", "安康", "百味", "东方", "新世纪", "锦绣", "明珠",
          "悦来", "红星", "银河", "长青", "万家", "新城", "龙腾", "凤凰", "富源", "康达", "众诚",
          "嘉禾", "晨光", "海纳", "同心", "益民", "绿源", "汇丰", "大众", "金鼎", "盛世", "友谊"]  # fmt: skip
TRADES = [("餐饮", "餐饮服务"), ("洗车", "机动车清洗服务"), ("洗浴", "洗浴服务"),
          ("食品加工", "食品生产加工"), ("酒店", "住宿服务"), ("美容美发", "理发及美容服务"),
          ("纺织", "纺织品制造"), ("印染", "印染加工"), ("建材", "建材批发零售"),
          ("商贸", "日用百货零售"), ("五金", "五金产品零售"), ("科技", "技术服务")]  # fmt: skip
_ID_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
FW = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def fullwidth(s: str) -> str:
    return s.translate(FW)


# --------------------------------------------------------------------------- identifiers


def id_check(body17: str) -> str:
    """GB 11643 check character: ISO 7064 MOD 11-2 over the first 17 digits."""
    return "10X98765432"[sum(int(c) * w for c, w in zip(body17, _ID_W)) % 11]


def make_id(birth: dt.date, seq: int, area: str = AREA) -> str:
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + id_check(body)


def id15(id18: str) -> str:
    """The legacy 15-digit form of an 18-digit ID born in the 1900s."""
    return id18[:6] + id18[8:17]


def org_code(n: int) -> str:
    body = f"{n:08d}"
    w = [3, 7, 9, 10, 5, 8, 4, 2]
    c = 11 - sum(int(ch) * wi for ch, wi in zip(body, w)) % 11
    return body + {10: "X", 11: "0"}.get(c, str(c))


def make_uscc(kind: str, n: int) -> str:
    """kind: '91' enterprise, '92' 个体工商户, '11' 机关, '12' 事业单位, '52' 民办非企业."""
    body = f"{kind}{AREA}{org_code(n)}"
    return body + uscc.calc_check_digit(body)


def mangle(id18: str) -> str:
    """What Excel does to an 18-digit ID stored as a number: the last 3 digits become 000."""
    return id18[:15] + "000" if id18[-1] != "X" else f"{int(id18[:17]) / 10:.5E}"


def fmt_date(d: dt.date | None, style: int) -> str:
    if d is None:
        return ""
    return [
        f"{d:%Y-%m-%d}",
        f"{d.year}/{d.month}/{d.day}",
        f"{d:%Y.%m.%d}",
        f"{d:%Y%m%d}",
        f"{d.year}年{d.month}月{d.day}日",
    ][style % 5]


def fmt_money(x: float, style: int) -> str:
    return [f"{x:.2f}", f"{x:,.2f}", f"{x:.2f}元", f"￥{x:.2f}"][style % 4]


def add_days(d: dt.date, n: int) -> dt.date:
    return d + dt.timedelta(days=n)


def add_months(d: dt.date, n: int) -> dt.date:
    m = d.month - 1 + n
    y = d.year + m // 12
    m = m % 12 + 1
    last = [31, 29 if y % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
    return dt.date(y, m, min(d.day, last))


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    rng: random.Random
    tables: dict[str, list[dict]] = field(default_factory=dict)
    truth: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    _ids: set[str] = field(default_factory=set)
    _org_n: int = 10_000_000
    org_step: int = 997  # widest gap between two organisation codes; generate() narrows it
    _addr_used: set[tuple[str, int]] = field(default_factory=set)
    max_house_no: int = 999
    _names_used: set[str] = field(default_factory=set)
    _counters: dict[str, int] = field(default_factory=dict)

    def rows(self, table: str) -> list[dict]:
        return self.tables.setdefault(table, [])

    def next(self, key: str, start: int = 1) -> int:
        n = self._counters.get(key, start - 1) + 1
        self._counters[key] = n
        return n

    def gt(self, model: str, subject: str, name: str, expected: str, why: str) -> None:
        self.truth.append((model, subject, name, expected, why))

    # people
    def person(self, y0: int = 1950, y1: int = 1998, name: str | None = None) -> tuple[str, str]:
        r = self.rng
        tries = 0
        while True:
            birth = dt.date(r.randint(y0, y1), r.randint(1, 12), r.randint(1, 28))
            pid = make_id(birth, r.randint(1, 999))
            if pid not in self._ids:
                self._ids.add(pid)
                break
            tries += 1
            if tries > 10_000:  # one area code holds 999 people per birth date
                raise SystemExit(
                    f"--scale too large: the ID numbers of area {AREA} born {y0}–{y1} ran out"
                )
        if name is None:
            name = r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2, 2))))
        return name, pid

    # organisations
    def uscc(self, kind: str = "91") -> str:
        self._org_n += self.rng.randint(1, self.org_step)
        if self._org_n > 99_999_999:  # the organisation code has 8 digits before its check
            raise SystemExit("--scale too large: the 8-digit organisation codes ran out")
        return make_uscc(kind, self._org_n)

    def org_name(self, trade: str, individual: bool = False) -> str:
        r = self.rng
        tries = 0
        while True:
            brand = r.choice(BRANDS) + r.choice(["", "", r.choice(GIVEN)])
            tries += 1
            if tries > 20:  # large --scale: the short names run out, use longer trade names
                brand += r.choice(GIVEN) + r.choice(GIVEN) + (str(tries) if tries > 200 else "")
            if individual:
                name = f"{DISTRICT}{r.choice(SURNAMES)}记{brand}{trade}店"
            else:
                name = f"{CITY}{DISTRICT}{brand}{trade}有限公司"
            if name not in self._names_used:
                self._names_used.add(name)
                return name

    def address(self, street: str | None = None) -> tuple[str, str, str, int]:
        """A street address unique on (road, number), so one 门牌 is one premises."""
        r = self.rng
        while True:
            s = street or r.choice(STREETS)
            road = r.choice(ROADS)
            n = r.randint(1, self.max_house_no)
            if (road, n) not in self._addr_used:
                self._addr_used.add((road, n))
                return f"{CITY}{DISTRICT}{s}{road}{n}号", s, road, n

    def home(self) -> str:
        """A residential address in a housing estate (小区), no street number."""
        r = self.rng
        return (f"{CITY}{DISTRICT}{r.choice(STREETS)}{r.choice(BRANDS)}{r.choice(['花园', '小区', '新村', '家园'])}"
                f"{r.randint(1, 30)}栋{r.randint(1, 3)}单元{r.randint(1, 30)}0{r.randint(1, 4)}室")  # fmt: skip

    def typo(self, name: str) -> str:
        """Replace one character by a homophone (the way a clerk mistypes with pinyin input)."""
        idx = [i for i, ch in enumerate(name) if ch in HOMOPHONE]
        if not idx:
            return name
        i = idx[len(idx) // 2]
        return name[:i] + HOMOPHONE[name[i]] + name[i + 1 :]


# --------------------------------------------------------------------------- water


def gen_water(w: World, n_bills: int) -> BillChunks:
    """Accounts (GBK CSV), organisation registry (xlsx), business licences (xlsx), bills (GBK CSV).

    Returns the background bills as BillChunks (vectorised so --scale 10M stays fast, made in
    chunks so --scale 100M fits in memory); planted bills are in w.tables["water_bills"].
    """
    r = w.rng
    acc = w.rows("water_accounts")
    orgs = w.rows("org_registry")
    biz = w.rows("business_licences")

    def account(holder, uscc_, addr, rate, opened, status="正常", phone=None):
        no = f"LC{w.next('acct', 100001):07d}"
        acc.append({"户号": no, "户名": holder, "统一社会信用代码": uscc_ or "", "用水地址": addr,
                    "用水性质": rate, "开户日期": fmt_date(opened, r.randint(0, 4)),
                    "账户状态": status,
                    "联系电话": phone or f"1{r.choice('3578')}{r.randint(100000000, 999999999)}"})  # fmt: skip
        return no

    def org_reg(name, uscc_, kind, addr, dept):
        orgs.append({"单位名称": name, "统一社会信用代码": uscc_, "单位类型": kind,
                     "主管部门": dept, "单位地址": addr})  # fmt: skip

    def licence(name, uscc_, addr, trade, scope, est, status="存续", rep=None, cancelled=None):
        rep = rep or w.person(1960, 1995)
        biz.append({"企业名称": name, "统一社会信用代码": uscc_,
                    "市场主体类型": "个体工商户" if uscc_.startswith("92") else "有限责任公司",
                    "法定代表人": rep[0], "法定代表人证件号码": rep[1], "住所": addr,
                    "行业": trade, "经营范围": scope, "成立日期": est, "登记状态": status,
                    "注销日期": cancelled})  # fmt: skip

    planted_bills = w.rows("water_bills")

    def bills(no, usage_by_period, price, paid_mask=None, pay_late=False, money_style=None):
        for i, p in enumerate(PERIODS):
            u = usage_by_period[i]
            if u is None:
                continue
            y, m = int(p[:4]), int(p[4:])
            read = dt.date(y, m, 20)
            due = round(u * price, 2)
            paid = due if (paid_mask is None or paid_mask[i]) else 0.0
            paid_on = add_days(read, r.randint(40, 90) if pay_late else r.randint(3, 20))
            ms = r.randint(0, 3) if money_style is None else money_style
            planted_bills.append({"户号": no, "账期": p, "抄表日期": fmt_date(read, i),
                                  "用水量（吨）": f"{u:.1f}", "单价": f"{price:.2f}",
                                  "应缴金额": fmt_money(due, ms), "实缴金额": fmt_money(paid, ms),
                                  "缴费日期": fmt_date(paid_on, i + 1) if paid else ""})  # fmt: skip

    NONRES, RES, PUB = 6.10, 3.40, 4.95  # yuan per tonne
    model = "water_arrears_public_units"
    units = [
        ("机关", "11", "区财政局"),
        ("事业单位", "12", "区教育局"),
        ("国有企业", "91", "区国资办"),
    ]

    def public_unit(kind_ix, label):
        kind, code, dept = units[kind_ix]
        u_ = w.uscc(code)
        name = {"机关": f"{CITY}{DISTRICT}{label}",
                "事业单位": f"{CITY}{DISTRICT}{label}",
                "国有企业": f"{CITY}{DISTRICT}{label}有限公司"}[kind]  # fmt: skip
        addr = w.address()[0]
        org_reg(name, u_, kind, addr, dept)
        if kind == "国有企业":
            licence(name, u_, addr, "商贸", "国有资产经营", fmt_date(dt.date(2005, 3, 1), 0))
        return name, u_, addr

    def arrears_mask(last_unpaid: int):
        return [i < len(PERIODS) - last_unpaid for i in range(len(PERIODS))]

    # planted: public units with arrears >= 3 months and >= 1000 yuan
    hits = [(0, "农业农村局", 6, 180.0, ""), (1, "第二实验小学", 9, 260.0, ""),
            (2, "城市建设投资集团", 4, 420.0, ""), (1, "人民医院", 12, 900.0, "nouscc"),
            (0, "自然资源局", 3, 95.0, "fullwidth"), (1, "疾病预防控制中心", 5, 120.0, "two")]  # fmt: skip
    for kind_ix, label, months, usage, quirk in hits:
        name, u_, addr = public_unit(kind_ix, label)
        price = PUB
        holder, hu = name, u_
        why = f"{units[kind_ix][0]}欠缴水费{months}个月"
        if quirk == "nouscc":
            holder, hu = name.replace("人民医院", "人民医院（总院）"), ""
            why += "；水务档案无信用代码，按单位名称（括号变体）关联"
        if quirk == "fullwidth":
            hu = fullwidth(u_).lower()
            why += "；信用代码为全角小写"
        no = account(holder, hu, addr, "非居民", dt.date(2010, 1, 5))
        bills(no, [usage] * 24, price, arrears_mask(months))
        if quirk == "two":
            no2 = account(name, u_, w.address()[0], "非居民", dt.date(2015, 6, 1))
            bills(no2, [40.0] * 24, price, arrears_mask(2))
            why += "；两个户号合计"
        w.gt(model, u_, name, "hit", why)
    # decoys
    name, u_, addr = public_unit(1, "第三中学")
    no = account(name, u_, addr, "非居民", dt.date(2011, 2, 1))
    bills(no, [300.0] * 24, PUB, arrears_mask(2))
    w.gt(model, u_, name, "no-hit", "仅欠缴2个月，未达3个月")
    name, u_, addr = public_unit(0, "档案馆")
    no = account(name, u_, addr, "非居民", dt.date(2011, 2, 1))
    bills(no, [15.0] * 24, PUB, arrears_mask(8))
    w.gt(model, u_, name, "no-hit", "欠缴8个月但合计不足1000元")
    name, u_, addr = public_unit(1, "图书馆")
    no = account(name, u_, addr, "非居民", dt.date(2011, 2, 1))
    bills(no, [200.0] * 24, PUB, None, pay_late=True)
    w.gt(model, u_, name, "no-hit", "缴费逾期但已全部缴清，无欠费")
    pname = w.org_name("建材")
    pu = w.uscc("91")
    paddr = w.address()[0]
    licence(pname, pu, paddr, "建材", "建材批发零售", fmt_date(dt.date(2012, 4, 1), 1))
    no = account(pname, pu, paddr, "非居民", dt.date(2012, 5, 1))
    bills(no, [200.0] * 24, NONRES, arrears_mask(10))
    w.gt(model, pu, pname, "no-hit", "民营企业欠费，不属于国有/机关事业单位")

    # ---- water_business_zero_use
    model = "water_business_zero_use"

    def biz_with_account(trade_ix, individual, est, water_name=None, water_addr=None, rate="非居民",
                         usage=None, status="存续", cancelled=None, acct_uscc=False):  # fmt: skip
        trade, scope = TRADES[trade_ix]
        name = w.org_name(trade, individual)
        u_ = w.uscc("92" if individual else "91")
        addr = w.address()[0]
        licence(name, u_, addr, trade, scope, est, status, cancelled=cancelled)
        no = account(
            water_name or name,
            u_ if acct_uscc else "",
            water_addr or addr,
            rate,
            dt.date(2015, 1, 10),
        )
        if usage is not None:
            bills(no, usage, RES if rate == "居民生活" else NONRES)
        return name, u_, addr, no

    streak = "water_zero_use_streak"  # the polars-rule model: runs of zero-use months per account
    zero12 = [30.0] * 12 + [0.0] * 12
    name, u_, addr, no = biz_with_account(0, False, "2016-03-08", usage=zero12)
    w.gt(model, u_, name, "hit", "经营中的餐饮企业近12个月用水量为0")
    w.gt(streak, no, name, "hit", "非居民户号连续12个月零用水")
    # bracket / suffix variant in the water company's file
    trade, scope = TRADES[2]
    name = w.org_name(trade)
    u_ = w.uscc("91")
    addr, *_ = w.address()
    licence(name, u_, addr, trade, scope, "2017年9月1日")
    wname = name.replace("有限公司", "有限责任公司（临川店）")
    licence_addr = addr
    no = account(
        wname.replace("（", "(").replace("）", ")"),
        "",
        fullwidth(licence_addr),
        "非居民",
        dt.date(2017, 10, 1),
    )
    bills(no, [55.0] * 16 + [0.0] * 8, NONRES)
    w.gt(
        streak, no, wname.replace("（", "(").replace("）", ")"), "hit", "非居民户号连续8个月零用水"
    )
    w.gt(
        model, u_, name, "hit", "水务户名为“有限责任公司(临川店)”变体、地址全角数字；近8个月零用水"
    )
    # homophone typo in the water holder name, residential rate
    trade, scope = TRADES[0]
    name = w.org_name(trade, True)
    while w.typo(name) == name:
        name = w.org_name(trade, True)
    u_ = w.uscc("92")
    addr, *_ = w.address()
    licence(name, u_, addr, trade, scope, "2020.04.15")
    no = account(w.typo(name), "", addr, "居民生活", dt.date(2020, 5, 1))
    bills(no, [22.0] * 24, RES)
    w.gt(model, u_, name, "hit", "餐饮店按居民生活水价计费24个月（户名有同音错字）")
    # residential rate, hotel
    name, u_, addr, _ = biz_with_account(4, False, "2018-01-20", rate="居民生活", usage=[80.0] * 24)
    w.gt(model, u_, name, "hit", "酒店按居民生活水价计费")
    # zero for 6 months exactly
    name, u_, addr, no = biz_with_account(3, False, "2014-11-11", usage=[40.0] * 18 + [0.0] * 6)
    w.gt(model, u_, name, "hit", "食品加工企业连续6个月零用水（恰达阈值）")
    w.gt(streak, no, name, "hit", "连续6个月零用水（恰达阈值）")
    # decoys
    name, u_, addr, no = biz_with_account(0, True, "2016-05-05", usage=[30.0] * 19 + [0.0] * 5)
    w.gt(model, u_, name, "no-hit", "零用水仅5个月，未达6个月")
    w.gt(streak, no, name, "no-hit", "连续零用水仅5个月，未达6个月")
    name, u_, addr, no = biz_with_account(1, True, "2015-05-05", usage=[0.0] * 24, status="注销",
                                          cancelled="2022-12-30")  # fmt: skip
    w.gt(model, u_, name, "no-hit", "营业执照已注销，不在经营")
    w.gt(streak, no, name, "hit", "执照已注销但水务户号未销户，连续24个月零用水（户号口径）")
    name, u_, addr, no = biz_with_account(5, True, "2024-09-01", usage=[1.0] * 20 + [0.0] * 4)
    w.gt(model, u_, name, "no-hit", "2024年9月才成立，成立后的零用水月份不足6个月")
    w.gt(streak, no, name, "no-hit", "连续零用水仅4个月")
    # similar name, different address: the zero-use account belongs to someone else
    trade, scope = TRADES[0]
    name = w.org_name(trade, True)
    u_ = w.uscc("92")
    addr, *_ = w.address()
    licence(name, u_, addr, trade, scope, "2016-06-06")
    no = account(name, "", addr, "非居民", dt.date(2016, 7, 1))
    bills(no, [35.0] * 24, NONRES)
    other_addr, *_ = w.address()
    no = account(name, "", other_addr, "非居民", dt.date(2016, 7, 1))
    bills(no, [0.0] * 24, NONRES)
    w.gt(model, u_, name, "no-hit", "同名零用水户号位于另一地址，不是同一经营场所；本店用水正常")
    w.gt(streak, no, name, "hit", "另一地址的同名非居民户号连续24个月零用水")
    # same address, different name (e.g. the landlord's shop)
    trade, scope = TRADES[10]
    name = w.org_name(trade)
    u_ = w.uscc("91")
    addr, *_ = w.address()
    licence(name, u_, addr, trade, scope, "2013-02-02")
    holder = w.org_name("纺织")
    no = account(holder, "", addr, "非居民", dt.date(2013, 3, 1))
    bills(no, [0.0] * 24, NONRES)
    w.gt(model, u_, name, "no-hit", "同一地址的零用水户号是另一家企业，名称不相似，不能关联")
    w.gt(streak, no, holder, "hit", "非居民户号连续24个月零用水")
    # decoys of the streak model alone
    holder, _ = w.person()
    no = account(holder, "", w.home(), "居民生活", dt.date(2010, 1, 1))
    bills(no, [3.0] * 12 + [0.0] * 12, RES)
    w.gt(streak, no, holder, "no-hit", "居民生活用水户，不在本模型范围")
    holder = w.org_name("商贸")
    no = account(holder, "", w.address()[0], "非居民", dt.date(2011, 1, 1), status="已销户")
    bills(no, [20.0] * 12 + [0.0] * 12, NONRES)
    w.gt(streak, no, holder, "no-hit", "户号已销户")
    holder = w.org_name("五金")
    no = account(holder, "", w.address()[0], "非居民", dt.date(2011, 1, 1))
    bills(no, [20.0] * 12 + [0.0] * 5 + [8.0] + [0.0] * 5 + [9.0], NONRES)
    w.gt(streak, no, holder, "no-hit", "零用水被一个有用水的月份隔断，最长连续5个月")

    # ---- background: licensed businesses with normal use, persons, private units
    n_accounts = max(n_bills // 24, 200)
    n_biz = max(n_accounts // 6, 60)
    bg_acc: list[
        tuple[str, str, float, int, bool]
    ] = []  # account, rate, base usage, open ix, arrears
    for _ in range(n_biz):
        ti = r.randrange(len(TRADES))
        trade, scope = TRADES[ti]
        indiv = r.random() < 0.5
        name = w.org_name(trade, indiv)
        u_ = w.uscc("92" if indiv else "91")
        addr, *_ = w.address()
        est = dt.date(r.randint(2000, 2021), r.randint(1, 12), r.randint(1, 28))
        licence(name, u_, addr, trade, scope, fmt_date(est, r.randint(0, 4)))
        if r.random() < 0.85:
            holder = name if r.random() < 0.8 else name.replace("有限公司", "有限责任公司")
            no = account(holder, u_ if r.random() < 0.4 else "", addr, "非居民", est)
            bg_acc.append((no, "非居民", r.uniform(15, 200), 0, False))
    for i in range(12):  # public units paying on time
        name, u_, addr = public_unit(i % 3, f"第{i + 1}{'办公楼' if i % 3 == 0 else '管理所'}")
        no = account(name, u_, addr, "非居民", dt.date(2008, 1, 1))
        bg_acc.append((no, "非居民", r.uniform(50, 400), 0, False))
    while len(bg_acc) < n_accounts:
        if r.random() < 0.9:
            pname, _ = w.person()
            addr = w.home()
            opened = dt.date(r.randint(1998, 2024), r.randint(1, 12), r.randint(1, 28))
            no = account(pname, "", addr, "居民生活", opened)
            ix = max(0, (opened.year - 2023) * 12 + opened.month - 1) if opened.year >= 2023 else 0
            bg_acc.append((no, "居民生活", r.uniform(2, 25), min(ix, 23), False))
        else:  # unregistered private units (no licence in this extract), some in arrears
            no = account(w.org_name(r.choice(["商贸", "科技", "五金"])), "", w.address()[0],
                         "非居民", dt.date(2012, 1, 1))  # fmt: skip
            bg_acc.append((no, "非居民", r.uniform(10, 100), 0, r.random() < 0.3))

    # vectorised background bills, made chunk by chunk of accounts when there are many (see
    # BillChunks): the random columns are drawn from the same stream positions either way
    nprng = np.random.default_rng(r.randint(0, 2**31))
    return BillChunks(bg_acc, nprng, NONRES, RES)


def gen_chunk_rows() -> int:
    """Rows per chunk of the large background tables (env COLLIDE_GEN_CHUNK, default 3 M).

    A table with at most this many rows is made as one frame, exactly as before chunking, so the
    committed sample (28 k bills) is unchanged; a larger one is made and written chunk by chunk so
    that peak memory does not grow with --scale.
    """
    return max(24, int(os.environ.get("COLLIDE_GEN_CHUNK", "3000000")))


def _rng_at(state: dict, advance: int = 0) -> np.random.Generator:
    """A generator at `state` moved on by `advance` 64-bit draws (one per double drawn)."""
    bg = np.random.PCG64()
    bg.state = state
    if advance:
        bg.advance(advance)
    return np.random.Generator(bg)


class BillChunks:
    """The background water bills, as frames of whole accounts in account (户号) order.

    The single-frame version drew five random columns over all n rows one after the other
    (noise, zero, unpaid, style, delay). Here each column has its own generator placed where its
    column started in that one stream: a double takes exactly one 64-bit draw, so the float
    columns are reached with PCG64.advance; the two integer columns take a variable number of
    32-bit draws, so the delay column's start is found by drawing the style column once first.
    Drawing a column in pieces gives the same numbers as drawing it at once, so the rows are the
    same whatever the chunk size.
    """

    def __init__(self, bg_acc: list[tuple[str, str, float, int, bool]], nprng: np.random.Generator,
                 nonres: float, res: float) -> None:  # fmt: skip
        self.acc = bg_acc
        self.nonres, self.res = nonres, res
        self.n = sum(len(PERIODS) - a[3] for a in bg_acc)
        self.state = nprng.bit_generator.state

    def frames(self, chunk_rows: int | None = None):
        chunk_rows = chunk_rows or gen_chunk_rows()
        n = self.n
        g_noise, g_zero, g_unpaid = (_rng_at(self.state, k * n) for k in range(3))
        g_style = _rng_at(self.state, 3 * n)
        if n <= chunk_rows:
            g_delay = g_style  # one frame: delay is drawn right after style, as it always was
            per_chunk = max(len(self.acc), 1)
        else:
            skip = _rng_at(self.state, 3 * n)
            for i in range(0, n, chunk_rows):
                skip.integers(0, 5, min(chunk_rows, n - i))
            g_delay = _rng_at(skip.bit_generator.state)
            per_chunk = max(1, chunk_rows // len(PERIODS))  # whole accounts per chunk
        for i in range(0, len(self.acc), per_chunk):
            part = self.acc[i : i + per_chunk]
            yield self._frame(part, g_noise, g_zero, g_unpaid, g_style, g_delay)

    def _frame(self, part, g_noise, g_zero, g_unpaid, g_style, g_delay) -> pl.DataFrame:
        NONRES, RES = self.nonres, self.res
        a = pl.DataFrame(part, schema=["户号", "rate", "base", "open_ix", "arrears"], orient="row")
        per = pl.DataFrame({"账期": PERIODS, "pix": list(range(24))})
        b = a.join(per, how="cross").filter(pl.col("pix") >= pl.col("open_ix"))
        m = b.height
        noise = g_noise.uniform(0.6, 1.4, m)
        zero = g_zero.random(m) < 0.04
        unpaid = g_unpaid.random(m) < 0.35
        style = g_style.integers(0, 5, m)
        pay_delay = g_delay.integers(3, 25, m)
        b = b.with_columns(
            usage=pl.Series(noise) * pl.col("base"),
            zero=pl.Series(zero),
            unpaid=pl.Series(unpaid),
            style=pl.Series(style),
            delay=pl.Series(pay_delay),
        ).with_columns(
            usage=pl.when(pl.col("zero") & (pl.col("rate") == "居民生活"))
            .then(0.0)
            .otherwise(pl.col("usage"))
            .round(1),
            price=pl.when(pl.col("rate") == "居民生活").then(RES).otherwise(NONRES),
            read=pl.col("账期").str.to_date("%Y%m") + pl.duration(days=19),
        )
        b = b.with_columns(
            due=(pl.col("usage") * pl.col("price")).round(2),
            paid_ok=~(pl.col("arrears") & pl.col("unpaid")),
            paid_on=pl.col("read") + pl.duration(days=pl.col("delay")),
        )

        def dfmt(col: str) -> pl.Expr:
            c = pl.col(col)
            return (
                pl.when(pl.col("style") == 1)
                .then(c.dt.strftime("%Y/%-m/%-d"))
                .when(pl.col("style") == 2)
                .then(c.dt.strftime("%Y.%m.%d"))
                .when(pl.col("style") == 3)
                .then(c.dt.strftime("%Y%m%d"))
                .otherwise(c.dt.strftime("%Y-%m-%d"))
            )

        return b.select(
            "户号",
            "账期",
            dfmt("read").alias("抄表日期"),
            pl.col("usage").map_elements(lambda x: f"{x:.1f}", return_dtype=pl.String)
            if self.n < 200_000  # on the whole table's size, so a chunk formats like the rest
            else pl.col("usage").round(1).cast(pl.String),
            pl.col("price").round(2).cast(pl.String).alias("单价"),
            pl.col("due").cast(pl.String).alias("应缴金额"),
            pl.when(pl.col("paid_ok"))
            .then(pl.col("due"))
            .otherwise(0.0)
            .cast(pl.String)
            .alias("实缴金额"),
            pl.when(pl.col("paid_ok"))
            .then(dfmt("paid_on"))
            .otherwise(pl.lit(""))
            .alias("缴费日期"),
        ).rename({"usage": "用水量（吨）"})


# --------------------------------------------------------------------------- food safety

FOOD_CRIMES = ["生产、销售不符合安全标准的食品罪", "生产、销售有毒、有害食品罪"]
OTHER_CRIMES = ["盗窃罪", "危险驾驶罪", "诈骗罪", "故意伤害罪", "开设赌场罪", "寻衅滋事罪",
                "帮助信息网络犯罪活动罪", "交通肇事罪"]  # fmt: skip


def gen_food(w: World, scale: float) -> None:
    r = w.rng
    lic, hc, cj = w.rows("food_licences"), w.rows("health_certificates"), w.rows("court_judgments")
    model = "food_ban_licence_holder"

    def judgment(person, crime, penalty, months, effective, id_text=None, ban=""):
        n = w.next("case")
        judged = add_days(effective, -r.randint(12, 30))
        cj.append({"案号": f"（{effective.year}）浙0399刑初{n}号", "被告人": person[0],
                   "身份证号码": id_text or person[1], "罪名": crime, "主刑": penalty,
                   "刑期（月）": str(months) if months else "", "缓刑": "否", "从业禁止": ban,
                   "判决日期": fmt_date(judged, n), "生效日期": fmt_date(effective, n + 2),
                   "审理法院": "滨江市临川区人民法院"})  # fmt: skip

    def licence(person, issued, valid_to, status="有效", id_text=None, name_text=None):
        n = w.next("jy")
        trade = r.choice(["餐饮", "食品加工", "商贸"])
        org = w.org_name(trade, True)
        lic.append({"许可证编号": f"JY2{AREA}{n:07d}"[:16], "经营者名称": org,
                    "统一社会信用代码": w.uscc("92"), "法定代表人（负责人）": name_text or person[0],
                    "身份证号码": id_text or person[1], "经营场所": w.address()[0],
                    "主体业态": r.choice(["餐饮服务经营者", "食品销售经营者", "单位食堂"]),
                    "发证日期": issued, "有效期至": valid_to, "状态": status})  # fmt: skip

    def cert(person, exam: dt.date, employer=None):
        n = w.next("hc")
        hc.append({"证书编号": f"LCJK{exam.year}{n:06d}", "姓名": person[0], "身份证号": person[1],
                   "从业单位": employer or w.org_name("餐饮", True),
                   "从业类别": "食品生产经营", "体检日期": fmt_date(exam, n),
                   "有效期至": fmt_date(add_days(add_months(exam, 12), -1), n + 1)})  # fmt: skip

    def x_person():
        while True:
            p = w.person(1965, 1990)
            if p[1].endswith("X"):
                return p

    # planted
    p = w.person(1970, 1990)
    judgment(p, FOOD_CRIMES[0], "有期徒刑", 10, dt.date(2023, 6, 12))
    licence(p, dt.date(2023, 9, 1), dt.date(2028, 8, 31), id_text=fullwidth(p[1]))
    w.gt(
        model,
        p[1],
        p[0],
        "hit",
        "不符合安全标准的食品罪判处有期徒刑，仍任有效食品经营许可证负责人（证件号全角）",
    )
    p = w.person(1950, 1968)
    judgment(p, FOOD_CRIMES[1], "有期徒刑", 18, dt.date(2022, 11, 3), id_text=id15(p[1]))
    licence(p, dt.date(2021, 5, 10), dt.date(2026, 5, 9), name_text=" ".join(p[0]))
    w.gt(model, p[1], p[0], "hit", "有毒有害食品罪；判决书为15位旧身份证号；许可证负责人姓名带空格")
    p = w.person(1975, 1995)
    judgment(p, FOOD_CRIMES[0], "有期徒刑", 8, dt.date(2023, 2, 20))
    cert(p, dt.date(2024, 4, 8))
    w.gt(model, p[1], p[0], "hit", "食品犯罪判处有期徒刑后又办理食品从业人员健康证明")
    p = x_person()
    judgment(
        p, FOOD_CRIMES[1], "有期徒刑", 36, dt.date(2019, 12, 2), ban="禁止从事食品生产经营活动三年"
    )
    licence(p, dt.date(2024, 1, 15), dt.date(2029, 1, 14), id_text=p[1].lower())
    w.gt(model, p[1], p[0], "hit", "有毒有害食品罪有期徒刑三年；许可证证件号末位小写x")
    # decoys
    p = w.person(1970, 1990)
    judgment(p, OTHER_CRIMES[0], "有期徒刑", 12, dt.date(2023, 4, 4))
    licence(p, dt.date(2023, 8, 1), dt.date(2028, 7, 31))
    w.gt(model, p[1], p[0], "no-hit", "盗窃罪（与食品安全无关）")
    p = w.person(1970, 1990)
    judgment(p, FOOD_CRIMES[0], "拘役", 4, dt.date(2023, 7, 7))
    licence(p, dt.date(2024, 2, 1), dt.date(2029, 1, 31))
    w.gt(model, p[1], p[0], "no-hit", "食品犯罪但仅判拘役，不属“有期徒刑以上刑罚”的终身禁业")
    p = w.person(1970, 1990)
    judgment(p, FOOD_CRIMES[0], "有期徒刑", 9, dt.date(2023, 1, 9))
    licence(p, dt.date(2021, 3, 1), dt.date(2026, 2, 28), status="注销")
    w.gt(model, p[1], p[0], "no-hit", "许可证已注销")
    p = w.person(1970, 1990)
    judgment(p, FOOD_CRIMES[1], "有期徒刑", 14, dt.date(2022, 5, 5))
    licence(p, dt.date(2018, 3, 1), dt.date(2023, 2, 28))
    w.gt(model, p[1], p[0], "no-hit", "许可证2023年已过有效期，未延续")
    p = w.person(1970, 1990)
    judgment(p, FOOD_CRIMES[0], "有期徒刑", 7, dt.date(2023, 10, 10))
    twin = w.person(1960, 1995, name=p[0])
    licence(twin, dt.date(2023, 11, 1), dt.date(2028, 10, 31))
    w.gt(model, p[1], p[0], "no-hit", "持证人与被告人同名但身份证号不同")
    p = w.person(1970, 1990)
    judgment(p, FOOD_CRIMES[0], "有期徒刑", 6, dt.date(2024, 3, 3))
    cert(p, dt.date(2023, 2, 1))
    w.gt(model, p[1], p[0], "no-hit", "健康证明为判决生效前办理且已过期")

    # background: licence holders and certificate holders are never food convicts
    for _ in range(int(220 * scale)):
        issued = dt.date(r.randint(2019, 2024), r.randint(1, 12), r.randint(1, 28))
        valid = add_days(add_months(issued, 60), -1)
        st = "有效" if valid >= AS_OF and r.random() < 0.95 else "注销"
        licence(w.person(), fmt_date(issued, r.randint(0, 4)), fmt_date(valid, r.randint(0, 4)), st)
    for _ in range(int(600 * scale)):
        cert(
            w.person(1970, 2004), dt.date(r.randint(2023, 2024), r.randint(1, 12), r.randint(1, 28))
        )
    for i in range(int(300 * scale)):
        p = w.person(1960, 2004)
        crime = r.choice(FOOD_CRIMES) if i % 15 == 0 else r.choice(OTHER_CRIMES)
        pen = r.choice(["有期徒刑", "有期徒刑", "拘役", "管制", "罚金"])
        judgment(p, crime, pen, r.randint(2, 60) if pen != "罚金" else 0,
                 dt.date(r.randint(2019, 2024), r.randint(1, 12), r.randint(1, 28)))  # fmt: skip
    # a few IDs mangled by Excel: rejected at ingest
    for row in r.sample(hc[10:], 3):
        row["身份证号"] = f"{int(row['身份证号'][:17]) * 10:.5E}"


# --------------------------------------------------------------------------- wages


def gen_wages(w: World, scale: float) -> None:
    r = w.rng
    permits, dep = w.rows("construction_permits"), w.rows("wage_deposits")
    comp, cpl = w.rows("project_completions"), w.rows("wage_complaints")
    contractors = [
        (w.org_name(t), w.uscc("91")) for t in ["建设工程", "建筑", "市政工程", "建工集团"] * 6
    ]

    def project(issued: dt.date, wan: float = 1500.0) -> dict:
        n = w.next("proj")
        code = f"LCJS-{issued.year}-{n:04d}"
        c = r.choice(contractors)
        pj = {"code": code, "name": f"{r.choice(BRANDS)}{r.choice(['花园', '广场', '产业园', '学校', '安置房'])}"
              f"{r.choice(['一期', '二期', '三期', ''])}工程", "contractor": c, "issued": issued}  # fmt: skip
        permits.append({"施工许可证编号": f"{AREA}{issued:%Y%m}{n:04d}0101", "项目编号": code,
                        "项目名称": pj["name"], "建设单位": w.org_name("置业"), "施工单位": c[0],
                        "施工单位统一社会信用代码": c[1], "合同价款（万元）": f"{wan:.2f}",
                        "发证日期": fmt_date(issued, n), "建设地址": w.address()[0]})  # fmt: skip
        return pj

    def deposit(pj, form, on: dt.date, amount=300000.0, start=None, end=None, status=None):
        n = w.next("dep")
        status = status or ("在存" if form == "现金存储" else "有效")
        dep.append({"台账编号": f"BZJ{n:06d}", "项目编号": pj["code"], "项目名称": pj["name"],
                    "施工总承包单位": pj["contractor"][0], "统一社会信用代码": pj["contractor"][1],
                    "存储方式": form, "金额（元）": fmt_money(amount, n), "存储日期": fmt_date(on, n),
                    "保函生效日期": fmt_date(start, n + 1), "保函到期日期": fmt_date(end, n + 2) if end else "",
                    "状态": status})  # fmt: skip

    def completed(pj, on: dt.date | None, text=None):
        n = w.next("comp")
        comp.append({"备案编号": f"JGBA{n:05d}", "项目编号": pj["code"], "项目名称": pj["name"],
                     "竣工验收日期": text if text is not None else fmt_date(on, n),
                     "备案日期": fmt_date(add_days(on, 10) if on else AS_OF - dt.timedelta(days=20), n)})  # fmt: skip

    def complaint(
        pj, on: dt.date, kind="拖欠工资", result="查实", workers=12, amount=186000.0, code=None
    ):
        n = w.next("cpl")
        c = pj["contractor"]
        cpl.append({"投诉编号": f"LCTS{on.year}{n:05d}", "受理日期": fmt_date(on, n),
                    "项目编号": code or pj["code"], "项目名称": pj["name"], "被投诉单位": c[0],
                    "统一社会信用代码": c[1], "投诉类型": kind, "涉及人数": str(workers),
                    "涉及金额（元）": fmt_money(amount, n), "处理结果": result})  # fmt: skip

    def ontime(pj, form="现金存储", days=10, **kw):
        deposit(pj, form, add_days(pj["issued"], days), start=add_days(pj["issued"], days)
                if form != "现金存储" else None, **kw)  # fmt: skip

    # ---- wage_deposit_missing
    model = "wage_deposit_missing"
    pj = project(dt.date(2024, 3, 4), 2600)
    w.gt(model, pj["code"], pj["name"], "hit", "取得施工许可后始终未存储工资保证金或提交保函")
    pj = project(dt.date(2024, 6, 3), 1800)
    deposit(pj, "现金存储", dt.date(2024, 7, 3))
    w.gt(model, pj["code"], pj["name"], "hit",
         "6月10日端午节放假，2024-07-02为第20个工作日，7月3日才存储，逾期1天")  # fmt: skip
    pj = project(dt.date(2023, 11, 18), 5200)  # a Saturday
    deposit(pj, "银行保函", dt.date(2024, 5, 6), start=dt.date(2024, 5, 6), end=dt.date(2026, 5, 5))
    w.gt(model, pj["code"], pj["name"], "hit", "保函半年后才提交")
    pj = project(dt.date(2024, 6, 3), 900)
    deposit(pj, "现金存储", dt.date(2024, 7, 2))
    w.gt(
        model,
        pj["code"],
        pj["name"],
        "no-hit",
        "恰在第20个工作日（2024-07-02，端午节顺延一天）存储",
    )
    pj = project(dt.date(2024, 5, 6), 3000)
    ontime(pj, "银行保函", 8, end=dt.date(2026, 5, 5))
    w.gt(model, pj["code"], pj["name"], "no-hit", "以银行保函按时替代现金存储")
    pj = project(dt.date(2024, 12, 16), 1200)
    w.gt(model, pj["code"], pj["name"], "no-hit", "发证不足20个工作日，尚未到期")
    pj = project(dt.date(2024, 2, 19), 80)
    w.gt(model, pj["code"], pj["name"], "no-hit", "合同价款80万元，低于100万元免存标准")

    # ---- wage_guarantee_expired
    model = "wage_guarantee_expired"
    pj = project(dt.date(2023, 2, 20))
    ontime(pj, "银行保函", 9, end=dt.date(2024, 3, 1))
    w.gt(model, pj["code"], pj["name"], "hit", "保函2024-03-01到期，项目无竣工记录")
    pj = project(dt.date(2023, 5, 8))
    ontime(pj, "工程担保公司保函", 7, end=dt.date(2024, 10, 31))
    completed(pj, None, text="/")
    w.gt(model, pj["code"], pj["name"], "hit", "保函已到期；竣工备案表竣工日期为“/”（未竣工）")
    pj = project(dt.date(2022, 8, 1))
    ontime(pj, "银行保函", 5, end=dt.date(2023, 8, 31), status="已失效")
    deposit(
        pj, "银行保函", dt.date(2023, 8, 25), start=dt.date(2023, 9, 1), end=dt.date(2024, 8, 31)
    )
    w.gt(model, pj["code"], pj["name"], "hit", "续保一次后再次到期，未再续保")
    pj = project(dt.date(2023, 3, 6))
    ontime(pj, "银行保函", 10, end=dt.date(2024, 5, 31))
    completed(pj, dt.date(2024, 5, 20))
    w.gt(model, pj["code"], pj["name"], "no-hit", "保函到期前项目已竣工验收")
    pj = project(dt.date(2023, 1, 9))
    ontime(pj, "银行保函", 10, end=dt.date(2024, 2, 29), status="已失效")
    deposit(
        pj, "银行保函", dt.date(2024, 2, 25), start=dt.date(2024, 2, 25), end=dt.date(2025, 2, 28)
    )
    w.gt(model, pj["code"], pj["name"], "no-hit", "到期前已续保至2025-02-28")
    pj = project(dt.date(2024, 4, 1))
    ontime(pj, "银行保函", 10, end=dt.date(2025, 6, 30))
    w.gt(model, pj["code"], pj["name"], "no-hit", "保函在有效期内")
    pj = project(dt.date(2023, 4, 3))
    ontime(pj, "银行保函", 10, end=dt.date(2024, 4, 2), status="已失效")
    deposit(pj, "现金存储", dt.date(2024, 3, 28))
    w.gt(model, pj["code"], pj["name"], "no-hit", "保函到期后已改为现金存储（在存）")

    # ---- wage_arrears_despite_deposit
    model = "wage_arrears_despite_deposit"
    pj = project(dt.date(2023, 4, 10))
    ontime(pj)
    complaint(pj, dt.date(2024, 1, 22), workers=23, amount=412000)
    complaint(pj, dt.date(2024, 2, 5), workers=6, amount=88000)
    w.gt(model, pj["code"], pj["name"], "hit", "保证金在存，仍有2起查实的欠薪投诉，未动用保证金")
    pj = project(dt.date(2023, 9, 4))
    ontime(pj, "银行保函", 12, end=dt.date(2025, 9, 30))
    complaint(pj, dt.date(2024, 9, 18), workers=15, amount=230000)
    w.gt(model, pj["code"], pj["name"], "hit", "保函有效期内发生查实欠薪")
    pj = project(dt.date(2023, 6, 5))
    ontime(pj)
    complaint(pj, dt.date(2024, 3, 3), result="不属实")
    w.gt(model, pj["code"], pj["name"], "no-hit", "欠薪投诉经查不属实")
    pj = project(dt.date(2023, 6, 12))
    ontime(pj, status="已动用")
    complaint(pj, dt.date(2024, 4, 1))
    w.gt(model, pj["code"], pj["name"], "no-hit", "保证金已动用支付欠薪")
    pj = project(dt.date(2023, 7, 3))
    ontime(pj, days=20)
    complaint(pj, dt.date(2023, 7, 10))
    w.gt(model, pj["code"], pj["name"], "no-hit", "欠薪投诉发生在保证金存储之前")
    pj = project(dt.date(2023, 7, 17))
    ontime(pj)
    complaint(pj, dt.date(2024, 5, 5), kind="工伤待遇")
    w.gt(model, pj["code"], pj["name"], "no-hit", "投诉类型为工伤，不是欠薪")

    # background projects: deposits on time; guarantees valid or project completed; complaints
    # only of other kinds or not substantiated
    for _ in range(int(110 * scale)):
        issued = dt.date(r.randint(2022, 2024), r.randint(1, 11), r.randint(1, 28))
        pj = project(issued, r.choice([150, 600, 1200, 4800, 9800]))
        done = r.random() < 0.4 and issued.year < 2024
        if r.random() < 0.6:
            ontime(pj, days=r.randint(1, 18), status="已退还" if done else None)
        else:
            end = (
                add_months(issued, 18)
                if done
                else max(add_months(issued, 30), dt.date(2025, 3, 31))
            )
            ontime(pj, "银行保函", r.randint(1, 18), end=end)
        if done:
            completed(pj, min(add_months(issued, 16), AS_OF - dt.timedelta(days=30)))
        if r.random() < 0.3:
            # never after the extract's as-of date (a complaint from the future would be a
            # data-quality warning on the first run)
            on = min(add_days(issued, r.randint(60, 300)), AS_OF)
            complaint(pj, on, kind=r.choice(["工伤待遇", "劳动合同"]))
        if r.random() < 0.15:
            on = min(add_days(issued, r.randint(60, 300)), AS_OF)
            complaint(pj, on, result=r.choice(["不属实", "处理中"]))


# --------------------------------------------------------------------------- farmland


def gen_land(w: World, scale: float) -> None:
    r = w.rng
    parcels, patches = w.rows("farmland_parcels"), w.rows("satellite_patches")
    approvals = w.rows("land_approvals")
    villages = ["东村", "西村", "上塘村", "下塘村", "柳庄村", "石桥村", "新民村", "红旗村"]

    def parcel(land="水田", basic=True, n=None) -> str:
        n = n or w.next("dk", 101)
        pid = f"DK{AREA}{n:05d}"
        parcels.append({"地块编号": pid, "乡镇": r.choice(STREETS[4:]), "村": r.choice(villages),
                        "地类": land, "面积（亩）": f"{r.uniform(2, 60):.2f}",
                        "永久基本农田": "是" if basic else "否"})  # fmt: skip
        return pid

    def patch(pid, kind, on: dt.date, area=None):
        n = w.next("tb")
        q = (on.month - 1) // 3 + 1
        patches.append({"图斑编号": f"TB{on.year}{q}{n:05d}", "监测批次": f"{on.year}年第{q}季度",
                        "地块编号": pid, "变化类型": kind,
                        "图斑面积（平方米）": f"{area or r.uniform(200, 3000):.1f}",
                        "监测日期": fmt_date(on, n)})  # fmt: skip

    def approve(pid, kind, on: dt.date, valid_to: dt.date | None = None):
        n = w.next("pz")
        approvals.append({"批准文号": f"临政土〔{on.year}〕{n}号", "地块编号": pid,
                          "用地单位": w.org_name(r.choice(["置业", "农业开发", "物流"])),
                          "批准类型": kind, "批准日期": fmt_date(on, n),
                          "批准面积（亩）": f"{r.uniform(1, 30):.2f}",
                          "有效期至": fmt_date(valid_to, n) if valid_to else "长期"})  # fmt: skip

    model = "farmland_unapproved_build"
    pid = parcel()
    patch(pid, "新增建设用地", dt.date(2024, 5, 20), 1860)
    w.gt(model, pid, pid, "hit", "永久基本农田上新增建设，无任何用地批准")
    pid = parcel("旱地")
    patch(pid, "新增建（构）筑物", dt.date(2024, 2, 14), 420)
    patch(pid, "推填土（疑似建设）", dt.date(2024, 8, 9), 950)
    w.gt(model, pid, pid, "hit", "同一地块两期卫片均发现建设，无批准")
    pid = parcel()
    patch(pid, "新增建设用地", dt.date(2024, 3, 18), 2400)
    approve(pid, "农用地转用", dt.date(2024, 7, 1))
    w.gt(model, pid, pid, "hit", "先建后批：批准日期晚于卫片监测日期")
    pid = parcel("旱地")
    patch(pid, "新增建（构）筑物", dt.date(2024, 9, 3), 300)
    approve(pid, "临时用地", dt.date(2022, 6, 1), dt.date(2024, 5, 31))
    w.gt(model, pid, pid, "hit", "临时用地批准2024-05-31已到期，9月仍有建筑物")
    pid = parcel(n=990124)
    nb = parcel(n=990142, basic=False, land="建设用地")
    patch(pid, "新增建设用地", dt.date(2024, 6, 6), 760)
    approve(nb, "农用地转用", dt.date(2024, 1, 10))
    w.gt(model, pid, pid, "hit", "批准文件对应的是相邻地块（编号相近），本地块无批准")
    # decoys
    pid = parcel("建设用地", basic=False)
    patch(pid, "新增建设用地", dt.date(2024, 4, 4))
    w.gt(model, pid, pid, "no-hit", "地块为建设用地，不是永久基本农田")
    pid = parcel()
    approve(pid, "农用地转用", dt.date(2023, 12, 1))
    patch(pid, "新增建设用地", dt.date(2024, 4, 4))
    w.gt(model, pid, pid, "no-hit", "监测前已取得农用地转用批准")
    pid = parcel()
    patch(pid, "耕地恢复", dt.date(2024, 4, 4))
    patch(pid, "植被变化", dt.date(2024, 7, 7))
    w.gt(model, pid, pid, "no-hit", "变化类型为耕地恢复/植被变化，不是建设")

    for _ in range(int(1500 * scale)):
        basic = r.random() < 0.6
        pid = parcel(r.choice(["水田", "旱地", "水浇地"]) if basic else r.choice(["建设用地", "林地", "旱地"]),
                     basic)  # fmt: skip
        x = r.random()
        on = dt.date(r.randint(2023, 2024), r.randint(1, 12), r.randint(1, 28))
        if x < 0.08:
            patch(pid, r.choice(["耕地恢复", "植被变化", "水域变化"]), on)
        elif x < 0.14:
            approve(
                pid, r.choice(["农用地转用", "设施农用地备案"]), add_days(on, -r.randint(30, 400))
            )
            patch(pid, r.choice(["新增建设用地", "新增建（构）筑物"]), on)
        elif x < 0.17 and not basic:
            patch(pid, "新增建设用地", on)


# --------------------------------------------------------------------------- land polygons
#
# The land layers as the natural-resources bureau's GIS exports them: 永久基本农田 polygons and
# approval polygons in CGCS2000 Gauss-Krüger zone 39 metres (EPSG:4527, WKT), satellite patches
# in CGCS2000 longitude/latitude (EPSG:4490, GeoJSON). Parcels sit on a 300 m grid; a patch lies
# inside its parcel, an approval polygon covers its parcel with a margin. Made after every other
# table, from its own random stream: the older files do not change.

GK_X0, GK_Y0 = 39_480_000.0, 3_310_000.0
_TO_LONLAT = None


def _lonlat(xy: list[tuple[float, float]]) -> list[list[float]]:
    global _TO_LONLAT
    if _TO_LONLAT is None:
        from pyproj import Transformer

        _TO_LONLAT = Transformer.from_crs(4527, 4490, always_xy=True)
    lon, lat = _TO_LONLAT.transform([p[0] for p in xy], [p[1] for p in xy])
    return [[round(a, 8), round(b, 8)] for a, b in zip(lon, lat)]


def _rect(x: float, y: float, w: float, h: float) -> list[tuple[float, float]]:
    return [(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)]


def _wkt(ring: list[tuple[float, float]]) -> str:
    return "POLYGON((" + ", ".join(f"{x:.2f} {y:.2f}" for x, y in ring) + "))"


def _geojson(ring: list[tuple[float, float]]) -> str:
    import json

    return json.dumps({"type": "Polygon", "coordinates": [_lonlat(ring)]}, separators=(",", ":"))


def gen_land_shapes(w: World) -> None:
    r = w.rng
    model = "farmland_unapproved_build"
    w.truth[:] = [t for t in w.truth if t[0] != model]  # the model is judged on polygons now
    farmland, patches_out = w.rows("farmland_polygons"), w.rows("patch_polygons")
    approvals_out = w.rows("approval_polygons")
    where: dict[str, tuple[float, float, float]] = {}  # parcel → (x, y, side)

    def place(k: int, side: float) -> tuple[float, float]:
        return GK_X0 + (k % 40) * 300.0 + 20, GK_Y0 + (k // 40) * 300.0 + 20

    for k, row in enumerate(w.rows("farmland_parcels")):
        side = min((float(row["面积（亩）"]) * 666.67) ** 0.5, 200.0)
        x, y = place(k, side)
        where[row["地块编号"]] = (x, y, side)
        if row["永久基本农田"] == "是":
            farmland.append({"地块编号": row["地块编号"], "乡镇": row["乡镇"], "村": row["村"],
                             "地类": row["地类"], "图形": _wkt(_rect(x, y, side, side))})  # fmt: skip

    def patch_row(row: dict, ring: list[tuple[float, float]]) -> None:
        patches_out.append({"图斑编号": row["图斑编号"], "监测批次": row["监测批次"],
                            "变化类型": row["变化类型"], "监测日期": row["监测日期"],
                            "图形": _geojson(ring)})  # fmt: skip

    def approval_row(row: dict, ring: list[tuple[float, float]]) -> None:
        approvals_out.append({"批准文号": row["批准文号"], "地块编号": row["地块编号"],
                              "批准类型": row["批准类型"], "批准日期": row["批准日期"],
                              "有效期至": row["有效期至"], "图形": _wkt(ring)})  # fmt: skip

    for row in w.rows("satellite_patches"):
        x, y, _ = where[row["地块编号"]]
        a = float(row["图斑面积（平方米）"]) ** 0.5
        patch_row(row, _rect(x + 5, y + 5, a, a))
    for row in w.rows("land_approvals"):
        x, y, side = where[row["地块编号"]]
        approval_row(row, _rect(x - 60, y - 60, side + 120, side + 120))

    # the planted cases of the attribute version, now judged by geometry
    old = {
        "DK33901200101": ("hit", "永久基本农田上新增建设，无任何用地批准"),
        "DK33901200102": ("hit", "同一地块两期卫片均发现建设，无批准"),
        "DK33901200103": ("hit", "先建后批：批准日期晚于卫片监测日期"),
        "DK33901200104": ("hit", "临时用地批准2024-05-31已到期，9月仍有建筑物"),
        "DK339012990124": ("hit", "批准范围在相邻地块（编号相近），不覆盖本图斑"),
        "DK33901200105": ("no-hit", "图斑所在地块为建设用地，不在永久基本农田范围内"),
        "DK33901200106": ("no-hit", "监测前已取得农用地转用批准，批准范围覆盖图斑"),
        "DK33901200107": ("no-hit", "变化类型为耕地恢复/植被变化，不是建设"),
    }
    for row in w.rows("satellite_patches"):
        if row["地块编号"] in old:
            expected, why = old[row["地块编号"]]
            w.gt(model, row["图斑编号"], row["图斑编号"], expected, why)

    # cases only geometry can tell, on parcels of their own (grid rows beyond the others)
    k0 = len(w.rows("farmland_parcels")) + 80

    def new_parcel(k: int, side: float = 100.0) -> tuple[str, float, float]:
        pid = f"DK{AREA}8{k:05d}"
        x, y = place(k0 + k, side)
        farmland.append({"地块编号": pid, "乡镇": "白沙乡", "村": "柳庄村", "地类": "水田",
                         "图形": _wkt(_rect(x, y, side, side))})  # fmt: skip
        return pid, x, y

    def new_patch(ring, on: dt.date, kind: str = "新增建设用地") -> str:
        n = w.next("tb")
        q = (on.month - 1) // 3 + 1
        tb = f"TB{on.year}{q}{n:05d}"
        patch_row({"图斑编号": tb, "监测批次": f"{on.year}年第{q}季度", "变化类型": kind,
                   "监测日期": fmt_date(on, r.randint(0, 4))}, ring)  # fmt: skip
        return tb

    def new_approval(pid: str, ring, on: dt.date, kind: str = "农用地转用") -> None:
        n = w.next("pz")
        approval_row({"批准文号": f"临政土〔{on.year}〕{n}号", "地块编号": pid, "批准类型": kind,
                      "批准日期": fmt_date(on, n), "有效期至": "长期"}, ring)  # fmt: skip

    _, x, y = new_parcel(0)
    tb = new_patch(_rect(x + 80, y + 30, 40, 50), dt.date(2024, 6, 12))  # 20 m × 50 m inside
    w.gt(model, tb, tb, "hit", "图斑跨越地块边界，占用永久基本农田约1000平方米")
    _, x, y = new_parcel(1)
    tb = new_patch(_rect(x + 97, y + 30, 50, 50), dt.date(2024, 6, 12))  # 3 m × 50 m inside
    w.gt(model, tb, tb, "no-hit", "仅边缘与永久基本农田重叠约150平方米，低于200平方米阈值")
    pid, x, y = new_parcel(2)
    tb = new_patch(_rect(x + 30, y + 30, 40, 40), dt.date(2024, 8, 1))
    new_approval(pid, _rect(x + 10, y + 10, 40, 80), dt.date(2024, 3, 1))  # half of the patch
    w.gt(model, tb, tb, "hit", "有农用地转用批准，但批准范围只覆盖图斑一半")
    _, x, y = new_parcel(3)
    tb = new_patch(_rect(x + 30, y + 30, 40, 40), dt.date(2024, 8, 1))
    new_approval(f"DK{AREA}899999", _rect(x + 20, y + 20, 60, 60), dt.date(2024, 2, 1))
    w.gt(
        model, tb, tb, "no-hit", "批准文件登记的地块编号不同，但批准范围完整覆盖图斑（按图形判断）"
    )
    _, x, y = new_parcel(4)
    new_parcel(5)  # the next grid cell: 300 m to the east
    tb = new_patch(_rect(x + 100 - 15, y + 40, 230, 10), dt.date(2024, 10, 9))
    w.gt(model, tb, tb, "hit", "图斑跨两块永久基本农田，各重叠150平方米，合计300平方米超过阈值")
    _, x, y = new_parcel(6)
    tb = new_patch(_rect(x + 100 + 10, y, 60, 60), dt.date(2024, 10, 9))
    w.gt(model, tb, tb, "no-hit", "图斑紧邻永久基本农田但不重叠（相距10米）")


# --------------------------------------------------------------------------- lending networks
#
# 民间借贷 suits: professional lenders appear as different plaintiffs who share an agent
# (委托诉讼代理人) or a phone number. Own random stream, made after every other table.


def _net_id(members: list[str]) -> str:
    """The component id collide gives a network: NET + MD5 of its smallest member key."""
    import hashlib

    return "NET" + hashlib.md5(min(members).encode()).hexdigest()[:12].upper()


def gen_lending(w: World) -> None:
    r = w.rng
    model = "lending_ring"
    suits = w.rows("lending_suits")

    def suit(person, agent, phone, n: int) -> None:
        name, pid = person
        for _ in range(n):
            k = w.next("msmc")
            on = dt.date(2024, 1, 1) + dt.timedelta(days=r.randint(0, 360))
            debtor = w.person(1960, 2000)[0]
            suits.append({"案号": f"（2024）浙0102民初{k}号", "立案日期": fmt_date(on, k),
                          "原告": name, "原告身份证号": pid, "被告": debtor, "案由": "民间借贷纠纷",
                          "原告委托诉讼代理人": agent or "", "原告联系电话": phone,
                          "诉讼标的额（元）": f"{r.randint(20, 400) * 1000}"})  # fmt: skip

    def phone() -> str:
        return "13" + "".join(str(r.randint(0, 9)) for _ in range(9))

    # G1: four plaintiffs behind one agent
    ring = [w.person(1960, 1990) for _ in range(4)]
    for p in ring:
        suit(p, "孙立新", phone(), 6)
    w.gt(model, _net_id([p[1] for p in ring]), "、".join(p[0] for p in ring), "hit",
         "4名原告共用代理人孙立新，民间借贷起诉24件")  # fmt: skip
    # G2: a chain A–B by phone, B–C by agent
    a, b, c = (w.person(1960, 1990) for _ in range(3))
    shared = phone()
    suit(a, "", shared, 4)
    suit(b, "钱敏", shared, 4)
    suit(c, "钱敏", phone(), 4)
    w.gt(model, _net_id([a[1], b[1], c[1]]), f"{a[0]}、{b[0]}、{c[0]}", "hit",
         "3名原告经同一电话和同一代理人串联成团，起诉12件")  # fmt: skip
    # decoys
    pair = [w.person(1960, 1990) for _ in range(2)]
    for p in pair:
        suit(p, "周建国", phone(), 8)
    w.gt(model, _net_id([p[1] for p in pair]), "、".join(p[0] for p in pair), "no-hit",
         "只有2名原告共用代理人，不足3人")  # fmt: skip
    clients = [w.person(1960, 1990) for _ in range(5)]
    for p in clients:
        suit(p, "吴律师", phone(), 1)
    w.gt(model, _net_id([p[1] for p in clients]), "、".join(p[0] for p in clients), "no-hit",
         "5名原告共用一名律师，但各只起诉1件，合计5件，不足10件（普通律师业务）")  # fmt: skip
    near = [w.person(1960, 1990) for _ in range(3)]
    base = phone()
    for i, p in enumerate(near):
        suit(p, "", base[:-1] + str((int(base[-1]) + i) % 10), 5)  # one digit apart: no link
    w.gt(model, _net_id([p[1] for p in near]), "、".join(p[0] for p in near), "no-hit",
         "3名原告电话号码仅末位不同，并不共用，不构成关联")  # fmt: skip
    # background: one-off plaintiffs with their own agent (or none) and phone
    for i in range(int(300 * 1)):
        suit(w.person(1950, 2000), "" if r.random() < 0.6 else f"律师{i:03d}", phone(),
             r.choice((1, 1, 1, 2, 3)))  # fmt: skip


# --------------------------------------------------------------------------- medical waste


def gen_clinics(w: World, scale: float) -> None:
    r = w.rng
    clinics, con = w.rows("clinic_registrations"), w.rows("medical_waste_contracts")
    pick = w.rows("medical_waste_pickups")
    disposers = ["滨江市医疗废物集中处置中心", "滨江绿洲环保科技有限公司"]

    def clinic(kind="诊所", registered=dt.date(2018, 5, 1), status="正常") -> tuple[str, str]:
        n = w.next("clinic")
        surname = r.choice(SURNAMES)
        name = {"诊所": f"{DISTRICT}{surname}{r.choice(GIVEN)}诊所",
                "口腔诊所": f"{DISTRICT}{r.choice(BRANDS)}口腔诊所",
                "村卫生室": f"{DISTRICT}{r.choice(STREETS[4:])}{r.choice(['东村', '西村', '石桥村'])}卫生室{n}",
                "动物诊疗机构": f"{DISTRICT}{r.choice(BRANDS)}宠物医院"}[kind]  # fmt: skip
        name = f"{name}（{n}）" if name in w._names_used else name
        w._names_used.add(name)
        u_ = w.uscc({"村卫生室": "12", "动物诊疗机构": "92"}.get(kind, "52"))
        lic = f"PDY{n:05d}{AREA}" if kind != "动物诊疗机构" else f"（临）动诊证字第{n:04d}号"
        clinics.append({"机构名称": name, "统一社会信用代码": u_, "执业许可证号": lic, "机构类别": kind,
                        "地址": w.address()[0], "登记日期": registered, "执业状态": status})  # fmt: skip
        return name, u_

    def contract(c, start: dt.date, end: dt.date, uscc_text=None, name_text=None):
        n = w.next("con")
        con.append({"合同编号": f"YF{start.year}{n:05d}", "产废单位": name_text or c[0],
                    "统一社会信用代码": uscc_text or c[1], "处置单位": r.choice(disposers),
                    "签订日期": fmt_date(add_days(start, -7), n), "合同起始日期": fmt_date(start, n + 1),
                    "合同终止日期": fmt_date(end, n + 2)})  # fmt: skip

    def pickups(c, first: dt.date, last: dt.date, every=30):
        """Regular pickups from `first`, the last one exactly on `last`."""
        days = [first]
        while True:
            nxt = add_days(days[-1], every + r.randint(-3, 3))
            if nxt >= last:
                break
            days.append(nxt)
        if days[-1] != last:
            days.append(last)
        for d in days:
            n = w.next("pick")
            pick.append({"联单编号": f"LD{d:%Y%m}{n:06d}", "产废单位": c[0], "统一社会信用代码": c[1],
                         "收运日期": fmt_date(d, n), "重量（千克）": f"{r.uniform(0.5, 12):.2f}"})  # fmt: skip

    model = "clinic_no_medical_waste"
    c = clinic("诊所")
    w.gt(model, c[1], c[0], "hit", "正常执业的诊所无任何医疗废物处置合同")
    c = clinic("口腔诊所")
    contract(c, dt.date(2023, 7, 1), dt.date(2024, 6, 30))
    pickups(c, dt.date(2023, 7, 10), dt.date(2024, 6, 25))
    w.gt(model, c[1], c[0], "hit", "处置合同2024-06-30到期未续签")
    c = clinic("村卫生室", dt.date(2015, 3, 1))
    contract(c, dt.date(2024, 1, 1), dt.date(2025, 12, 31))
    pickups(c, dt.date(2024, 1, 15), dt.date(2024, 7, 15))
    w.gt(model, c[1], c[0], "hit", "合同有效，但2024年7月后无收运记录（超过3个月）")
    c = clinic("动物诊疗机构", dt.date(2020, 9, 9))
    w.gt(model, c[1], c[0], "hit", "宠物医院无医疗废物处置合同")
    # decoys
    c = clinic("诊所", dt.date(2016, 1, 1), status="注销")
    w.gt(model, c[1], c[0], "no-hit", "诊所已注销")
    c = clinic("诊所", dt.date(2024, 11, 15))
    w.gt(model, c[1], c[0], "no-hit", "2024-11-15新登记，尚在90天宽限期内")
    c = clinic("口腔诊所")
    contract(c, dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    contract(c, dt.date(2024, 1, 1), dt.date(2025, 12, 31))
    pickups(c, dt.date(2023, 1, 10), dt.date(2024, 12, 20))
    w.gt(model, c[1], c[0], "no-hit", "旧合同到期后已续签")
    c = clinic("诊所")
    contract(c, dt.date(2024, 1, 1), dt.date(2025, 12, 31))
    pickups(c, dt.date(2024, 1, 20), dt.date(2024, 10, 20), every=45)
    w.gt(model, c[1], c[0], "no-hit", "最近一次收运2024年10月，间隔未超过90天")
    c = clinic("诊所")
    contract(c, dt.date(2024, 3, 1), dt.date(2026, 2, 28), uscc_text=fullwidth(c[1]).lower(),
             name_text=c[0].replace(DISTRICT, ""))  # fmt: skip
    pickups(c, dt.date(2024, 3, 10), dt.date(2024, 12, 20))
    w.gt(
        model,
        c[1],
        c[0],
        "no-hit",
        "合同中单位名称少“临川区”、信用代码全角小写，按信用代码仍能关联",
    )

    for _ in range(int(150 * scale)):
        kind = r.choice(["诊所", "诊所", "口腔诊所", "村卫生室", "动物诊疗机构"])
        reg = dt.date(r.randint(2005, 2023), r.randint(1, 12), r.randint(1, 28))
        if r.random() < 0.1:
            clinic(kind, fmt_date(reg, r.randint(0, 4)), "注销")
            continue
        c = clinic(kind, fmt_date(reg, r.randint(0, 4)))
        start = dt.date(2023, r.randint(1, 12), 1)
        contract(c, start, add_days(add_months(start, 36), -1))
        pickups(c, add_days(start, r.randint(3, 20)), dt.date(2024, 12, r.randint(1, 28)),
                every=r.choice([14, 30, 30, 45]))  # fmt: skip


# --------------------------------------------------------------------------- pension


def gen_pension(w: World, n_pensioners: int) -> PensionPayments:
    r = w.rng
    deaths = w.rows("death_registrations")
    pays = w.rows("pension_payments")

    def death(person, on: dt.date, id_text=None, name_text=None):
        n = w.next("death")
        deaths.append({"姓名": name_text or person[0], "公民身份号码": id_text or person[1],
                       "性别": "男" if int(person[1][16]) % 2 else "女",
                       "死亡日期": fmt_date(on, n), "登记日期": fmt_date(add_days(on, r.randint(1, 20)), n + 1),
                       "信息来源": r.choice(["殡葬", "公安户籍", "医疗机构"])})  # fmt: skip

    def pay(person, until: dt.date, amount=1850.0, kind="企业职工基本养老保险", id_text=None,
            name_text=None, day=15):  # fmt: skip
        for p in PERIODS:
            paid = dt.date(int(p[:4]), int(p[4:]), day)
            if paid > until:
                break
            n = w.next("pay")
            pays.append({"发放流水号": f"YL{p}{n:07d}", "姓名": name_text or person[0],
                         "身份证号码": id_text or person[1], "险种": kind, "发放月份": p,
                         "发放日期": fmt_date(paid, n), "发放金额": fmt_money(amount, n)})  # fmt: skip

    model = "pension_after_death"
    p = w.person(1930, 1950)
    death(p, dt.date(2024, 3, 10))
    pay(p, AS_OF, 2380.5)
    w.gt(model, p[1], p[0], "hit", "2024-03-10死亡，此后仍发放9笔")
    p = w.person(1930, 1950)
    death(p, dt.date(2023, 12, 2), id_text=id15(p[1]))
    pay(p, AS_OF, 165.0, "城乡居民基本养老保险")
    w.gt(model, p[1], p[0], "hit", "死亡登记为15位旧身份证号，升位后关联")
    while True:
        p = w.person(1935, 1950)
        if p[1].endswith("X"):
            break
    death(p, dt.date(2024, 6, 30))
    pay(p, AS_OF, 2010.0, id_text=p[1].lower(), name_text=" ".join(p[0]))
    w.gt(model, p[1], p[0], "hit", "发放名册证件号末位小写x、姓名带空格")
    while True:
        p = w.person(1930, 1950)
        if w.typo(p[0]) != p[0]:
            break
    death(p, dt.date(2024, 8, 8))
    pay(p, AS_OF, 1760.0, name_text=w.typo(p[0]))
    w.gt(model, p[1], p[0], "hit", "发放名册姓名同音错字，按身份证号仍关联")
    p = w.person(1930, 1950)
    death(p, dt.date(2024, 11, 14))
    pay(p, dt.date(2024, 11, 15), 1920.0)
    w.gt(model, p[1], p[0], "hit", "11-14死亡，11-15发放1笔（死亡次日）")
    # decoys
    p = w.person(1930, 1950)
    death(p, dt.date(2024, 5, 16))
    pay(p, dt.date(2024, 5, 15), 1990.0)
    w.gt(model, p[1], p[0], "no-hit", "最后一笔5-15发放，为死亡前一天")
    p = w.person(1930, 1950)
    death(p, dt.date(2024, 7, 15))
    pay(p, dt.date(2024, 7, 15), 2200.0)
    w.gt(model, p[1], p[0], "no-hit", "最后一笔于死亡当日发放，不属于死亡后发放")
    p = w.person(1930, 1950)
    death(p, dt.date(2024, 2, 2))
    twin = w.person(1930, 1950, name=p[0])
    pay(twin, AS_OF, 1700.0)
    w.gt(model, p[1], p[0], "no-hit", "同名不同身份证号的在世人员正常领取；死者本人无发放")
    p = w.person(1930, 1950)
    death(p, dt.date(2024, 4, 4), id_text=f"{int(p[1][:17]) * 10:.5E}")
    pay(p, AS_OF, 1500.0)
    w.gt(
        model,
        p[1],
        p[0],
        "no-hit",
        "死亡登记中身份证号被Excel截断为科学计数法，入库时拒收，无法比对（见拒收清单，需向民政补数）",
    )

    # background, vectorised: pensioners alive or dying with payments stopping before death
    for _ in range(max(n_pensioners // 8, 50)):
        death(
            w.person(1925, 1955), dt.date(r.randint(2021, 2024), r.randint(1, 12), r.randint(1, 28))
        )
    rows = []
    for _ in range(n_pensioners):
        p = w.person(1930, 1962)
        stop = 24
        if r.random() < 0.08:
            d = dt.date(r.randint(2023, 2024), r.randint(1, 12), r.randint(1, 28))
            if d.day <= 15:  # payment on the 15th of the death month is after death
                stop = (d.year - 2023) * 12 + d.month - 1
            else:
                stop = (d.year - 2023) * 12 + d.month
            death(p, d)
        kind = "企业职工基本养老保险" if r.random() < 0.7 else "城乡居民基本养老保险"
        amt = r.uniform(1500, 4500) if kind.startswith("企业") else r.uniform(150, 300)
        rows.append((p[0], p[1], kind, round(amt, 2), stop))
    pen = pl.DataFrame(rows, schema=["姓名", "身份证号码", "险种", "amt", "stop"], orient="row")
    return PensionPayments(pen)


class PensionPayments:
    """The background pension payments: one row per pensioner and month paid (month < stop).

    The file is sorted by (发放月份, 身份证号码), so a large table is made one month at a time;
    each row keeps the serial number (发放流水号) it has in the one-frame table, whose rows run
    pensioner by pensioner and month by month from 5,000,000.
    """

    SERIAL0 = 5_000_000

    def __init__(self, pen: pl.DataFrame) -> None:
        self.pen = pen
        self.n = int(pen["stop"].sum())

    def whole(self) -> pl.DataFrame:
        per = pl.DataFrame({"发放月份": PERIODS, "pix": list(range(24))})
        b = self.pen.join(per, how="cross").filter(pl.col("pix") < pl.col("stop"))
        return self._fmt(b.with_row_index("n", offset=self.SERIAL0))

    def month(self, pix: int) -> pl.DataFrame:
        first = pl.col("stop").cum_sum() - pl.col("stop")  # serial offset of a pensioner's rows
        b = self.pen.with_columns(n=(first + pix + self.SERIAL0).cast(pl.UInt32))
        b = b.filter(pl.col("stop") > pix).with_columns(发放月份=pl.lit(PERIODS[pix]))
        return self._fmt(b)

    @staticmethod
    def _fmt(b: pl.DataFrame) -> pl.DataFrame:
        return b.select(
            (pl.lit("YL") + pl.col("发放月份") + pl.col("n").cast(pl.String).str.zfill(8)).alias(
                "发放流水号"
            ),
            "姓名",
            "身份证号码",
            "险种",
            "发放月份",
            pl.when(pl.col("n") % 2 == 0)
            .then(pl.col("发放月份") + "15")
            .otherwise(
                pl.col("发放月份").str.slice(0, 4)
                + "-"
                + pl.col("发放月份").str.slice(4, 2)
                + "-15"
            )
            .alias("发放日期"),
            pl.col("amt").round(2).cast(pl.String).alias("发放金额"),
        )


# --------------------------------------------------------------------------- writing

# dataset → (file under the output folder, encoding or xlsx title)
FILES: dict[str, tuple[str, str]] = {
    "water_accounts": ("water/accounts.csv", "gbk"),
    "water_bills": ("water/bills.csv", "gbk"),
    "org_registry": (
        "orgs/public_units.xlsx",
        "滨江市临川区机关事业单位及国有企业名录（截至2024年12月31日）",
    ),
    "business_licences": (
        "market/business_licences.xlsx",
        "临川区市场主体登记信息表（2024年12月31日导出）",
    ),
    "food_licences": ("market/food_licences.xlsx", "临川区食品经营许可证发放情况统计表"),
    "court_judgments": ("court/criminal_judgments.csv", "utf-8"),
    "health_certificates": ("health/health_certificates.csv", "utf-8-sig"),
    "clinic_registrations": ("health/clinics.xlsx", "临川区医疗机构及动物诊疗机构执业登记一览表"),
    "construction_permits": ("housing/construction_permits.csv", "gbk"),
    "project_completions": ("housing/project_completions.csv", "utf-8-sig"),
    "wage_deposits": ("hrss/wage_deposits.csv", "utf-8-sig"),
    "wage_complaints": ("hrss/wage_complaints.csv", "gb18030"),
    "pension_payments": ("hrss/pension_payments.csv", "utf-8-sig"),
    "death_registrations": ("civil/death_registrations.csv", "gbk"),
    "farmland_parcels": ("land/farmland_parcels.csv", "utf-8"),
    "satellite_patches": ("land/satellite_patches.csv", "utf-8"),
    "land_approvals": ("land/land_approvals.csv", "gbk"),
    "medical_waste_contracts": ("waste/contracts.csv", "utf-8-sig"),
    "medical_waste_pickups": ("waste/pickups.csv", "utf-8"),
    # made last, from their own random stream (gen_land_shapes, gen_lending)
    "farmland_polygons": ("land/farmland_polygons.csv", "utf-8"),
    "patch_polygons": ("land/patch_polygons.csv", "utf-8"),
    "approval_polygons": ("land/approval_polygons.csv", "utf-8-sig"),
    "lending_suits": ("court/lending_suits.csv", "utf-8-sig"),
}
_XLSX_EPOCH = dt.datetime(2024, 12, 31, 18, 0, 0)


def _frame(rows: list[dict], extra: pl.DataFrame | None = None) -> pl.DataFrame:
    df = pl.DataFrame(rows, schema={k: pl.String for k in rows[0]}) if rows else None
    if extra is not None:
        df = extra if df is None else pl.concat([extra.select(df.columns), df])
    assert df is not None
    return df


def _bill_frames(planted: list[dict], bg: BillChunks) -> Iterator[pl.DataFrame]:
    """water/bills.csv sorted by (户号, 账期): one sorted frame, or chunks when it is large.

    Chunked, the planted accounts' bills come first, then the background chunks in account order:
    every planted account is opened before the background ones (lower 户号), so the file is still
    sorted by (户号, 账期) throughout, the same order as the one-frame sort.
    """
    chunk_rows = gen_chunk_rows()
    if bg.n <= chunk_rows:
        yield _frame(planted, next(bg.frames(chunk_rows))).sort("户号", "账期")
        return
    head = _frame(planted).sort("户号", "账期")
    yield head
    last = head["户号"][-1]
    for df in bg.frames(chunk_rows):
        df = df.select(head.columns).sort("户号", "账期")
        if df["户号"][0] <= last:
            raise AssertionError(f"water bills out of 户号 order at {df['户号'][0]}")
        last = df["户号"][-1]
        yield df


def _pension_frames(planted: list[dict], bg: PensionPayments) -> Iterator[pl.DataFrame]:
    """hrss/pension_payments.csv sorted by (发放月份, 身份证号码); month by month when large.

    The planted payments of each month are sorted in among that month's background ones, so the
    order is the one-frame sort's.
    """
    if bg.n <= gen_chunk_rows():
        yield _frame(planted, bg.whole()).sort("发放月份", "身份证号码")
        return
    head = _frame(planted)
    for pix, p in enumerate(PERIODS):
        mine = head.filter(pl.col("发放月份") == p)
        yield pl.concat([bg.month(pix).select(head.columns), mine]).sort("发放月份", "身份证号码")


def write_csv(df: pl.DataFrame, path: Path, encoding: str) -> None:
    write_csv_frames([df], path, encoding)


def write_csv_frames(frames: Iterable[pl.DataFrame], path: Path, encoding: str) -> int:
    """Write frames one after the other as one CSV (header once, CRLF); returns the row count.

    Frames are consumed one at a time, so a generator of chunks is never held whole.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = 500_000
    header, rows = True, 0
    with path.open("wb") as f:
        if encoding == "utf-8-sig":
            f.write("\ufeff".encode())
        for df in frames:
            for i in range(0, max(df.height, 1 if header else 0), chunk):
                buf = io.BytesIO()
                df.slice(i, chunk).write_csv(buf, include_header=header, line_terminator="\r\n")
                header = False
                data = buf.getvalue()
                f.write(data if encoding.startswith("utf-8") else data.decode().encode(encoding))
            rows += df.height
    return rows


def write_xlsx(rows: list[dict], path: Path, title: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    wb.set_properties({"created": _XLSX_EPOCH, "author": "临川区大数据中心"})
    ws = wb.add_worksheet("Sheet1")
    bold = wb.add_format({"bold": True, "align": "center", "font_size": 14})
    head = wb.add_format({"bold": True, "border": 1, "bg_color": "#DDEBF7"})
    datef = wb.add_format({"num_format": "yyyy-mm-dd"})
    cols = ["序号", *rows[0].keys()]
    ws.merge_range(0, 0, 0, len(cols) - 1, title, bold)
    for j, c in enumerate(cols):
        ws.write_string(1, j, c, head)
    for i, row in enumerate(rows, start=2):
        ws.write_number(i, 0, i - 1)
        for j, v in enumerate(row.values(), start=1):
            if isinstance(v, dt.date):
                ws.write_datetime(i, j, dt.datetime(v.year, v.month, v.day), datef)
            elif v is None or v == "":
                ws.write_blank(i, j, None)
            else:
                ws.write_string(i, j, str(v))
    last = len(rows) + 2
    ws.write_string(last, 0, "合计")
    ws.write_string(last, 1, f"共{len(rows)}条")
    notes = wb.add_worksheet("填表说明")
    notes.write_string(0, 0, "本表由业务系统导出，日期格式以系统为准；如有疑问请联系数据管理科。")
    wb.close()


def _bundled_truth(generated: set[str]) -> list[list[str]]:
    """Ground-truth rows of models whose inputs are bundled, not generated here.

    sample_data/judgments/ and personnel/ are written by hand (or by generate_judgments.py) and
    their expected answers were added to the committed ground_truth.csv; they are kept after this
    generator's own rows, in their committed order, so regenerating does not drop them and a
    project generated elsewhere (bench/) gets them too.
    """
    path = HERE / "ground_truth.csv"
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return [row for row in list(csv.reader(fh))[1:] if row and row[0] not in generated]


def generate(seed: int, bills: int, out: Path) -> dict[str, int]:
    w = World(random.Random(seed))
    f = bills / DEFAULT_BILLS
    other = min(max(f, 1.0), 50.0)  # the other agencies grow with the district, but slower
    w.max_house_no = max(999, int(bills / 24 * 0.1))
    # Organisation codes are 8 digits from 10,000,000: at a random gap of up to 997 (mean 499)
    # the ~350 k businesses of 50 M bill rows would pass 99,999,999 and make 19-character
    # credit codes. Narrow the gap so the expected number of codes (one business per 144 bill
    # rows, ~500 per unit of `other` for the other agencies; an over-estimate) fits in 85 M.
    expected_orgs = bills / 144 + 500 * other + 1000
    w.org_step = max(1, min(997, int(2 * 85_000_000 / expected_orgs) - 1))
    bg_bills = gen_water(w, bills)
    gen_food(w, other)
    gen_wages(w, other)
    gen_land(w, other)
    gen_clinics(w, other)
    bg_pay = gen_pension(w, max(int(bills / 24 / 2.5), 100))

    # xlsx dates: the market regulator's system exports some as real dates, some as text
    r = w.rng
    for row in w.tables["business_licences"]:
        if row["成立日期"] and r.random() < 0.5 and "年" not in row["成立日期"]:
            d = row["成立日期"].replace("/", "-").replace(".", "-")
            try:
                y, m, dd = (
                    (int(x) for x in d.split("-"))
                    if "-" in d
                    else (int(d[:4]), int(d[4:6]), int(d[6:]))
                )
                row["成立日期"] = dt.date(y, m, dd)
            except ValueError:
                pass
    for row in w.tables["food_licences"]:
        for k in ("发证日期", "有效期至"):
            if isinstance(row[k], dt.date) and r.random() < 0.4:
                row[k] = fmt_date(row[k], r.randint(0, 4))

    # the shapes added later: their own random stream, after everything above
    w2 = World(random.Random(seed + 13), w.tables, w.truth, w._ids, _counters=w._counters)
    gen_land_shapes(w2)
    gen_lending(w2)

    # Memory at large --scale: the uniqueness sets only served generation, each table's rows are
    # dropped once written, and the two chunked tables go last, when little else is held.
    w._ids.clear()
    w._addr_used.clear()
    w._names_used.clear()
    big = ("water_bills", "pension_payments")
    counts: dict[str, int] = {}
    for ds in [d for d in FILES if d not in big] + list(big):
        rel, enc = FILES[ds]
        path = out / rel
        rows = w.tables.pop(ds, [])
        if rel.endswith(".xlsx"):
            write_xlsx(rows, path, enc)
            counts[ds] = len(rows)
            continue
        if ds == "water_bills":
            counts[ds] = write_csv_frames(_bill_frames(rows, bg_bills), path, enc)
            continue
        if ds == "pension_payments":
            counts[ds] = write_csv_frames(_pension_frames(rows, bg_pay), path, enc)
            continue
        df = _frame(rows)
        write_csv(df, path, enc)
        counts[ds] = df.height
        del df, rows
    counts = {ds: counts[ds] for ds in FILES}

    truth = sorted(w.truth, key=lambda t: (t[0], t[3], t[1]))
    truth += _bundled_truth({t[0] for t in truth})
    with (out / "ground_truth.csv").open("w", encoding="utf-8", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["model_id", "subject_id", "subject_name", "expected", "why"])
        wr.writerows(truth)
    counts["ground_truth"] = len(truth)
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seed", type=int, default=20241231)
    ap.add_argument("--scale", type=int, default=DEFAULT_BILLS, help="number of water bill rows")
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: sample_data/)")
    a = ap.parse_args()
    counts = generate(a.seed, a.scale, a.out)
    for k, v in counts.items():
        print(f"{k:26s} {v:>10,d}")


if __name__ == "__main__":
    main()
