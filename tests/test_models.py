"""Running one model: one clue per subject, whatever the SQL returns."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from conftest import write_project

from collide.config.catalog import load_catalog
from collide.errors import CollideError
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


# --------------------------------------------------------------------------- whose fault


def test_sql_the_engine_refuses_is_the_authors_mistake(tmp_path: Path) -> None:
    """A query DuckDB cannot run is reported at the model's SQL file, with DuckDB's reason."""
    files = {**FILES, "models/owing.sql": "SELECT account, amount / 0::INTEGER % 'x' FROM bills\n"}
    model = load_catalog(write_project(tmp_path / "p", files)).models["owing"]
    bills = pa.table({"account": ["1"], "amount": [5], "_source_row": [2]})
    with pytest.raises(CollideError) as exc:
        execute_model(model, {"bills": bills}, {})
    assert str(exc.value).startswith("models/owing.sql")
    assert "Run `collide check` to find the cause" in str(exc.value)


def test_a_bug_in_a_collide_function_is_not_shown_as_the_authors_mistake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception inside one of collide's SQL functions is a bug in collide: it surfaces as
    itself (the CLI reports it as an internal error), never as a problem with the model's SQL."""
    from collide.ingest import semantic

    def broken(s):
        raise KeyError("a bug")

    monkeypatch.setattr(semantic, "org_key", broken)
    files = {
        **FILES,
        "models/owing.sql": "SELECT account, org_key(account) AS k, amount FROM bills",
    }
    model = load_catalog(write_project(tmp_path / "p", files)).models["owing"]
    bills = pa.table({"account": ["1"], "amount": [5], "_source_row": [2]})
    with pytest.raises(Exception) as exc:
        execute_model(model, {"bills": bills}, {})
    assert not isinstance(exc.value, CollideError)
    assert "KeyError" in str(exc.value)


RULE_FILES = {
    **{k: v for k, v in FILES.items() if k != "models/owing.sql"},
    "models/owing.py": """
        import polars as pl


        def rule(inputs, params):
            bills = inputs["bills"]
            if params.get("boom"):
                raise ValueError("no such account")
            return bills.select("account", (pl.col("amount") / pl.col("no_such_column")).alias("amount"))
    """,
}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        # the rule's own Python: the error at its line
        ({"boom": True}, "models/owing.py:7: polars rule failed: ValueError: no such account"),
        # polars refusing the rule's plan
        ({}, "models/owing.py: polars rule failed: ColumnNotFoundError"),
    ],
)
def test_a_polars_rule_failing_is_its_authors_mistake(
    tmp_path: Path, params: dict, message: str
) -> None:
    model = load_catalog(write_project(tmp_path / "p", RULE_FILES)).models["owing"]
    bills = pa.table({"account": ["1"], "amount": [5], "_source_row": [2]})
    with pytest.raises(CollideError) as exc:
        execute_model(model, {"bills": bills}, params)
    assert str(exc.value).startswith(message), str(exc.value)


def test_the_model_runner_imports_no_engine_library() -> None:
    """Model work reaches DuckDB only through the engine seam (engine/backend.py), so a second
    engine is one new module: nothing under modelrun/, nor run.py, imports an engine."""
    import ast

    src = Path(__file__).resolve().parents[1] / "src" / "collide"
    found = []
    for path in [*(src / "modelrun").glob("*.py"), src / "run.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                if name.split(".")[0] in {"duckdb", "pyspark"}:
                    found.append(f"{path.name}:{node.lineno}: {name}")
    assert not found, found
