"""`collide model pack|add|similar` and `collide new model`: models that travel between
projects, and new models started from a shape."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from collide.cli.common import _console, _rel, project_option


@click.group("model")
def model_group() -> None:
    """Share models: pack one, add one from another project, find near-duplicates."""


@model_group.command("pack")
@click.argument("model_id")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Package file (default: <id>.collide.yaml in the current folder).",
)
@click.option(
    "--version", "version", default=None, help="Version to stamp (default: content hash)."
)
@click.option(
    "--with-sample",
    "sample",
    type=click.IntRange(min=0),
    default=0,
    help="Add N masked rows per input from the latest snapshots (default: no agency data).",
)
@project_option
def pack(
    project: Any, model_id: str, output: Path | None, version: str | None, sample: int
) -> None:
    """Write one model, its tests and the contract of its inputs into one file."""
    from collide.share.package import SUFFIX, pack_model, write_package

    doc = pack_model(project, model_id, version, sample)
    dest = output or Path.cwd() / f"{model_id}{SUFFIX}"
    write_package(doc, dest)
    con = _console()
    cols = sum(len(e["columns"]) for e in doc["contract"].values())
    con.print(
        f"Packed {model_id} {doc['version']} ({doc['tests']} tests, {len(doc['contract'])} "
        f"inputs, {cols} columns in the contract"
        + (f", {sample} masked sample rows per input" if sample else ", no agency data")
        + f") → {_rel(project, dest)}",
        markup=False,
    )


@model_group.command("add")
@click.argument("package", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--mapping",
    "-m",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Mapping file (package names → local names); written as a template if it is missing.",
)
@click.option(
    "--yes", "-y", is_flag=True, help="Replace an installed older version without asking."
)
@project_option
def add(project: Any, package: Path, mapping: Path | None, yes: bool) -> None:
    """Install a packaged model: map its inputs, check it, run its tests, then write it."""
    from collide.share.install import describe_needs, install_package
    from collide.share.package import read_package

    con = _console()
    doc = read_package(package)
    for line in describe_needs(doc):
        con.print(line, markup=False)
    template = mapping or Path.cwd() / f"{doc['id']}.mapping.yaml"

    def confirm(text: str) -> bool:
        con.print(text, markup=False)
        if not sys.stdin.isatty():
            return False
        return click.confirm("Replace the installed model?", default=False)

    result = install_package(
        project, package, mapping, yes=yes, confirm=confirm, template_path=template
    )
    for line in result.mapping.how:
        con.print(f"  mapped {line}", markup=False)
    if result.unchanged:
        con.print(f"{result.model_id} {doc['version']} is already installed; nothing to do.")
        return
    for note in result.notes:
        con.print(f"  note: {note}", markup=False)
    verb = "Replaced" if result.replaced else "Installed"
    files = ", ".join(_rel(project, f) for f in result.files)
    con.print(
        f"{verb} {result.model_id} {doc['version']}: collide check and its tests pass. "
        f"Wrote {files}.",
        markup=False,
    )


@model_group.command("similar")
@click.argument("target", required=False)
@click.option(
    "--all", "show_all", is_flag=True, help="Show every comparison, not only near-duplicates."
)
@click.option(
    "--mapping",
    "-m",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="For a package: its mapping file, to compare on this project's names.",
)
@project_option
def similar(project: Any, target: str | None, show_all: bool, mapping: Path | None) -> None:
    """Near-duplicates of a model (an id or a package file) among the project's models.

    Near-duplicates read the same inputs, join them on the same keys and have SQL trees at
    least 90% alike once names, aliases and constants are set aside."""
    from collide.share.similar import compare_project

    con = _console()
    pairs = compare_project(project, target, mapping)
    dupes = [p for p in pairs if p.near_duplicate]
    for p in pairs:
        if p.near_duplicate or show_all:
            mark = "NEAR-DUPLICATE" if p.near_duplicate else "different"
            con.print(f"{mark}: {p.a} ~ {p.b}: {p.why}", markup=False)
    con.print(
        f"{len(dupes)} near-duplicate pair{'s' if len(dupes) != 1 else ''} "
        f"among {len(pairs)} compared.",
        markup=False,
    )


@click.group("new")
def new_group() -> None:
    """Start something new from a guided template."""


def _ask(
    value: Any,
    flag: str,
    question: str,
    choices: list[tuple[str, str]] | None = None,
    default: str | None = None,
    optional: bool = False,
) -> Any:
    """The flag's value, else a question in the terminal (choices numbered); without a terminal
    a missing required answer is a mistake naming its flag."""
    from collide.errors import CollideError, Problem

    if value is not None:
        return value
    if not sys.stdin.isatty():
        if optional or default is not None:
            return default if default is not None else ""
        raise CollideError(
            Problem(
                flag, None, "no answer given", f"Give {flag} (or run in a terminal to be asked)"
            )
        )
    con = _console()
    if choices:
        con.print(question, markup=False)
        for i, (val, label) in enumerate(choices, 1):
            con.print(f"  {i}) {val}  {label}".rstrip(), markup=False)
        values = [v for v, _ in choices]
        while True:
            raw = click.prompt(
                "请输入编号或名称", default=default or None, show_default=bool(default)
            )
            raw = str(raw).strip()
            if raw.isdigit() and 1 <= int(raw) <= len(values):
                return values[int(raw) - 1]
            if raw in values:
                return raw
            con.print("请从上面的选项中选择。", markup=False)
    answer = click.prompt(
        question, default=default if default is not None else "", show_default=bool(default)
    )
    return str(answer).strip()


def _column_choices(spec: Any, types: set[str] | None = None) -> list[tuple[str, str]]:
    return [
        (name, f"{col.type}  {col.from_[0]}")
        for name, col in spec.columns.items()
        if types is None or col.type in types
    ]


@new_group.command("model")
@click.option("--shape", help="有A无B | 身份冲突 | 时间重叠 | 数量异常 (or a_without_b, …).")
@click.option("--a", "a", help="Dataset A (the one the subjects come from).")
@click.option("--a-key", help="Key column of A.")
@click.option("--b", "b", help="Dataset B (not for 数量异常).")
@click.option("--b-key", help="Column of B that matches A's key.")
@click.option("--a-start", help="时间重叠: start of A's period.")
@click.option("--a-end", help="时间重叠: end of A's period ('' if A has one date).")
@click.option("--b-start", help="时间重叠: B's date, or start of its period.")
@click.option("--b-end", help="时间重叠: end of B's period ('' if B has one date).")
@click.option("--measure", type=click.Choice(["count", "sum", "distinct"]), help="数量异常.")
@click.option("--measure-column", help="数量异常: the column summed or counted.")
@click.option("--condition", help="Extra SQL condition on a.<column> / b.<column> ('' for none).")
@click.option("--threshold", type=float, help="时间重叠: minimum days; 数量异常: minimum value.")
@click.option("--id", "model_id", help="Model id (a-z, 0-9, _).")
@click.option("--title", help="模型名称.")
@click.option("--domain", help="条线 (e.g. 国有财产保护).")
@click.option("--legal-basis", help="法律依据 ('' to fill in later).")
@click.option("--name-column", help="Column of A with the subject's name (default: guessed).")
@click.option(
    "--subject-type",
    type=click.Choice(["person", "organisation", "project", "parcel", "account", "other"]),
)
@project_option
def new_model(project: Any, **opts: Any) -> None:
    """开始一个新模型：按四种常见形态提问，生成 YAML、SQL 和待填写的测试。"""
    from collide.errors import CollideError, Problem
    from collide.share.scaffold import (
        MEASURES,
        NUMERIC,
        SHAPE_HELP,
        SHAPES,
        TIME_TYPES,
        Answers,
        create_model,
        name_column_for,
        needs_b,
        shape_of,
        subject_type_for,
    )

    con = _console()
    conns = project.catalog.connectors
    if not conns:
        raise CollideError(
            Problem("connectors/", None, "the project has no datasets yet", "Add a connector first")
        )
    ds_choices = [(cid, c.spec.title) for cid, c in conns.items()]
    raw_shape = _ask(
        opts["shape"],
        "--shape",
        "模型属于哪种形态？",
        [(zh, SHAPE_HELP[k]) for k, zh in SHAPES.items()],
    )
    shape = shape_of(raw_shape)
    if shape is None:
        raise CollideError(
            Problem(
                "--shape",
                None,
                f'unknown shape "{raw_shape}"',
                "Use " + " | ".join(SHAPES.values()),
            )
        )

    def dataset(flag: str, question: str, value: Any) -> str:
        got = _ask(value, flag, question, ds_choices)
        if got not in conns:
            from collide.errors import did_you_mean

            raise CollideError(Problem(flag, None, f'no dataset "{got}"', did_you_mean(got, conns)))
        return got

    def column(
        flag: str,
        question: str,
        value: Any,
        ds: str,
        types: set[str] | None = None,
        optional: bool = False,
    ) -> str | None:
        choices = _column_choices(conns[ds].spec, types)
        if optional:
            choices = [("-", "（没有）")] + choices
        got = _ask(
            value, flag, question, choices, default="-" if optional else None, optional=optional
        )
        return None if got in ("-", "") else got

    a = dataset("--a", "数据集 A（线索的主体来自这里）：", opts["a"])
    a_key = column("--a-key", f"A（{conns[a].spec.title}）用哪一列关联？", opts["a_key"], a)
    b = b_key = None
    if needs_b(shape):
        b = dataset("--b", "数据集 B：", opts["b"])
        b_key = column(
            "--b-key", f"B（{conns[b].spec.title}）中与 A.{a_key} 对应的列：", opts["b_key"], b
        )
    ans: dict[str, Any] = {}
    if shape == "time_overlap":
        ans["a_start"] = column(
            "--a-start", "A 的期间从哪一列开始？", opts["a_start"], a, TIME_TYPES
        )
        ans["a_end"] = column(
            "--a-end",
            "A 的期间到哪一列结束？（没有则选 -）",
            opts["a_end"],
            a,
            TIME_TYPES,
            optional=True,
        )
        ans["b_start"] = column(
            "--b-start", "B 的日期（或期间开始）是哪一列？", opts["b_start"], b, TIME_TYPES
        )
        ans["b_end"] = column(
            "--b-end",
            "B 的期间结束列（只有一个日期则选 -）：",
            opts["b_end"],
            b,
            TIME_TYPES,
            optional=True,
        )
    if shape == "count_anomaly":
        measure = _ask(
            opts["measure"],
            "--measure",
            "比较什么？",
            [(k, v) for k, v in MEASURES.items()],
            default="count",
        )
        ans["measure"] = measure
        if measure != "count":
            ans["measure_column"] = column(
                "--measure-column",
                f"对哪一列求{MEASURES[measure]}？",
                opts["measure_column"],
                a,
                NUMERIC if measure == "sum" else None,
            )
    ans["condition"] = _ask(
        opts["condition"],
        "--condition",
        "附加条件（SQL；A 的列写 a.列名，B 的列写 b.列名；直接回车表示没有）",
        optional=True,
    )
    if shape in ("time_overlap", "count_anomaly"):
        q = "重叠至少多少天？" if shape == "time_overlap" else "达到多少算异常（至少）？"
        raw = _ask(
            opts["threshold"], "--threshold", q, default="1" if shape == "time_overlap" else "2"
        )
        try:
            value = float(raw)
        except ValueError:
            raise CollideError(
                Problem("--threshold", None, f'"{raw}" is not a number', "")
            ) from None
        ans["threshold"] = int(value) if value == int(value) else value
    default_id = f"{a}_{shape}" if b is None else f"{a}_{shape}_{b}"
    model_id = _ask(
        opts["model_id"], "--id", "模型编号（小写字母、数字、下划线）", default=default_id
    )
    title_default = (
        f"{conns[a].spec.title}{SHAPES[shape]}"
        if b is None
        else f"{conns[a].spec.title}与{conns[b].spec.title}{SHAPES[shape]}"
    )
    title = _ask(opts["title"], "--title", "模型名称", default=title_default)
    domain = _ask(
        opts["domain"], "--domain", "条线（如 国有财产保护、食品药品安全）", default="待定"
    )
    legal = _ask(opts["legal_basis"], "--legal-basis", "法律依据（可稍后填写）", optional=True)
    spec_a = conns[a].spec
    name_col = (
        opts["name_column"] or name_column_for(spec_a, a_key) if a_key in spec_a.columns else None
    )
    subject_type = opts["subject_type"] or (
        subject_type_for(spec_a.columns[a_key].type) if a_key in spec_a.columns else "other"
    )
    answers = Answers(
        shape=shape,
        a=a,
        a_key=a_key,
        b=b,
        b_key=b_key,
        id=model_id,
        title=title,
        domain=domain,
        legal_basis=legal,
        name_column=name_col,
        subject_type=subject_type,
        **ans,
    )
    paths = create_model(project, answers)
    con.print(
        f"已生成 {', '.join(_rel(project, p) for p in paths)}：collide check 通过。", markup=False
    )
    con.print(
        f"下一步：在 {_rel(project, paths[0])} 的 tests: 中填入真实行，"
        f"然后运行 collide test {model_id}（填好之前测试不会通过）。",
        markup=False,
    )
