"""The Jinja2 environments of the exports: HTML autoescaped, Markdown escaped by `md_escape`.

Every value printed by a template goes through the escaper of its format, so an agency value
(`<script>`, `|`, `[x](javascript:…)`) reads as text wherever the file is opened.
"""

from __future__ import annotations

import functools
import html
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


def _html_escape(value: Any) -> Any:
    from markupsafe import Markup

    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value)))


@functools.cache
def _environment(kind: str) -> Any:
    import jinja2

    loader = jinja2.PackageLoader("collide.export", "templates")
    common: dict[str, Any] = {
        "loader": loader,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "undefined": jinja2.StrictUndefined,
    }
    if kind == "html":
        # Escaped as html.escape does (&quot; &#x27;), so the sheets read as they always have.
        return jinja2.Environment(autoescape=True, finalize=_html_escape, **common)
    return jinja2.Environment(autoescape=False, finalize=md_escape, **common)


def render(template: str, **context: Any) -> str:
    """Render templates/<template>; the file's suffix (.html.j2, .md.j2) picks the escaping."""
    kind = "html" if template.endswith(".html.j2") else "md"
    return _environment(kind).get_template(template).render(**context)


def template(name: str) -> Any:
    """The compiled templates/<name>, for a page written as it renders (`.generate(...)`):
    a model's evidence page of many thousand sheets is never one string in memory."""
    kind = "html" if name.endswith(".html.j2") else "md"
    return _environment(kind).get_template(name)
