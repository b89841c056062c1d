"""The columns of a hit list (clues.csv, clues_<model>.csv, clues.xlsx) and what a cell shows.

One list drives every writer: a new column is one line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collide.clues.build import display
from collide.standards.masking import mask_text


@dataclass(frozen=True)
class Column:
    header: str  # what a prosecutor reads (Chinese)
    key: str  # the field of a hit-list row (collide.export.hitlist)
    width: int = 12  # xlsx column width
    number: bool = False  # written as a number in the xlsx (the CSV is all text)


CLUE_COLUMNS: list[Column] = [
    Column("排名", "rank", number=True),
    Column("线索编号", "clue_id"),
    Column("模型", "model_id"),
    Column("模型名称", "model_title", width=24),
    Column("领域", "domain"),
    Column("条线", "line"),
    Column("风险等级", "severity_zh"),
    Column("风险分", "risk", number=True),
    Column("对象类型", "subject_type_zh"),
    Column("对象名称", "subject_name", width=24),
    Column("对象证件号", "subject_id", width=22),
    Column("线索说明", "reason", width=60),
    Column("状态", "lifecycle"),
    Column("首次发现", "first_seen"),
    Column("命中模型数", "models_hit", number=True),
    Column("数据质量提示", "warnings_text", width=30),
    Column("证据文件", "evidence_file", width=26),
    Column("整改状态", "followup"),
    Column("审查结论", "review_status"),
    Column("审查意见", "review_note", width=30),
    Column("排除理由", "exclusion_reason"),
    Column("承办人", "assignee"),
    Column("案号", "case_no"),
    Column("检察建议文号", "recommendation_no", width=20),
    Column("制发日期", "issued_on"),
    Column("整改期限", "rectify_by"),
    Column("有效期至", "valid_until"),
]


def masked(value: Any, mask: bool) -> Any:
    """`value` with its resident IDs masked when `mask` (only text can hold one, and only a
    text of 15 characters or more: most cells are shorter and skip the search)."""
    if mask and isinstance(value, str) and len(value) >= 15:
        return mask_text(value)
    return value


def cell_text(row: dict[str, Any], key: str, mask: bool) -> str:
    """A hit-list cell as text: the value as it reads in a reason, IDs masked."""
    value = row.get(key)
    if value is None:
        return ""
    return masked(display(value), mask)
