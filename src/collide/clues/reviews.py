"""`collide review import`: reviewers' decisions from their filled-in CSV, back into the store."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from collide.clues.build import EXCLUDED, PENDING, REVIEW_STATES
from collide.engine.duckdb import one
from collide.errors import CollideError, Problem, Problems
from collide.store.db import now


def _read_table(path: Path) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the returned hit list: CSV (UTF-8 or GBK, as Excel/WPS save it) or the
    .xlsx export filled in directly."""
    if path.suffix.lower() == ".xlsx":
        import openpyxl

        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # a damaged or locked workbook is a user problem, not a crash
            raise CollideError(
                Problem(
                    str(path),
                    None,
                    f"cannot open the workbook ({type(exc).__name__})",
                    "Save it again from Excel/WPS, or export it as CSV",
                )
            ) from None
        try:
            rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        finally:
            wb.close()
        if not rows:
            return [], []
        return [str(h or "").strip() for h in rows[0]], rows[1:]
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
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
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        return [], []
    return [h.strip() for h in rows[0]], rows[1:]


def import_reviews(project: Any, con: Any, path: Path) -> dict[str, int]:
    """Apply 审查结论/审查意见 columns; all problems are reported before anything is written."""
    if not path.exists():
        raise CollideError(Problem(str(path), None, "file not found", "Check the path"))
    header, records = _read_table(path)
    reader = [{h: ("" if v is None else str(v)) for h, v in zip(header, rec)} for rec in records]
    need = {"线索编号", "审查结论", "审查意见"}
    missing = need - set(header)
    if missing:
        raise CollideError(
            Problem(
                str(path),
                1,
                f"missing columns: {', '.join(sorted(missing))}",
                "Import the clues.csv exported by collide, with its header",
            )
        )
    problems = Problems()
    decisions = []
    for lineno, row in enumerate(reader, 2):
        cid = (row.get("线索编号") or "").strip().lstrip("'\t")
        decision = (row.get("审查结论") or "").strip()
        note = (row.get("审查意见") or "").strip()
        if not cid or not decision or decision == PENDING:
            continue
        if decision not in REVIEW_STATES:
            problems.add(
                str(path),
                lineno,
                f'审查结论 "{decision}" is not one of {" / ".join(REVIEW_STATES)}',
                "Use one of these words exactly",
            )
            continue
        if decision == EXCLUDED and not note:
            problems.add(
                str(path),
                lineno,
                f"clue {cid} is excluded (排除) without a reason",
                "Write the reason in 审查意见, e.g. 冒名登记",
            )
            continue
        decisions.append((lineno, cid, decision, note))
    problems.raise_if_any()
    counts = {"updated": 0, "unchanged": 0}
    con.execute("BEGIN TRANSACTION")
    try:
        for lineno, cid, decision, note in decisions:
            row = one(
                con.execute(
                    "SELECT c.review_status, c.review_note, s.evidence_hash FROM clues c "
                    "LEFT JOIN (SELECT clue_id, evidence_hash FROM sightings WHERE clue_id = ? "
                    "AND lifecycle <> '已消失' ORDER BY run_id DESC LIMIT 1) s USING (clue_id) "
                    "WHERE c.clue_id = ?",
                    [cid, cid],
                )
            )
            if row is None:
                problems.add(
                    str(path),
                    lineno,
                    f"unknown clue {cid}",
                    "Import a CSV exported by this project",
                )
                continue
            if (row[0], row[1] or "") == (decision, note):
                counts["unchanged"] += 1
                continue
            con.execute(
                "UPDATE clues SET review_status = ?, review_note = ?, reviewed_at = ?, "
                "reviewed_evidence_hash = ? WHERE clue_id = ?",
                [decision, note, now(), row[2], cid],
            )
            con.execute(
                "INSERT INTO reviews VALUES (?, ?, ?, ?, ?, ?)",
                [cid, now(), decision, note, str(path), row[2]],
            )
            counts["updated"] += 1
        problems.raise_if_any()
        project.store.audit(con, "review_import", {"file": str(path), **counts})
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts
