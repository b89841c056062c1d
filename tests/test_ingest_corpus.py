"""The bad-input corpus (tests/corpus/make_corpus.py): exact counts and messages per file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from collide.config.catalog import load_catalog
from collide.errors import CollideError
from collide.ingest import ingest_dataset

sys.path.insert(0, str(Path(__file__).parent / "corpus"))
from make_corpus import CASES, Case, write_case


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case: Case, tmp_path: Path) -> None:
    root = write_case(case, tmp_path)
    catalog = load_catalog(root)
    assert not catalog.problems, catalog.problems.items
    conn = catalog.connectors["deaths"]
    if case.error:
        with pytest.raises(CollideError) as info:
            ingest_dataset(conn, root, root / "snapshots")
        assert case.error in str(info.value)
        assert "\n" not in str(info.value)
        assert not list((root / "snapshots" / "deaths").glob("*/manifest.json"))
        return
    rep = ingest_dataset(conn, root, root / "snapshots")
    assert (rep.rows_loaded, rep.rows_rejected) == (case.loaded, case.rejected), (
        rep.issues_by_kind,
        rep.notes,
    )
    assert rep.rows_read == rep.rows_loaded + rep.rows_rejected
    assert rep.totals_rows_dropped == case.totals
    if case.expect:
        import polars as pl

        reasons = pl.read_parquet(rep.snapshot_dir / "rejects.parquet")["_reason"].to_list()
        texts = rep.notes + list(rep.issues_by_kind) + reasons
        assert any(case.expect in t for t in texts), texts
