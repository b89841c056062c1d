"""Which clues a run lists, and how they are counted (one definition for every output).

The clues of a run are the subjects hit by the models that ran, less the ones a reviewer
excluded (排除) whose evidence has not changed since: those stay off the review list. The
clues that disappeared (已消失, excluded ones left out) are listed after them, unranked, for
the follow-up check. The
console, summary.txt, clues.csv and report.md all take their figures from `ClueCounts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collide.clues.build import EXCLUDED, GONE, NEW
from collide.config.catalog import Catalog
from collide.config.specs import SUBJECT_TYPE_LABELS

SEVERITY_ZH = {"high": "高", "medium": "中", "low": "低"}


@dataclass(frozen=True)
class ClueCounts:
    listed: int  # clues of the run on the hit list (新增 + 持续), excluded ones not included
    new: int
    ongoing: int
    gone: int  # listed after them, without a rank
    excluded: int  # hit again, but excluded by a reviewer with unchanged evidence: not listed

    @classmethod
    def of(cls, rows: list[dict[str, Any]]) -> ClueCounts:
        """Counts over `run_clue_rows(..., include_excluded=True)`."""
        active = [r for r in rows if r["lifecycle"] != GONE]
        listed = [r for r in active if r["review_status"] != EXCLUDED]
        new = sum(1 for r in listed if r["lifecycle"] == NEW)
        return cls(
            listed=len(listed),
            new=new,
            ongoing=len(listed) - new,
            gone=sum(1 for r in rows if r["lifecycle"] == GONE and r["review_status"] != EXCLUDED),
            excluded=len(active) - len(listed),
        )


def run_clue_rows(con: Any, run_id: str, include_excluded: bool = False) -> list[dict[str, Any]]:
    """The clues of one run as flat dicts (ranked first, then the ones that disappeared)."""
    from collide.store import queries

    rows = queries.run_sightings(con, run_id)
    return rows if include_excluded else listed(rows)


def listed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the hit list: every sighting but the excluded clues."""
    return [r for r in rows if r["review_status"] != EXCLUDED]


def describe(rows: list[dict[str, Any]], catalog: Catalog) -> None:
    """Add what the hit list shows beside the store's fields: domain, severity, labels, file."""
    specs = catalog.models
    for r in rows:
        spec = specs[r["model_id"]].spec if r["model_id"] in specs else None
        r["domain"] = spec.domain if spec else ""
        r["severity"] = spec.severity if spec else ""
        r["severity_zh"] = SEVERITY_ZH.get(r["severity"], "")
        r["legal_basis"] = spec.legal_basis if spec else ""
        r["subject_type_zh"] = SUBJECT_TYPE_LABELS.get(r["subject_type"], r["subject_type"])
        r["warnings_text"] = "；".join(r["warnings"])
        r["evidence_file"] = "" if r["lifecycle"] == GONE else f"evidence/{r['clue_id']}.html"
        r["title"] = r["model_title"] or r["model_id"]
