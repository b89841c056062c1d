"""`collide review import`: reviewers' decisions from their filled-in hit list, back into the store.

The file is read as the reviewer wrote it: every cell kept exactly (line breaks, U+2028, form
feeds inside a cell), a formula refused instead of read as empty, two different decisions for one
clue refused instead of "the last one wins". Every problem in the file is listed before anything
is recorded; each decision is appended to the clue's history with who, when, which file and row,
and what it changed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from pathlib import Path
from typing import Any

from collide.clues.build import PENDING, REVIEW_STATES
from collide.clues.dispositions import COLUMNS, DATE_FIELDS, LABEL, check_row, parse_dates
from collide.errors import CollideError, Problem, Problems
from collide.store import queries
from collide.store.db import transaction

_NEUTRALISED = ("'=", "'+", "'-", "'@", "'\t", "'\r")  # how export.spreadsheet_safe writes them


def resolve_path(project: Any, path: Path) -> Path:
    """The file the reviewer means. `clues.csv` typed in the project folder is the latest
    run's hit list (runs/<run>/clues.csv) when there is no such file here."""
    if path.exists():
        return path
    latest = None
    if project.store.path.exists():
        with project.store.connect(read_only=True) as con:
            latest = queries.latest_run(con)
    candidate = project.runs_dir / latest / path.name if latest else None
    if candidate is not None and not path.is_absolute() and len(path.parts) == 1:
        if candidate.exists():
            return candidate
    if candidate is not None and candidate.exists():
        fix = f"The latest run's hit list is {candidate}: pass that path"
    elif latest:
        fix = f"Check the path; the latest run's files are in {project.runs_dir / latest}"
    else:
        fix = "Check the path; no run has been recorded yet (`collide run`)"
    raise CollideError(Problem(str(path), None, "file not found", fix))


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def _read_table(path: Path) -> tuple[list[str], list[list[Any]], set[tuple[int, int]]]:
    """Header, rows (row i is spreadsheet row i + 2) and the (row, column) of formula cells:
    CSV (UTF-8 or GBK, as Excel/WPS save it) or the .xlsx export filled in directly."""
    if path.suffix.lower() == ".xlsx":
        import openpyxl

        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
        except Exception as exc:  # a damaged or locked workbook is a user problem, not a crash
            raise CollideError(
                Problem(
                    str(path),
                    None,
                    f"cannot open the workbook ({type(exc).__name__})",
                    "Save it again from Excel/WPS, or export it as CSV",
                )
            ) from None
        formulas: set[tuple[int, int]] = set()
        rows: list[list[Any]] = []
        try:
            for i, cells in enumerate(wb.worksheets[0].iter_rows()):
                values = []
                for j, c in enumerate(cells):
                    if getattr(c, "data_type", None) == "f":
                        formulas.add((i - 1, j))
                    values.append(getattr(c, "value", None))
                rows.append(values)
        finally:
            wb.close()
        if not rows:
            return [], [], set()
        return [_cell_text(h).strip() for h in rows[0]], rows[1:], formulas
    raw = path.read_bytes()
    # Excel's "Unicode text" is UTF-16 with a BOM and tabs between the cells.
    encodings = ("utf-16",) if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else ()
    for enc in (*encodings, "utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise CollideError(
            Problem(
                str(path),
                None,
                "cannot decode the file",
                "Save it as CSV UTF-8 (or GBK) from Excel/WPS",
            )
        )
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise CollideError(
            Problem(str(path), None, f"not a readable CSV file ({exc})", "Save it as CSV again")
        ) from None
    if not table:
        return [], [], set()
    return [h.strip() for h in table[0]], table[1:], set()


def _unneutralise(text: str) -> str:
    """Undo what the export did to keep a cell from running as a formula or turning an ID into
    a number, so that an untouched cell reads back as the value it shows."""
    if text.startswith(_NEUTRALISED):
        return text[1:]
    if text.startswith("\t") and text[1:].isdigit():
        return text[1:]
    return text


def _reviewer() -> str:
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        user = f"uid {os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def import_reviews(project: Any, con: Any, path: Path) -> dict[str, Any]:
    """Apply the 审查结论 and disposition columns; all problems are reported before anything is
    written. Returns the counts and the file read."""
    from collide.clues.dispositions import rectification_months
    from collide.store.reviews import clue_states, record_decision

    header, records, formulas = _read_table(path)
    missing = {"线索编号", "审查结论"} - set(header)
    if missing:
        raise CollideError(
            Problem(
                str(path),
                1,
                f"missing columns: {', '.join(sorted(missing))}",
                "Import the clues.csv exported by collide, with its header",
            )
        )
    col = {h: i for i, h in enumerate(header) if h}
    read = ["线索编号", "审查结论", *[h for h in COLUMNS if h in col]]
    problems = Problems()
    where = str(path)
    rows: list[tuple[int, str, str, dict[str, str], dict[str, Any]]] = []
    for i, rec in enumerate(records):
        lineno = i + 2
        cells: dict[str, str] = {}
        raw_cells: dict[str, Any] = {}
        bad = False
        for name in read:
            j = col[name]
            value = rec[j] if j < len(rec) else None
            text = _unneutralise(_cell_text(value))
            if (i, j) in formulas or (isinstance(value, str) and value.startswith("=")):
                problems.add(
                    where,
                    lineno,
                    f"{name} holds a formula ({_cell_text(value)[:40]})",
                    "Type the value itself into the cell, not a formula",
                )
                bad = True
            cells[name] = text
            raw_cells[name] = value
        if bad:
            continue
        cid = cells["线索编号"].strip().upper()  # XS… ids are upper-case; a retyped one may not be
        decision = cells["审查结论"].strip()
        if not cid or not decision or decision == PENDING:
            continue
        if decision not in REVIEW_STATES:
            problems.add(
                where,
                lineno,
                f'审查结论 "{decision}" is not one of {" / ".join(REVIEW_STATES)}',
                "Use one of these words exactly",
            )
            continue
        fields = {
            COLUMNS[h]: (cells[h] if COLUMNS[h] == "review_note" else cells[h].strip())
            for h in COLUMNS
            if h in cells
        }
        raw = {COLUMNS[h]: raw_cells[h] for h in COLUMNS if h in raw_cells}
        rows.append((lineno, cid, decision, fields, raw))

    # One decision per clue: the same row twice is fine, two different ones are not.
    first: dict[str, tuple[int, str, dict[str, str]]] = {}
    unique = []
    for lineno, cid, decision, fields, raw in rows:
        seen = first.get(cid)
        if seen is None:
            first[cid] = (lineno, decision, fields)
            unique.append((lineno, cid, decision, fields, raw))
            continue
        if (seen[1], seen[2]) != (decision, fields):
            differ = (
                ["审查结论"]
                if seen[1] != decision
                else [LABEL[f] for f in fields if fields.get(f) != seen[2].get(f)]
            )
            problems.add(
                where,
                lineno,
                f"clue {cid} is also on row {seen[0]} with a different "
                f"{'/'.join(differ)} (row {seen[0]}: {seen[1]}; row {lineno}: {decision})",
                "Keep one row per clue",
            )

    states = clue_states(con, [cid for _, cid, *_ in unique])
    dates = parse_dates([raw.get(f) for *_, raw in unique for f in DATE_FIELDS])
    reasons = project.config.review.reasons
    decisions = []
    for k, (lineno, cid, decision, fields, _raw) in enumerate(unique):
        stored = states.get(cid)
        if stored is None:
            problems.add(
                where, lineno, f"unknown clue {cid}", "Import a file exported by this project"
            )
            continue
        row_dates = dict(zip(DATE_FIELDS, dates[k * len(DATE_FIELDS) : (k + 1) * len(DATE_FIELDS)]))
        check = check_row(
            decision,
            fields,
            row_dates,
            stored,
            reasons,
            rectification_months(project, stored["model_id"]),
        )
        for problem, fix in check.problems:
            problems.add(where, lineno, f"clue {cid}: {problem}", fix)
        decisions.append((lineno, cid, check.values, stored))
    problems.raise_if_any()

    counts: dict[str, Any] = {"updated": 0, "unchanged": 0, "file": str(path)}
    reviewer = _reviewer()
    at = dt.datetime.now()  # to the microsecond: ordered against runs committed the same second
    with transaction(con):
        for lineno, cid, values, stored in decisions:
            changes = {
                LABEL[f]: [stored.get(f), v]
                for f, v in values.items()
                if (stored.get(f) or None) != (v or None)
            }
            if not changes:
                counts["unchanged"] += 1
                continue
            record_decision(
                con,
                cid,
                values,
                at=at,
                reviewer=reviewer,
                source=str(path),
                source_row=lineno,
                evidence_hash=stored.get("evidence_hash"),
                changes=changes,
            )
            counts["updated"] += 1
        queries.audit(
            con,
            "review_import",
            {
                "file": str(path),
                "updated": counts["updated"],
                "unchanged": counts["unchanged"],
            },
        )
    return counts
