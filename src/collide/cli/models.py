"""`collide model pack|add|similar` and `collide new model`: models that travel between
projects, and new models started from a shape."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from collide.cli.main import _console, _rel, project_option


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
