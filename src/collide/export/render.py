"""The Jinja2 environment of report.md: every value a template prints goes through
`md_escape`, so an agency value (`<script>`, `|`, `[x](javascript:…)`) reads as text wherever
the file is opened. (The evidence pages are built as strings by export/evidence.py, each value
through html.escape: a page of many thousand sheets is rendered many times faster that way.)
"""

from __future__ import annotations

import functools
import re
from typing import Any

_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Inline Markdown: code spans, emphasis, links/images, table cells, math, escapes themselves.
_MD_PUNCT = re.compile(r"[\\`*\[\]|~$]")
# `_` opens emphasis only at a word edge; inside a word (dataset_id) it is plain text.
_MD_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
# What turns the start of a line (or list item) into a heading, list, rule or setext underline.
_MD_BLOCK_START = re.compile(r"^([#+=-])|^(\d+)([.)])(?=\s|$)")


def md_escape(value: Any) -> str:
    """A value as literal text in Markdown: nothing in it renders as HTML, a link, code, a
    table cell border or a line break (every CommonMark/GFM viewer shows it as written)."""
    text = "" if value is None else str(value)
    # one line; no leading blanks (four of them would start a code block in a list item)
    text = re.sub(r"\r\n|\r|\n", " ", text).strip()
    text = re.sub(r"[&<>]", lambda m: _MD_ENTITIES[m.group()], text)
    text = _MD_PUNCT.sub(lambda m: "\\" + m.group(), text)
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    return _MD_BLOCK_START.sub(
        lambda m: "\\" + m.group(1) if m.group(1) else m.group(2) + "\\" + m.group(3), text
    )


@functools.cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("collide.export", "templates"),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        finalize=md_escape,
    )


def render(template: str, **context: Any) -> str:
    """Render templates/<template> (Markdown)."""
    return _environment().get_template(template).render(**context)
