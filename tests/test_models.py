"""Running one model: one clue per subject, whatever the SQL returns."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from conftest import write_project

from collide.config.catalog import load_catalog
from collide.modelrun.execute import execute_model

FILES = {
    "connectors/bills.yaml": """
        id: bills
        title: 水费
        source: {type: csv, path: data/bills.csv}
        columns:
          account: {from: 户号, type: string, required: true}
          amount: {from: 金额, type: int}
    """,
    "models/owing.yaml": """
        id: owing
        title: 欠费
        domain: 测试
        description: 测试
        legal_basis: 测试
        severity: low
        inputs: [bills]
        subject: {type: account, id: account, name: account}
        score: amount
        reason: "{account}欠费{amount}元"
    """,
    "models/owing.sql": "SELECT account, amount FROM bills\n",
}


@pytest.mark.parametrize("typed", [pa.string(), pa.int64()])
def test_one_row_per_subject_highest_score_kept(tmp_path: Path, typed: pa.DataType) -> None:
    cat = load_catalog(write_project(tmp_path / "p", FILES))
    model = cat.models["owing"]
    accounts = ["20", "3", "20", None, "100"]
    bills = pa.table(
        {
            "account": pa.array(accounts).cast(typed),
            "amount": [5, 7, 9, 1, 2],
            "_source_row": [2, 3, 4, 5, 6],
        }
    )
    out = execute_model(model, {"bills": bills}, {})
    # one row per account, the highest amount, ordered by the account as text
    assert [(str(r["account"]), r["amount"]) for r in out.rows] == [
        ("100", 2),
        ("20", 9),
        ("3", 7),
    ]
    assert out.notes == [
        "1 行输出缺少对象编号，已舍弃",
        "1 行输出的对象编号重复，每个对象保留得分最高的一行",
    ]
    # already one row per subject: no notes, same order
    clean = bills.filter(pa.array([False, True, True, False, True]))
    out = execute_model(model, {"bills": clean}, {})
    assert [str(r["account"]) for r in out.rows] == ["100", "20", "3"]
    assert out.notes == []
