"""`collide stats` and `collide audit`: the figures a procuratorate reports, and who did what."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from collide.cli.common import project_option
from collide.errors import CollideError, Problem


def _date(option: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    from collide.clues.dispositions import parse_dates

    day = parse_dates([value])[0]
    if day is None:
        raise CollideError(
            Problem(option, None, f'"{value}" is not a date', "Write it like 2026-01-01")
        )
    return day


@click.command("stats")
@click.option("--from", "start", default=None, help="First run date counted (e.g. 2026-01-01).")
@click.option("--to", "end", default=None, help="Last run date counted.")
@click.option("--by", type=click.Choice(["model", "line", "assignee"]), default="model")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "xlsx"]), default="table")
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write here."
)
@click.option(
    "--chart",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also draw the funnel and monthly chart as a PNG.",
)
@project_option
def stats(
    project: Any,
    start: str | None,
    end: str | None,
    by: str,
    fmt: str,
    output: Path | None,
    chart: Path | None,
) -> None:
    """Clues, decisions, cases and 整改 per model (or 条线 / 承办人) and in total."""
    from collide.stats import compute
    from collide.stats.figures import paragraph
    from collide.stats.output import print_table, to_csv, write_csv, write_xlsx

    first, last = _date("--from", start), _date("--to", end)
    if first and last and first > last:
        raise CollideError(Problem("--from", None, f"{first} is after --to {last}", "Swap them"))
    if fmt == "xlsx" and output is None:
        raise CollideError(
            Problem("--format xlsx", None, "a workbook needs a file", "Add --output stats.xlsx")
        )
    with project.store.connect() as con:
        figures = compute(project, con, first, last, by)
    text = paragraph(figures)
    if fmt == "csv":
        if output is None:
            click.echo("\ufeff" + to_csv(figures), nl=False)
        else:
            write_csv(figures, output)
    elif fmt == "xlsx":
        assert output is not None
        write_xlsx(figures, output, text)
    else:
        if output is None:
            print_table(figures, text, click.echo)
        else:
            lines: list[str] = []
            print_table(figures, text, lines.append)
            output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if chart is not None:
        from collide.stats.chart import render

        render(figures, chart)
    if output is not None or chart is not None:
        written = ", ".join(str(p) for p in (output, chart) if p is not None)
        click.echo(f"Written: {written}", err=True)


@click.command("audit")
@click.option("--from", "start", default=None, help="First day listed (e.g. 2026-01-01).")
@click.option("--to", "end", default=None, help="Last day listed.")
@project_option
def audit(project: Any, start: str | None, end: str | None) -> None:
    """The audit log: runs, review imports, unmasked exports — who, when, what."""
    from collide.store.reviews import audit_entries

    with project.store.connect() as con:
        entries = audit_entries(con, _date("--from", start), _date("--to", end))
    click.echo("\t".join(("时间", "操作", "用户", "主机", "内容")))
    actions = {
        "run": "运行",
        "review_import": "导入审查结论",
        "export_unmasked": "未脱敏导出",
        "clues_unmasked": "未脱敏查看线索",
    }
    for e in entries:
        try:
            detail = json.loads(e["detail"] or "{}")
        except ValueError:
            detail = {"detail": e["detail"]}
        user, host = detail.pop("user", ""), detail.pop("host", "")
        what = "; ".join(f"{k}={v}" for k, v in detail.items())
        click.echo(
            "\t".join(
                (
                    str(e["logged_at"]),
                    actions.get(e["action"], e["action"]),
                    str(user),
                    str(host),
                    what,
                )
            )
        )
    click.echo(f"{len(entries)} entries.", err=True)
