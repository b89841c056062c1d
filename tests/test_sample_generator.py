"""sample_data/generate.py: the committed sample is what it writes, and writing the large tables in
chunks (bills by accounts, pension payments by month) gives the same bytes as one frame.

The chunk size is forced down (COLLIDE_GEN_CHUNK) so the committed sample's 28 k bills and ~10 k
payments take the chunked path that --scale 50 M takes.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("sample_generate", SAMPLE / "generate.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["sample_generate"] = mod
    spec.loader.exec_module(mod)
    return mod


def _written(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_chunked_output_is_the_committed_sample(
    gen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLLIDE_GEN_CHUNK", "2400")
    counts = gen.generate(20241231, gen.DEFAULT_BILLS, tmp_path / "chunked")
    monkeypatch.delenv("COLLIDE_GEN_CHUNK")
    gen.generate(20241231, gen.DEFAULT_BILLS, tmp_path / "whole")

    chunked, whole = _written(tmp_path / "chunked"), _written(tmp_path / "whole")
    assert chunked.keys() == whole.keys()
    assert [k for k in chunked if chunked[k] != whole[k]] == []
    # both are the committed files, byte for byte
    assert [k for k in whole if (SAMPLE / k).read_bytes() != whole[k]] == []
    # the forced size really made several chunks
    assert counts["water_bills"] > 2400 and counts["pension_payments"] > 2400


def test_bill_chunks_are_whole_accounts_in_order(gen) -> None:
    import random

    w = gen.World(random.Random(7))
    bg = gen.gen_water(w, 5000)
    frames = list(bg.frames(480))
    assert len(frames) > 1
    assert sum(f.height for f in frames) == bg.n
    for a, b in zip(frames, frames[1:]):
        assert a["户号"].max() < b["户号"].min()  # no account split across two chunks
    one = next(bg.frames(10 * bg.n))
    assert one.equals(gen.pl.concat(frames))
