"""A model's evidence page as the Jinja2 template (tests/evidence_reference.html.j2, autoescaped
with html.escape) renders it: the reference the string-built page of collide.export.evidence is
compared with (tests/test_evidence_page.py). Both print the same gathered sheet data
(`EvidenceBook._sheet`); what is compared is the page — its layout, whitespace and escaping."""

from __future__ import annotations

import decimal
import html
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from collide.export.evidence import EvidenceBook, clue_payload


def _escape(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value)))


_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent),
    autoescape=True,
    finalize=_escape,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def reference_page(
    book: EvidenceBook, clues: Iterable[tuple[dict[str, Any], list[tuple[str, str]]]]
) -> str:
    """The page `book.write(clues)` writes, rendered by the template."""
    sheets = []
    for r, stored in clues:
        evidence = [(ds, json.loads(t, parse_float=decimal.Decimal)) for ds, t in stored]
        payload = clue_payload(r, evidence, book.snapshots, book.mask, book._cells)
        sheet = book._sheet(r, payload, evidence)
        sheet["datasets"] = [
            {
                **d,
                "header_cells": Markup(d["header_cells"]),
                "rows": [(hit, Markup(cells)) for hit, cells in d["rows"]],
            }
            for d in sheet["datasets"]
        ]
        sheets.append(sheet)
    name = f"{book.title}（{book.model_id}）" if book.title else book.model_id
    return _ENV.get_template("evidence_reference.html.j2").render(name=name, clues=sheets)
