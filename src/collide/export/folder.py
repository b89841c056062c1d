"""A run's folder, runs/<run_id>/: hit lists, evidence, manifest, quality report and report.md.

Everything is rendered from the store, so `collide export` can re-create a run's files (masked
or, on explicit request, unmasked) at any time. The folder is built beside the old one and
swapped in, so a reader never sees half of it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collide.clues.build import GONE
from collide.export.columns import mask_text
from collide.export.csv import write_hit_lists
from collide.export.evidence import EvidenceBook, sheet_labels
from collide.export.hitlist import ClueCounts, describe, listed, run_clue_rows
from collide.export.report import render_report
from collide.export.xlsx import write_xlsx

if TYPE_CHECKING:
    from collide.project import Project


def export_run(
    project: Project,
    con: Any,
    run_id: str,
    dest: Path,
    *,
    mask: bool = True,
    formats: tuple[str, ...] = ("csv", "xlsx"),
) -> ClueCounts:
    """Write all files of a run into `dest`; return the clue counts they show."""
    from collide.store import queries

    summary, quality = queries.run_record(con, run_id)
    everything = run_clue_rows(con, run_id, include_excluded=True)
    from collide.clues.dispositions import decorate

    decorate(project, con, run_id, everything)  # dispositions, 条线, 整改状态
    counts = ClueCounts.of(everything)
    rows = listed(everything)
    describe(rows, project.catalog)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    keep = dest / "unmasked" if dest.exists() else None
    if "csv" in formats:
        models = sorted({r["model_id"] for r in rows} | set(summary["models"]))
        write_hit_lists(tmp, rows, models, mask)
    if "xlsx" in formats:
        write_xlsx(tmp / "clues.xlsx", rows, mask, project.config.review.reasons)
    evidence_dir = tmp / "evidence"
    evidence_dir.mkdir()
    snapshots = {ds: info.get("snapshot_id") for ds, info in summary["datasets"].items()}
    by_model: dict[str, list[dict[str, Any]]] = {}
    for r in rows:  # in rank order; each model's sheets go to its own file
        if r["lifecycle"] != GONE:
            by_model.setdefault(r["model_id"], []).append(r)
    for mid, mine in by_model.items():
        book = EvidenceBook(
            evidence_dir,
            mid,
            mine[0].get("title") or "",
            snapshots,
            mask,
            sheet_labels(project.catalog, mid),
        )
        stored = queries.run_evidence(con, run_id, [r["clue_id"] for r in mine])
        book.write((r, ev) for r, (_, ev) in zip(mine, stored))
    (tmp / "manifest.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    # Failing-row samples can hold ID numbers: masked like everything else that is exported.
    quality_text = json.dumps(quality, ensure_ascii=False, indent=2, default=str)
    report = render_report(summary, counts, quality, project, con, everything)
    (tmp / "quality.json").write_text(mask_text(quality_text) if mask else quality_text, "utf-8")
    (tmp / "report.md").write_text(mask_text(report) if mask else report, encoding="utf-8")
    if keep is not None and keep.exists():
        shutil.move(str(keep), str(tmp / "unmasked"))
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old")
        if old.exists():
            shutil.rmtree(old)
        dest.rename(old)
        tmp.rename(dest)
        shutil.rmtree(old)
    else:
        tmp.rename(dest)
    return counts
