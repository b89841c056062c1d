"""report.md as the Jinja2 template (tests/report_reference.md.j2, every value through
md_escape) renders it: the reference the string-built report of collide.export.report is
compared with (tests/test_report_md.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from collide.export.render import md_escape

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent),
    autoescape=False,
    finalize=md_escape,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def reference_report(**context: Any) -> str:
    return _ENV.get_template("report_reference.md.j2").render(**context)
