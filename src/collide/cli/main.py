"""The `collide` command line: a thin layer over `Project`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from collide.cli.common import _console, _rel, project_option
from collide.errors import CollideError, Problem


def _parse_params(items: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise CollideError(
                Problem(
                    "--param",
                    None,
                    f'"{item}" is not NAME=VALUE',
                    "Write e.g. --param min_amount=100",
                )
            )
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


class _Progress:
    """A rich progress bar fed by `progress(label, done, total)` callbacks."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("{task.description:<28}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
                console=_console(stderr=True),
                transient=True,
            )
            self.bar.__enter__()
        return self

    def __call__(self, label: str, done: int, total: int | None) -> None:
        if self.bar is None:
            return
        if label not in self.tasks:
            self.tasks[label] = self.bar.add_task(label, total=total)
        # Finished steps leave the display, so it shows what is running now, not a long list.
        finished = total is not None and done >= total
        self.bar.update(self.tasks[label], completed=done, total=total, visible=not finished)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="collide")
@click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Project folder (default: nearest folder with collide.yaml).",
)
@click.pass_context
def cli(ctx: click.Context, project: Path | None) -> None:
    """collide — data-collision models for legal supervision (数据碰撞)."""
    ctx.obj = {"project": project}


@cli.command()
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    default=None,
    help="Also check that every model translates to this engine (default: collide.yaml).",
)
@project_option
def check(project: Any, engine: str | None) -> None:
    """Check connectors, models and suites; report every problem at once."""
    project.engine_name = engine
    problems = project.check()
    con = _console()
    for p in problems:  # a warning (an optional column's header gone, say) does not fail
        con.print(("warning: " if p.severity == "warning" else "") + str(p), markup=False)
    errors = [p for p in problems if p.severity != "warning"]
    if errors:
        con.print(f"{len(errors)} problem{'s' if len(errors) != 1 else ''} found.", markup=False)
        raise SystemExit(1)
    cat = project.catalog
    warned = len(problems)
    tail = f"{warned} warning{'s' if warned != 1 else ''} above." if warned else "no problems."
    con.print(f"OK: {len(cat.connectors)} datasets, {len(cat.models)} models, {tail}")


@cli.command()
@click.argument("datasets", nargs=-1)
@project_option
def ingest(project: Any, datasets: tuple[str, ...]) -> None:
    """Read agency files/databases into snapshots (all datasets, or the ones named)."""
    with _Progress(sys.stderr.isatty()) as prog:
        results = project.ingest(list(datasets) or None, progress=prog)
    _print_ingest(project, results)
    if any(isinstance(r, CollideError) for r in results.values()):
        raise SystemExit(1)


def _print_ingest(project: Any, results: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title="Ingest")
    for col in ("dataset", "snapshot", "files", "read", "loaded", "rejected", "issues"):
        table.add_column(col, justify="right" if col in ("read", "loaded", "rejected") else "left")
    errors = []
    for ds, r in results.items():
        if isinstance(r, CollideError):
            table.add_row(ds, "failed", "", "", "", "", "see below")
            errors.append(r)
            continue
        issues = ", ".join(f"{k} ×{v}" for k, v in sorted(r.issues_by_kind.items()))
        table.add_row(
            ds,
            r.snapshot_id + ("" if r.new else " (unchanged)"),
            str(len(r.files)),
            str(r.rows_read),
            str(r.rows_loaded),
            str(r.rows_rejected),
            issues or "-",
        )
    con = _console()
    con.print(table)
    for e in errors:
        con.print(str(e), markup=False)


@cli.command()
@click.argument("datasets", nargs=-1)
@project_option
def validate(project: Any, datasets: tuple[str, ...]) -> None:
    """Check the latest snapshots against their expectation suites."""
    from rich.table import Table

    reports = project.validate(list(datasets) or None)
    con = _console()
    failed = False
    for ds, rep in reports.items():
        if rep is None:
            con.print(f"{ds}: no expectation suite.")
            continue
        table = Table(title=f"{ds} — {rep.status}")
        for col in ("expectation", "column", "result", "observed", "kind"):
            table.add_column(col)
        for o in rep.outcomes:
            table.add_row(
                o.expectation,
                o.column or "",
                "pass" if o.success else "FAIL",
                o.observed,
                "blocking" if o.blocking else "warning",
            )
        con.print(table)
        failed |= rep.status == "fail"
    if failed:
        raise SystemExit(1)


@cli.command()
@click.option("--select", "-s", multiple=True, help="Run only these models (repeatable).")
@click.option("--param", "-p", multiple=True, help="Override a model param: NAME=VALUE.")
@click.option("--no-ingest", is_flag=True, help="Use the latest snapshots; do not re-read sources.")
@click.option("--no-validate", is_flag=True, help="Skip the data-quality gate.")
@click.option(
    "--keep-going",
    is_flag=True,
    help="Record a partial run when a dataset or model fails (as the nightly run does).",
)
@click.option("--wait", type=float, default=0.0, help="Wait up to N seconds for another run.")
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    default=None,
    help="Run the models on this engine (default: engine: in collide.yaml).",
)
@project_option
def run(
    project: Any,
    select: tuple[str, ...],
    param: tuple[str, ...],
    no_ingest: bool,
    no_validate: bool,
    keep_going: bool,
    wait: float,
    engine: str | None,
) -> None:
    """Ingest, validate, run the models and write the ranked hit lists."""
    project.engine_name = engine
    params = _parse_params(param)
    _check_params(project, select, params)
    with _Progress(sys.stderr.isatty()) as prog:
        result = project.run(
            list(select) or None,
            params,
            ingest=not no_ingest,
            validate=not no_validate,
            keep_going=keep_going,
            wait=wait,
            progress=prog,
        )
    _print_run(project, result)
    if result.status != "ok":
        raise SystemExit(1)


def _check_params(project: Any, select: tuple[str, ...], params: dict[str, str]) -> None:
    from collide.errors import did_you_mean

    models = project.select(list(select) or None)
    known = {k for m in models for k in m.spec.params}
    for key in params:
        if key not in known:
            raise CollideError(
                Problem(
                    "--param",
                    None,
                    f'no selected model has a param "{key}"',
                    did_you_mean(key, known) or "See `collide models`",
                )
            )


def _print_run(project: Any, result: Any) -> None:
    from rich.table import Table

    con = _console()
    table = Table(title=f"Run {result.run_id}")
    for col in ("model", "status", "hits", "seconds", "note"):
        table.add_column(col, no_wrap=col == "model")
    for mid, st in result.models.items():
        note = "see below" if st.message else "; ".join(st.notes)
        table.add_row(mid, st.status, str(st.hits), f"{st.seconds:.2f}", note)
    con.print(table)
    # Reasons in full, one per line: a table cell would cut them.
    for mid, st in result.models.items():
        if st.message:
            con.print(f"model {mid} {st.status}: {st.message}", markup=False)
    for ds, st in result.datasets.items():
        if st.status != "ok":
            con.print(f"dataset {ds} {st.status}: {st.message}", markup=False)
    for problem in result.problems:
        con.print(f"not loaded: {problem}", markup=False)
    excluded = f"; {result.excluded} excluded, not listed" if result.excluded else ""
    con.print(
        f"{result.clues} clues ({result.new} new, {result.ongoing} ongoing, "
        f"{result.gone} gone{excluded}) in {result.seconds:.1f}s; status {result.status}.",
        markup=False,
    )
    con.print(f"Hit list: {_rel(project, result.run_dir / 'clues.csv')}", markup=False)
    con.print(
        f"Evidence: {_rel(project, result.run_dir / 'evidence')}/  "
        f"Report: {_rel(project, result.run_dir / 'report.md')}",
        markup=False,
    )


@cli.command("test")
@click.argument("models", nargs=-1)
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    default=None,
    help="Run the tests on this engine (default: engine: in collide.yaml).",
)
@project_option
def test_cmd(project: Any, models: tuple[str, ...], engine: str | None) -> None:
    """Run the models' own unit tests (the `tests:` block of each model)."""
    project.engine_name = engine
    outcomes = project.test(list(models) or None)
    con = _console()
    failed = 0
    for o in outcomes:
        mark = "PASS" if o.passed else "FAIL"
        con.print(f"{mark} {o.model_id}: {o.name}", markup=False)
        if not o.passed:
            failed += 1
            con.print(f"     {o.display}:{o.line}: {o.message}", markup=False)
    con.print(f"{len(outcomes) - failed} passed, {failed} failed", markup=False)
    if failed:
        raise SystemExit(1)


@cli.command()
@project_option
def models(project: Any) -> None:
    """List the models."""
    from rich.table import Table

    table = Table(title="Models")
    for col in ("id", "title", "domain", "severity", "inputs", "params", "tests", "origin"):
        table.add_column(col, no_wrap=col == "id")
    for m in project.catalog.models.values():
        s = m.spec
        origin = f"{s.origin.project or s.origin.package} {s.origin.version}" if s.origin else ""
        table.add_row(
            s.id,
            s.title,
            s.domain,
            s.severity,
            ", ".join(s.inputs),
            ", ".join(f"{k}={v}" for k, v in s.params.items()),
            str(len(s.tests)),
            origin,
        )
    _console().print(table)


@cli.command()
@click.option(
    "--status",
    multiple=True,
    type=click.Choice(
        ["新增", "持续", "已消失", "待审查", "确认", "排除", "已立案"]
        + ["已制发检察建议", "已起诉", "已办结"]
    ),
    help="Filter by lifecycle or review state (repeatable).",
)
@click.option("--run", "run_id", default=None, help="Run id (default: the latest).")
@click.option("--no-mask", is_flag=True, help="Show full ID numbers (recorded in the audit log).")
@project_option
def clues(project: Any, status: tuple[str, ...], run_id: str | None, no_mask: bool) -> None:
    """List the clues of the latest run."""
    from rich.table import Table

    from collide.standards.masking import mask_text

    rows = project.clues(list(status) or None, run_id)
    if no_mask:
        with project.store.connect() as con:
            from collide.store import queries

            queries.audit(con, "clues_unmasked", {"run_id": run_id, "count": len(rows)})
    heads = ("rank", "clue", "model", "risk", "subject", "status", "review", "reason")
    lines = []
    for r in rows:
        name, sid = r["subject_name"], r["subject_id"]
        subject = sid if name in ("", sid) else f"{name} {sid}"
        reason = r["reason"]
        if not no_mask:
            subject, reason = mask_text(subject), mask_text(reason)
        risk = "" if r["risk"] is None else f"{r['risk']:.1f}"
        lines.append(
            (
                str(r["rank"] or ""),
                r["clue_id"],
                r["model_id"],
                risk,
                subject,
                r["lifecycle"],
                r["review_status"],
                reason,
            )
        )
    if not sys.stdout.isatty():
        # Piped or captured: one tab-separated line per clue, nothing cut, easy to grep.
        click.echo("\t".join(heads))
        for line in lines:
            click.echo("\t".join(line))
        return
    table = Table(title="Clues")
    for col in heads:
        table.add_column(col, no_wrap=col in ("clue", "model"))
    for line in lines:
        table.add_row(*line)
    _console().print(table)


@cli.command()
@click.option("--run", "run_id", default=None, help="Run id (default: the latest).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "all"]), default="all")
@click.option(
    "--no-mask",
    is_flag=True,
    help="Investigator export with full ID numbers (written to runs/<id>/unmasked/ "
    "and recorded in the audit log).",
)
@click.option(
    "--by",
    type=click.Choice(["line", "assignee"]),
    default=None,
    help="Also write one hit list per 条线 or 承办人 (by_line/, by_assignee/).",
)
@project_option
def export(project: Any, run_id: str | None, fmt: str, no_mask: bool, by: str | None) -> None:
    """Re-create a run's hit lists and evidence sheets from the store."""
    formats = ("csv", "xlsx") if fmt == "all" else (fmt,)
    dest = project.export(run_id, formats, mask=not no_mask)
    _console().print(f"Exported to {_rel(project, dest)}", markup=False)
    if by:
        from collide.clues.routing import split_hit_list

        for path in split_hit_list(dest / "clues.csv", by):
            _console().print(f"  {_rel(project, path)}", markup=False)


@cli.group()
def review() -> None:
    """Reviewers' decisions."""


@review.command("import")
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
@project_option
def review_import(project: Any, csv_file: Path) -> None:
    """Read 审查结论 and the disposition columns back from a filled-in clues CSV/XLSX."""
    counts = project.import_reviews(csv_file)
    _console().print(
        f"{_rel(project, Path(counts['file']))}: {counts['updated']} reviews recorded, "
        f"{counts['unchanged']} unchanged.",
        markup=False,
    )


@cli.command("schedule")
@click.option(
    "--dry-run", is_flag=True, help="Print the deployment and its next runs; do not serve it."
)
@project_option
def schedule(project: Any, dry_run: bool) -> None:
    """Serve the nightly Prefect deployment on collide.yaml's cron until stopped (Ctrl-C)."""
    from collide.orchestrate.prefect import schedule as serve_schedule

    con = _console()
    serve_schedule(project, dry_run, lambda text: con.print(text, markup=False))


from collide.cli import figures  # noqa: E402

cli.add_command(figures.stats)
cli.add_command(figures.audit)
from collide.cli.models import model_group, new_group  # noqa: E402

cli.add_command(model_group)
cli.add_command(new_group)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user mistakes become one message and exit 1, never a traceback."""
    try:
        cli.main(args=argv, prog_name="collide", standalone_mode=False)
    except CollideError as exc:
        con = _console(stderr=True)
        for p in exc.problems:
            con.print(f"error: {p}", markup=False)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:
        if os.environ.get("COLLIDE_DEBUG"):
            raise
        _console(stderr=True).print(
            f"internal error: {type(exc).__name__}: {exc}. This is a bug in collide, not in your "
            "files; set COLLIDE_DEBUG=1 to see the traceback and report it.",
            markup=False,
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
