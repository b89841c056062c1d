"""Escaping for report.md: every value the report prints goes through `md_escape`, so an
agency value (`<script>`, `|`, `[x](javascript:…)`) reads as text wherever the file is opened.
(The evidence pages escape theirs with html.escape, in export/evidence.py.)
"""

from __future__ import annotations

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
