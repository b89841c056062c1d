"""What every command module shares: the console, the --project option, paths for messages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def project_option(fn: Callable) -> Callable:
    @click.option(
        "--project",
        "project_path",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Project folder (default: nearest folder with collide.yaml).",
    )
    @functools.wraps(fn)
    def wrapper(*args: Any, project_path: Path | None = None, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        path = project_path or (ctx.obj or {}).get("project")
        from collide.project import Project

        return fn(*args, project=Project.load(path), **kwargs)

    return wrapper


def _rel(project: Any, path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        try:
            return str(path.relative_to(project.root))
        except ValueError:
            return str(path)
