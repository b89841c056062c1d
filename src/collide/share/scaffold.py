"""`collide new model`: a model started from a shape a clerk knows, not from an empty file.

Four shapes: 有A无B, 身份冲突, 时间重叠, 数量异常. The answers (datasets, keys, condition,
threshold) become YAML + SQL + one test whose rows are placeholders: the files pass `collide
check` at once, and the test fails until real rows are filled in, so no model ships untested.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from collide.config.specs import ID_RE
from collide.errors import CollideError, Problem

SHAPES: dict[str, str] = {
    "a_without_b": "有A无B",
    "identity_conflict": "身份冲突",
    "time_overlap": "时间重叠",
    "count_anomaly": "数量异常",
}
SHAPE_HELP: dict[str, str] = {
    "a_without_b": "A 中有、B 中没有（如：有诊所登记、无医废处置合同）",
    "identity_conflict": "同一主体出现在不该同时出现的两份名单（如：受刑事处罚仍任食品企业负责人）",
    "time_overlap": "A 的期间与 B 的日期或期间重叠（如：服刑期间仍领取养老金）",
    "count_anomaly": "同一主体的笔数或金额超过阈值（如：同月重复发放）",
}
MEASURES = {"count": "笔数", "sum": "合计", "distinct": "不同值个数"}
NUMERIC = {"int", "decimal", "money"}
TIME_TYPES = {"date", "datetime"}
PLACEHOLDER = "待填写"


@dataclass
class Answers:
    shape: str
    a: str
    a_key: str
    id: str
    title: str
    domain: str
    legal_basis: str = ""
    b: str | None = None
    b_key: str | None = None
    condition: str = ""
    a_start: str | None = None
    a_end: str | None = None
    b_start: str | None = None
    b_end: str | None = None
    measure: str = "count"
    measure_column: str | None = None
    threshold: float | int = 1
    name_column: str | None = None
    subject_type: str | None = None
    severity: str = "medium"


def shape_of(value: str) -> str | None:
    """A shape by its English name, its Chinese name or its number (1–4)."""
    value = value.strip()
    for i, (key, zh) in enumerate(SHAPES.items(), 1):
        if value in (key, zh, str(i)):
            return key
    return None


def needs_b(shape: str) -> bool:
    return shape != "count_anomaly"


def subject_type_for(semantic: str) -> str:
    return {"cn_id": "person", "person_name": "person", "cn_uscc": "organisation"}.get(
        semantic, "organisation" if semantic == "org_name" else "other"
    )


def name_column_for(conn: Any, key: str) -> str | None:
    key_type = conn.columns[key].type
    wanted = ("person_name",) if key_type in ("cn_id", "person_name") else ("org_name",)
    for name, col in conn.columns.items():
        if name != key and col.type in wanted:
            return name
    for name, col in conn.columns.items():
        if name != key and col.type in ("person_name", "org_name"):
            return name
    return None


# --------------------------------------------------------------------------- rendering


def render(ans: Answers, catalog: Any) -> tuple[str, str]:
    """The model's YAML and SQL for these answers."""
    a = catalog.connectors[ans.a].spec
    b = catalog.connectors[ans.b].spec if ans.b else None
    key = ans.a_key
    name = ans.name_column
    cond = ans.condition.strip()
    sel = [f"a.{key}"] + ([f"any_value(a.{name}) AS {name}"] if name else [])
    params: dict[str, Any] = {}
    if ans.shape == "a_without_b":
        head = f"-- 有A无B：{a.title}中有、{b.title}中没有的记录（a.{key} = b.{ans.b_key}）。"
        sql = [
            head,
            "SELECT " + ",\n       ".join(sel + ["count(*) AS records"]),
            f"FROM {ans.a} AS a",
            f"WHERE a.{key} IS NOT NULL",
            f"  AND NOT EXISTS (SELECT 1 FROM {ans.b} AS b WHERE b.{ans.b_key} = a.{key})",
        ]
        if cond:
            sql.append(f"  AND ({cond})")
        sql.append(f"GROUP BY a.{key}")
        reason = f"{{{name or key}}}在{a.title}中有记录{{records}}条，{b.title}中没有对应记录"
        score = "records"
    elif ans.shape == "identity_conflict":
        sql = [
            f"-- 身份冲突：同一主体同时出现在{a.title}与{b.title}中（a.{key} = b.{ans.b_key}）。",
            "SELECT " + ",\n       ".join(sel + ["count(*) AS matches"]),
            f"FROM {ans.a} AS a",
            f"JOIN {ans.b} AS b ON b.{ans.b_key} = a.{key}",
            f"WHERE a.{key} IS NOT NULL",
        ]
        if cond:
            sql.append(f"  AND ({cond})")
        sql.append(f"GROUP BY a.{key}")
        reason = f"{{{name or key}}}同时见于{a.title}与{b.title}（{{matches}}条）"
        score = "matches"
    elif ans.shape == "time_overlap":
        far = "DATE '9999-12-31'"

        def day(alias: str, spec: Any, col: str) -> str:
            ref = f"{alias}.{col}"
            return ref if spec.columns[col].type == "date" else f"CAST({ref} AS DATE)"

        a0 = day("a", a, ans.a_start)
        a1 = f"coalesce({day('a', a, ans.a_end)}, {far})" if ans.a_end else a0
        b0 = day("b", b, ans.b_start)
        b1 = f"coalesce({day('b', b, ans.b_end)}, {far})" if ans.b_end else b0
        days = f"least({a1}, {b1}) - greatest({a0}, {b0}) + 1"
        sql = [
            f"-- 时间重叠：{a.title}的期间与{b.title}重叠（a.{key} = b.{ans.b_key}）。",
            "SELECT "
            + ",\n       ".join(
                sel
                + [
                    "count(*) AS overlaps",
                    f"max({days}) AS overlap_days",
                    f"min(greatest({a0}, {b0})) AS first_overlap",
                ]
            ),
            f"FROM {ans.a} AS a",
            f"JOIN {ans.b} AS b ON b.{ans.b_key} = a.{key}",
            f"WHERE greatest({a0}, {b0}) <= least({a1}, {b1})",
        ]
        if cond:
            sql.append(f"  AND ({cond})")
        sql += [f"GROUP BY a.{key}", f"HAVING max({days}) >= $min_days"]
        params["min_days"] = int(ans.threshold)
        reason = (
            f"{{{name or key}}}在{a.title}期间（自{{first_overlap}}起）有{b.title}记录"
            "{overlaps}条，最长重叠{overlap_days}天"
        )
        score = "overlap_days"
    else:
        col = ans.measure_column
        expr = {
            "count": "count(*)",
            "sum": f"sum(a.{col})",
            "distinct": f"count(DISTINCT a.{col})",
        }[ans.measure]
        sql = [
            f"-- 数量异常：{a.title}中同一主体的{MEASURES[ans.measure]}达到阈值。",
            "SELECT " + ",\n       ".join(sel + [f"{expr} AS amount"]),
            f"FROM {ans.a} AS a",
            f"WHERE a.{key} IS NOT NULL",
        ]
        if cond:
            sql.append(f"  AND ({cond})")
        sql += [f"GROUP BY a.{key}", f"HAVING {expr} >= $threshold"]
        params["threshold"] = ans.threshold
        reason = f"{{{name or key}}}在{a.title}中的{MEASURES[ans.measure]}为{{amount}}，达到阈值"
        score = "amount"
    subject = f"{{type: {ans.subject_type}, id: {key}" + (f", name: {name}}}" if name else "}")
    evidence = [f"  - {{dataset: {ans.a}, on: {{{key}: {key}}}}}"]
    if b is not None and ans.shape != "a_without_b":
        evidence.append(f"  - {{dataset: {ans.b}, on: {{{ans.b_key}: {key}}}}}")
    yaml = textwrap.dedent(
        f"""\
        id: {ans.id}
        title: {_q(ans.title)}
        domain: {_q(ans.domain)}
        description: {_q(f"{SHAPES[ans.shape]}：{SHAPE_HELP[ans.shape]}。请改写为本模型的说明。")}
        legal_basis: {_q(ans.legal_basis)}
        severity: {ans.severity}
        inputs: [{", ".join([ans.a] + ([ans.b] if ans.b else []))}]
        params: {{{", ".join(f"{k}: {v}" for k, v in params.items())}}}
        subject: {subject}
        score: {score}
        reason: {_q(reason)}
        evidence:
        """
    )
    yaml += "\n".join(evidence) + "\n" + _test_skeleton(ans, a, b)
    return yaml, "\n".join(sql) + "\n"


def _test_skeleton(ans: Answers, a: Any, b: Any) -> str:
    """One test that fails until real rows replace the placeholders."""
    a_cols = ", ".join(a.columns)
    lines = [
        "tests:",
        "  # 请用真实案例替换下面的示例行：given 写入各数据集的行（只写用到的列），",
        "  # expect 写应当命中的主体。填好之前这个测试不会通过。",
        "  - name: 应命中的情形（请改为真实案例）",
        "    given:",
        f"      {ans.a}:  # 列：{a_cols}",
        f'        - {{{ans.a_key}: "{PLACEHOLDER}"}}',
    ]
    if b is not None:
        lines += [
            f"      {ans.b}:  # 列：{', '.join(b.columns)}",
            f'        - {{{ans.b_key}: "{PLACEHOLDER}"}}',
        ]
    lines += [f'    expect: [{{{ans.a_key}: "{PLACEHOLDER}：应命中的编号"}}]']
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


# --------------------------------------------------------------------------- validation


def check_answers(ans: Answers, catalog: Any) -> list[Problem]:
    """Each answer that cannot work, named by its flag, with what would."""
    from collide.config.specs import DUCKDB_TYPES

    out: list[Problem] = []
    conns = catalog.connectors

    def col_problem(flag: str, ds: str, col: str | None, types: set[str] | None = None) -> None:
        if col is None:
            out.append(Problem(flag, None, "an answer is needed", f"Give {flag} COLUMN"))
            return
        cols = conns[ds].spec.columns
        if col not in cols:
            from collide.errors import did_you_mean

            out.append(
                Problem(flag, None, f'"{ds}" has no column "{col}"', did_you_mean(col, cols))
            )
        elif types and cols[col].type not in types:
            ok = [n for n, c in cols.items() if c.type in types]
            out.append(
                Problem(
                    flag,
                    None,
                    f"{ds}.{col} is {cols[col].type}; needed: {'/'.join(sorted(types))}",
                    f"Columns that fit: {', '.join(ok) or 'none'}",
                )
            )

    if not ID_RE.match(ans.id):
        out.append(Problem("--id", None, f'model id "{ans.id}" may use only a-z, 0-9 and _', ""))
    elif ans.id in catalog.models:
        out.append(Problem("--id", None, f'a model "{ans.id}" already exists', "Choose another id"))
    for flag, ds in (("--a", ans.a), ("--b", ans.b)):
        if ds is not None and ds not in conns:
            from collide.errors import did_you_mean

            out.append(Problem(flag, None, f'no dataset "{ds}"', did_you_mean(ds, conns) or ""))
    if out:
        return out
    col_problem("--a-key", ans.a, ans.a_key)
    if needs_b(ans.shape):
        if ans.b is None:
            out.append(Problem("--b", None, f"{SHAPES[ans.shape]} needs a dataset B", ""))
            return out
        col_problem("--b-key", ans.b, ans.b_key)
        if not out:
            ta = DUCKDB_TYPES[conns[ans.a].spec.columns[ans.a_key].type]
            tb = DUCKDB_TYPES[conns[ans.b].spec.columns[ans.b_key].type]
            if ta != tb:
                out.append(
                    Problem(
                        "--b-key",
                        None,
                        f"{ans.a}.{ans.a_key} ({ta}) cannot be matched with "
                        f"{ans.b}.{ans.b_key} ({tb})",
                        "Pick two key columns of the same kind",
                    )
                )
    if ans.shape == "time_overlap":
        col_problem("--a-start", ans.a, ans.a_start, TIME_TYPES)
        if ans.a_end:
            col_problem("--a-end", ans.a, ans.a_end, TIME_TYPES)
        col_problem("--b-start", ans.b, ans.b_start, TIME_TYPES)
        if ans.b_end:
            col_problem("--b-end", ans.b, ans.b_end, TIME_TYPES)
    if ans.shape == "count_anomaly" and ans.measure != "count":
        col_problem(
            "--measure-column",
            ans.a,
            ans.measure_column,
            NUMERIC if ans.measure == "sum" else None,
        )
    return out


def create_model(project: Any, ans: Answers) -> list[Any]:
    """Write the model, after `collide check` passes on it in a scratch copy of the project."""
    from collide.share.install import verify

    problems = check_answers(ans, project.catalog)
    if problems:
        raise CollideError(problems)
    yaml, sql = render(ans, project.catalog)
    try:
        verify(project, ans.id, yaml, sql, ".sql", run_tests=False)
    except CollideError as exc:
        exc.problems.append(
            Problem("--condition", None, "nothing was written", "Check the condition's columns")
            if ans.condition
            else Problem(None, None, "nothing was written", "Check the answers above")
        )
        raise
    folder = project.path(project.config.paths.models)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{ans.id}.yaml", folder / f"{ans.id}.sql"]
    paths[0].write_text(yaml, encoding="utf-8")
    paths[1].write_text(sql, encoding="utf-8")
    return paths
