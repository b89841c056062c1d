"""The Chinese wording of the gate: one line per outcome, the status words of a report.

What a reviewer reads names columns by the agency's own header (`身份证号`, not `id_number`) and
says the rule and what was found in one sentence. `observed` is the same in English, for the
clerk's terminal (`collide validate`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from collide.jsonutil import jsonable

if TYPE_CHECKING:
    from collide.config.catalog import Connector
    from collide.quality.gx import GxResult
    from collide.quality.plan import Planned
    from collide.quality.report import ExpectationOutcome
    from collide.quality.suite import SuiteEntry

__all__ = ["STATUS_ZH", "outcome_fields", "report_lines", "status_zh"]

# a report's status as the run report says it (never pass/warn/fail to a reviewer)
STATUS_ZH = {"pass": "通过", "warn": "警告", "fail": "阻断"}


def status_zh(status: str | None) -> str:
    """通过 / 警告 / 阻断 for a report's status ("" when the dataset was not validated)."""
    return STATUS_ZH.get(status or "", status or "")


def _verdict(o: ExpectationOutcome) -> str:
    if o.success:
        return "通过"
    return "未通过（阻断）" if o.blocking else "未通过（警告）"


def report_lines(outcomes: list[ExpectationOutcome], rows: int = 5) -> list[str]:
    """Markdown list lines: each outcome's verdict and one-liner, then its first failing rows."""
    lines = []
    for o in outcomes:
        lines.append(f"- {_verdict(o)} {o.description_zh or o.expectation}")
        for fr in o.failing_rows[:rows]:
            text = json.dumps(fr, ensure_ascii=False, default=str).replace("|", "\\|")
            lines.append(f"  - {fr.get('_source_file')} 第 {fr.get('_source_row')} 行：{text}")
    return lines


def _pct(x: float) -> str:
    return f"{x:.1f}%"


def _label(connector: Connector, col: str | None) -> str:
    """The agency's own header for a column (what a reviewer recognises), else its name."""
    if col is None:
        return ""
    spec = connector.spec.columns.get(col)
    if spec is not None and spec.from_:
        return spec.from_[0]
    return col


def outcome_fields(plan: Planned, res: GxResult | None, connector: Connector) -> dict[str, Any]:
    """The fields of one planned expectation's outcome (`report.ExpectationOutcome`), worded for
    the clerk and the reviewers."""
    e = plan.entry
    base = {
        "expectation": e.type,
        "column": e.column,
        "kwargs": jsonable(plan.kwargs),
        "blocking": e.blocking,
        "gx_type": plan.gx_type,
        "line": e.line or None,
    }
    if res is None or res.error is not None:
        short = res.error if res is not None and res.error else "not run"
        zh = f"{_prefix(e, connector)}无法执行：{short}"
        return {**base, "success": False, "observed": f"error: {short}", "description_zh": zh}
    observed, zh = _words(plan, res.result, res.success, connector)
    return {**base, "success": res.success, "observed": observed, "description_zh": zh}


def _prefix(e: SuiteEntry, connector: Connector) -> str:
    """What a failure line starts with: the entry's description, else the column's header."""
    return (
        f"{e.description}："
        if e.description
        else (f"{_label(connector, e.column)}" if e.column else "")
    )


def _words(plan: Planned, r: dict, success: bool, connector: Connector) -> tuple[str, str]:
    """(observed, description_zh) for one result."""
    e, kw, ctx = plan.entry, plan.kwargs, plan.context
    label = _label(connector, e.column)
    lead = f"{e.description}：" if e.description else ""
    n = r.get("element_count")
    u = r.get("unexpected_count")
    missing = r.get("missing_count") or 0
    mostly = kw.get("mostly")
    strict = mostly is None or mostly >= 1
    need = "为100%" if strict else f"不低于{mostly * 100:g}%"
    if e.type == "row_count_vs_previous":
        rows = r.get("observed_value")
        prev = ctx.get("previous")
        if prev is None:
            return (
                f"{rows} rows (no previous snapshot to compare)",
                f"{lead}本期{rows}行（无上期快照，未比较行数）",
            )
        lo = kw.get("min_value")
        hi = kw.get("max_value")
        ratio = f"{rows / prev * 100:.1f}%" if prev else "—"
        bound = f"至少{lo}行" + (f"、至多{hi}行" if hi is not None else "")
        return (
            (
                f"{rows} rows, {ratio} of the previous snapshot's {prev} "
                f"(allowed {lo}{'–' + str(hi) if hi is not None else '+'})"
            ),
            (
                f"{lead}行数应不少于上期的{_pct(ctx['min_ratio'] * 100)}（上期{prev}行，{bound}），"
                f"实际{rows}行（为上期的{ratio}）"
            ),
        )
    if e.type == "rejected_share":
        read, rej, share = ctx["rows_read"], ctx["rows_rejected"], ctx["max_share"]
        pct = rej / read * 100 if read else 0.0
        return (
            f"{rej} of {read} rows rejected at ingest ({_pct(pct)}; allowed {_pct(share * 100)})",
            f"{lead}入库时被拒收的行应不超过{_pct(share * 100)}，"
            f"实际拒收{rej}行（{_pct(pct)}，共读入{read}行）",
        )
    if e.type == "freshness":
        latest = r.get("observed_value")
        since = ctx["since"]
        return (
            f"latest {_fmt(latest)} (must be on or after {_fmt(since)})",
            (
                f"{lead}{label}最新日期应在运行日前{ctx['days']}天内（不早于{_fmt(since)}），"
                f"实际最新为{_fmt(latest) if latest is not None else '空'}"
            ),
        )
    if n is not None and u is not None:
        nonmissing = n - missing
        if e.type == "expect_column_values_to_not_be_null":
            pct = u / n * 100 if n else 0.0
            rule = "不应为空" if strict else f"非空比例应{need}"
            return (
                f"{_pct(pct)} null ({u} of {n})",
                f"{lead}{label}{rule}，实际空值{_pct(pct)}（{u}行，共{n}行）",
            )
        pct = u / nonmissing * 100 if nonmissing else 0.0
        if e.type == "valid_id_rate":
            return (
                f"{_pct(pct)} invalid ({u} of {nonmissing})",
                f"{lead}{label}校验有效比例应{need}，实际{_pct(100 - pct)}"
                + f"（无效{u}个，共{nonmissing}个）",
            )
        if e.type == "expect_column_values_to_be_unique":
            return (
                f"{u} duplicated of {nonmissing} ({_pct(pct)})",
                f"{lead}{label}应唯一，实际{u}行重复（{_pct(pct)}）",
            )
        if e.type == "expect_compound_columns_to_be_unique":
            cols = "、".join(_label(connector, c) for c in kw.get("column_list", []))
            return (
                f"{u} duplicated of {nonmissing} ({_pct(pct)})",
                f"{lead}{cols}组合应唯一，实际{u}行重复（{_pct(pct)}）",
            )
        if e.type == "expect_column_pair_values_a_to_be_greater_than_b":
            a, b = _label(connector, kw.get("column_A")), _label(connector, kw.get("column_B"))
            rel = "不早于" if kw.get("or_equal") else "晚于"
            rule = f"应{rel}{b}" if strict else f"{rel}{b}的比例应{need}"
            return (
                f"{_pct(pct)} unexpected ({u} of {nonmissing})",
                f"{lead}{a}{rule}，实际不符合{_pct(pct)}（{u}行）",
            )
        if e.type == "not_in_future":
            return (
                f"{_pct(pct)} after the run date {_fmt(ctx['run_date'])} ({u} of {nonmissing})",
                (
                    f"{lead}{label}不应晚于运行日{_fmt(ctx['run_date'])}，实际{u}行晚于该日"
                    f"（{_pct(pct)}）"
                ),
            )
        rule = _rule_zh(e.type, kw)
        rule = f"应{rule}" if strict else f"{rule}的比例应{need}"
        return (
            f"{_pct(pct)} unexpected ({u} of {nonmissing})",
            f"{lead}{label}{rule}，实际不符合{_pct(pct)}（{u}行，共{nonmissing}行）",
        )
    obs = r.get("observed_value")
    if e.type in ("required_columns", "expect_table_columns_to_match_set"):
        missing_cols = ((r.get("details") or {}).get("mismatched") or {}).get("missing") or []
        if missing_cols:
            return (
                f"missing columns: {', '.join(map(str, missing_cols))}",
                f"{lead}缺少字段：{'、'.join(_label(connector, c) for c in missing_cols)}",
            )
        return ("all columns present", f"{lead}字段齐全")
    verdict = "通过" if success else "未通过"
    return (f"observed {_fmt(obs)}", f"{lead}{label}检查{e.type}{verdict}，实际值{_fmt(obs)}")


def _rule_zh(etype: str, kw: dict) -> str:
    if etype == "expect_column_values_to_match_regex":
        return "符合格式"
    if etype == "expect_column_values_to_not_match_regex":
        return "不含禁止格式"
    if etype == "expect_column_values_to_be_in_set":
        vals = "、".join(map(str, kw.get("value_set", [])[:8]))
        return f"在（{vals}）之内"
    if etype == "expect_column_values_to_not_be_in_set":
        vals = "、".join(map(str, kw.get("value_set", [])[:8]))
        return f"不在（{vals}）之中"
    if etype == "expect_column_values_to_be_between":
        lo, hi = kw.get("min_value"), kw.get("max_value")
        if lo is not None and hi is not None:
            return f"在{_fmt(lo)}至{_fmt(hi)}之间"
        return f"不小于{_fmt(lo)}" if lo is not None else f"不大于{_fmt(hi)}"
    if etype.startswith("expect_column_value_lengths"):
        return "长度符合要求"
    return "符合要求"


def _fmt(v: Any) -> str:
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S") if v.time() != dt.time() else v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)
