"""report.md is built as plain strings (collide.export.report.report_md). It must read exactly
as the Jinja2 template it replaced renders it (tests/template_reference.py), on generated runs:
titles and messages holding Markdown (`|`, `*`, `[x](…)`, `#` at the start, line breaks, HTML),
numbers and empty values, with and without exclusions, failed files, follow-ups, figures and
data-quality outcomes with failing rows."""

from __future__ import annotations

import template_reference
from hypothesis import given, settings
from hypothesis import strategies as st

from collide.export.hitlist import ClueCounts
from collide.export.report import report_md

texts = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=st.sampled_from("|*_[]()#-+=1.<>&`\\~$ \n张"), max_size=10),
    st.sampled_from(["", "# 标题", "1. 条", "[x](javascript:alert(1))", "<b>粗</b>", "a_b"]),
)
values = st.one_of(st.none(), texts, st.integers(-5, 10**6), st.floats(0, 100))
counts = st.builds(
    ClueCounts,
    listed=st.integers(0, 99),
    new=st.integers(0, 9),
    ongoing=st.integers(0, 9),
    gone=st.integers(0, 9),
    excluded=st.integers(0, 3),
)


def rows(keys: list[str], max_size: int = 3) -> st.SearchStrategy:
    return st.lists(st.fixed_dictionaries({k: values for k in keys}), max_size=max_size)


outcomes = st.fixed_dictionaries(
    {
        "flag": st.sampled_from(["通过", "未通过（阻断）", "未通过（警告）"]),
        "text": texts,
        "rows": rows(["file", "row", "json"], 2),
    }
)
runs = st.fixed_dictionaries(
    {
        "run_id": texts,
        "status": texts,
        "run_date": values,
        "started_at": values,
        "finished_at": values,
        "seconds": values,
        "counts": counts,
        "datasets": rows(
            ["id", "status", "snapshot", "read", "loaded", "rejected", "quality", "message"]
        ),
        "problems": st.lists(texts, max_size=2),
        "models": rows(["id", "status", "hits", "seconds", "note"]),
        "quality": st.lists(
            st.fixed_dictionaries({"id": texts, "outcomes": st.lists(outcomes, max_size=2)}),
            max_size=2,
        ),
        "followups": rows(["rank", "clue_id", "model", "subject", "status"]),
        "figures": st.lists(
            st.fixed_dictionaries(
                {
                    "label": texts,
                    "paragraph": texts,
                    "cells": st.lists(st.tuples(texts, values), max_size=3),
                }
            ),
            max_size=2,
        ),
    }
)


@settings(max_examples=200, deadline=None)
@given(run=runs)
def test_the_report_reads_as_the_template_renders_it(run: dict) -> None:
    assert report_md(**run) == template_reference.reference_report(**run)
