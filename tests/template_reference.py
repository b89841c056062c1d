"""The export files as the Jinja2 templates they were once rendered from: the references the
string-built files are compared with.

- a model's evidence page (tests/evidence_reference.html.j2, autoescaped with html.escape),
  for collide.export.evidence (tests/test_evidence_page.py). Both print the same gathered sheet
  data (`EvidenceBook._sheet`); what is compared is the page — its layout, whitespace and
  escaping;
- report.md (tests/report_reference.md.j2, every value through md_escape), for
  collide.export.report.report_md (tests/test_report_md.py)."""

from __future__ import annotations

import decimal
import functools
import html
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from collide.export.evidence import EvidenceBook, clue_payload
from collide.export.render import md_escape


def _html_escape(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value)))


@functools.cache
def _environment(autoescape: bool, finalize: Callable[[Any], Any]) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=autoescape,
        finalize=finalize,
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
    return (
        _environment(True, _html_escape)
        .get_template("evidence_reference.html.j2")
        .render(name=name, clues=sheets)
    )


def reference_report(**context: Any) -> str:
    """report.md as the template renders it from `report_md`'s arguments."""
    return _environment(False, md_escape).get_template("report_reference.md.j2").render(**context)
