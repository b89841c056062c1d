"""A model's evidence page (evidence/<model>.html) is built as plain strings by
collide.export.evidence. It must read exactly as the Jinja2 template it replaced renders it
(tests/template_reference.py), byte for byte, on generated clues: agency texts with markup,
quotes and ampersands, ID numbers to mask, empty and missing values, money, dates, clues with
and without hit rows, quality warnings, reviews and follow-ups, models without evidence."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from pathlib import Path

import template_reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collide.export.evidence import HIT_KEY, EvidenceBook

texts = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.sampled_from("张三<>&\"'/ \n\t=;"), max_size=12),
    st.sampled_from(
        [
            "110105199003071234",
            "身份证号110105199003071234的人",
            "<script>alert(1)</script>",
            "&amp;",
            "A&B 'x' \"y\"",
            "",
        ]
    ),
)
values = st.one_of(
    st.none(),
    texts,
    st.integers(-(10**6), 10**9),
    st.sampled_from([110105199003071234, 10**17, 0, -1]),  # an ID stored as a number: masked
    st.booleans(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=10**6, min_value=-1),
    st.dates().map(dt.date.isoformat),
)
COLUMNS = ["身份证号", "姓名", "金额", "备注", "id_key", "id", "_source_file", "_source_row"]


def _number(value: object) -> object:
    """Money as a JSON number, as the store keeps it (read back as a Decimal)."""
    return float(value) if isinstance(value, decimal.Decimal) else str(value)


@st.composite
def a_clue(draw: st.DrawFn, n: int) -> tuple[dict, list[tuple[str, str]]]:
    stored = []
    for ds in draw(st.lists(st.sampled_from(["pension", "death", "x<y"]), max_size=3)):
        cols = draw(st.lists(st.sampled_from(COLUMNS), unique=True, max_size=6))
        for _ in range(draw(st.integers(1, 3))):
            row = {c: draw(values) for c in cols}
            if draw(st.booleans()):
                row[HIT_KEY] = True
            stored.append((ds, json.dumps(row, ensure_ascii=False, default=_number)))
    r = {
        "clue_id": f"C{n}<&'",
        "model_id": "m",
        "title": draw(texts),
        "model_version": "1.0",
        "domain": draw(texts),
        "legal_basis": draw(texts),
        "risk": draw(st.one_of(st.integers(0, 100), st.floats(0, 100))),
        "rank": n + 1,
        "subject_type_zh": "自然人",
        "subject_name": draw(texts),
        "subject_id": draw(texts),
        "reason": draw(texts),
        "lifecycle": draw(st.sampled_from(["新增", "持续"])),
        "first_seen": draw(st.one_of(st.dates(), st.just("2024-01-01"))),
        "warnings": draw(st.lists(texts, max_size=2)),
        "evidence_hash": "abc",
        "review_status": draw(st.sampled_from(["", "确认", "排除"])),
        "followup": draw(st.sampled_from(["", "整改中", "逾期未整改（3天）"])),
        "recommendation_no": draw(st.sampled_from([None, "检建〔2024〕1号"])),
        "rectify_by": draw(st.one_of(st.none(), st.dates())),
        "output": draw(
            st.dictionaries(st.sampled_from(["amount", "身份证号", "<b>"]), values, max_size=3)
        ),
    }
    return r, stored


@st.composite
def clue_lists(draw: st.DrawFn) -> list:
    return [draw(a_clue(n)) for n in range(draw(st.integers(1, 4)))]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(clues=clue_lists(), mask=st.booleans(), title=texts)
def test_the_page_reads_as_the_template_renders_it(
    tmp_path: Path, clues: list, mask: bool, title: str
) -> None:
    labels = {
        "datasets": {"pension": "养老金<发放>", "death": "死亡登记"},
        "columns": {"pension": {"身份证号": "公民身份号码", "金额": "金额&元"}},
        "output": {"amount": "金额"},
    }
    snapshots = {"pension": "snap-1", "death": None}
    ours = EvidenceBook(tmp_path, "m", title, snapshots, mask, labels)
    ours.write(clues)
    page = (tmp_path / "m.html").read_bytes().decode("utf-8")  # a \r in a text stays one
    reference = EvidenceBook(tmp_path, "m", title, snapshots, mask, labels)
    assert page == template_reference.reference_page(reference, clues)
    # one clue per \n-ended line (a text may hold U+2028, which splitlines() would split at)
    lines = (tmp_path / "m.jsonl").read_bytes().decode("utf-8").split("\n")[:-1]
    assert [json.loads(x)["线索编号"] for x in lines] == [r["clue_id"] for r, _ in clues]
