"""The command line: click commands over the `Project` facade (the only click importer)."""

from __future__ import annotations

from collide.cli.main import cli, main

__all__ = ["cli", "main"]
