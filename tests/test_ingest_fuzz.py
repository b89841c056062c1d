"""Fuzzing ingest: whatever bytes an agency sends, collide either loads them with every row
accounted for, or says in one line what is wrong with the file — never an internal error.

Three generators: arbitrary bytes named .csv; a real CSV export (several encodings, delimiters
and line ends) mutated byte by byte; a real .xlsx with arbitrary cell text, and its bytes
mutated. For every file that loads: rows read = rows loaded + rows rejected, and the snapshot's
Parquet files hold exactly those rows.
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collide.config.catalog import load_catalog
from collide.errors import CollideError
from collide.ingest import ingest_dataset

sys.path.insert(0, str(Path(__file__).parent / "corpus"))
from make_corpus import CSV, GOOD, HEAD, XLSX, connector_yaml, csv_text

FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _ingest_bytes(data: bytes, name: str, source: str) -> None:
    """Ingest one file; a CollideError is a fine answer, anything else fails the test."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "connectors").mkdir()
        (root / "data").mkdir()
        (root / "collide.yaml").write_text("name: fuzz\n", encoding="utf-8")
        (root / "connectors" / "deaths.yaml").write_text(connector_yaml(source), "utf-8")
        (root / "data" / name).write_bytes(data)
        conn = load_catalog(root).connectors["deaths"]
        try:
            rep = ingest_dataset(conn, root, root / "snapshots")
        except CollideError as exc:
            text = str(exc)
            assert text.strip() and "internal error" not in text and "Traceback" not in text
            assert all(p.message for p in exc.problems)
            return
        assert rep.rows_read == rep.rows_loaded + rep.rows_rejected
        assert pl.read_parquet(rep.snapshot_dir / "data.parquet").height == rep.rows_loaded
        assert pl.read_parquet(rep.snapshot_dir / "rejects.parquet").height == rep.rows_rejected


# ---------------------------------------------------------------------------- CSV

ENCODINGS = ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le", "utf-32"]
ROW = st.lists(st.sampled_from([*(c for r in GOOD for c in r), "", '"', "合计", "x,y"]), max_size=6)


@st.composite
def real_csv(draw: st.DrawFn) -> bytes:
    rows = [HEAD, *draw(st.lists(ROW, min_size=0, max_size=8)), *GOOD[: draw(st.integers(0, 3))]]
    sep = draw(st.sampled_from([",", "\t", ";", "|"]))
    text = csv_text([list(r) for r in rows], sep)
    text = text.replace("\n", draw(st.sampled_from(["\n", "\r\n", "\r"])))
    return text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "repeat", "long"]))
        # (a position by modulo: the same draws whatever the length, so shrinking is stable
        # even for an .xlsx whose bytes carry the time it was written)
        at = draw(st.integers(0, 1 << 20)) % max(len(data), 1)
        if op == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            special = st.sampled_from([b"\x00", b"\r", b"\n", b'"', b",", b"\xe5", b"\xff\xfe"])
            data[at:at] = draw(special | st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif op == "truncate":
            del data[at:]
        elif op == "long":  # one cell past the csv module's field limit (128 KiB)
            data[at:at] = draw(st.sampled_from([b'"', b""])) + b"x" * 140_000
        elif op == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 64))] * draw(st.integers(1, 3))
    return bytes(data)


@FUZZ
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_as_csv(data: bytes) -> None:
    _ingest_bytes(data, "d.csv", CSV)


@FUZZ
@given(real_csv())
def test_real_csv_exports(data: bytes) -> None:
    _ingest_bytes(data, "d.csv", CSV)


@FUZZ
@given(real_csv().flatmap(mutated))
def test_mutated_csv_exports(data: bytes) -> None:
    _ingest_bytes(data, "d.csv", CSV)


# ---------------------------------------------------------------------------- Excel

CELL = st.one_of(
    st.text(max_size=20).map(lambda s: "".join(ch for ch in s if ch >= " " or ch in "\t\n")),
    st.integers(-(10**18), 10**18),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.none(),
)


def _xlsx(rows: list[list[object]]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@st.composite
def real_xlsx(draw: st.DrawFn) -> bytes:
    title = [["死亡人员名单"]] if draw(st.booleans()) else []
    body = draw(st.lists(st.lists(CELL, max_size=6), max_size=8))
    return _xlsx([*title, HEAD, *body, *GOOD[: draw(st.integers(0, 3))]])


@FUZZ
@given(real_xlsx())
def test_xlsx_with_arbitrary_cells(data: bytes) -> None:
    _ingest_bytes(data, "d.xlsx", XLSX)


@settings(FUZZ, max_examples=60)
@given(real_xlsx().flatmap(mutated))
def test_mutated_xlsx_bytes(data: bytes) -> None:
    _ingest_bytes(data, "d.xlsx", XLSX)
