"""What the gate hands over: one outcome per expectation, one report per dataset snapshot.

A report is stored in the run (quality.json) and in the quality cache as `to_dict()`, and read back
with `from_dict()`; the report writer reads the Chinese wording from `status_zh()`/`lines_zh()`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from collide.jsonutil import jsonable
from collide.quality import wording


@dataclass
class ExpectationOutcome:
    expectation: str  # suite type as written, e.g. "expect_column_values_to_not_be_null"
    column: str | None
    kwargs: dict  # the GX kwargs that ran (collide checks: with their computed bounds)
    blocking: bool
    success: bool
    observed: str  # "12.0% invalid (120 of 1000)"
    description_zh: str  # "身份证号校验有效比例应不低于95%，实际88.0%"
    failing_rows: list[dict] = field(default_factory=list)  # ≤ 20, with _source_file/_source_row
    gx_type: str = ""  # the GX expectation that ran (differs from `expectation` for collide checks)
    line: int | None = None  # line of the entry in the suite file


@dataclass
class QualityReport:
    dataset_id: str
    snapshot_id: str
    status: str  # "pass" | "warn" | "fail" (fail = a blocking expectation failed)
    outcomes: list[ExpectationOutcome]
    seconds: float
    suite: str | None = None  # project-relative suite file, None when the default suite ran
    title: str | None = None  # the dataset's title (connector `title`), what a reviewer reads

    def warnings_zh(self) -> list[str]:
        """Failed warning-level expectations, in Chinese, for the clues built on this dataset."""
        return [o.description_zh for o in self.outcomes if not o.success and not o.blocking]

    def failures_zh(self) -> list[str]:
        """Failed blocking expectations, in Chinese (why the dataset's models were skipped)."""
        return [o.description_zh for o in self.outcomes if not o.success and o.blocking]

    def status_zh(self) -> str:
        """通过 / 警告 / 阻断: the status as the run report says it."""
        return wording.status_zh(self.status)

    def heading_zh(self) -> str:
        """ "死亡登记：阻断": the dataset by its title, then the status word."""
        return f"{self.title or self.dataset_id}：{self.status_zh()}"

    def lines_zh(self, rows: int = 5) -> list[str]:
        """The report's Markdown list for this dataset, Chinese only: one line per expectation
        (通过 / 未通过（阻断） / 未通过（警告） and its one-liner), under it its first `rows`
        failing rows with where they are in the agency's file."""
        return wording.report_lines(self.outcomes, rows)

    def to_dict(self) -> dict:
        return jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> QualityReport:
        """The inverse of to_dict (dates in kwargs stay ISO text: they are only shown); a report
        stored before a field existed reads with that field's default."""
        known = {f.name for f in fields(cls)}
        outcomes = [ExpectationOutcome(**o) for o in data["outcomes"]]
        return cls(**{k: v for k, v in data.items() if k in known and k != "outcomes"},
                   outcomes=outcomes)  # fmt: skip
