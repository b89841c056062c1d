"""Snapshots: raw agency rows → typed, traceable Parquet, with every row accounted for.

`ingest_dataset` fingerprints the source, and when that exact input (and connector) already has a
snapshot, stops there. Otherwise each raw batch is mapped to canonical columns, run through the
semantic types (`collide.ingest.semantic`), split into loaded and rejected rows, and written into a
temporary folder that is renamed into place only when complete, with its manifest. The LATEST
pointer is replaced atomically, so a reader never sees half a snapshot.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collide.config.catalog import Connector
from collide.errors import CollideError, Problem
from collide.ingest.headers import Header, Mapping, map_columns, present
from collide.ingest.sources import SOURCES, FileInfo, RawTable, Restart

if TYPE_CHECKING:
    import polars as pl

Progress = Callable[[str, int, "int | None"], None]

TOTALS_RE = r"^\s*(合\s*计|总\s*计|小\s*计)"
_WORKERS = 2  # batches normalised at once (polars also parallelises inside each)
_IN_FLIGHT = 3  # batches read but not yet written
_MEMO_CAP = 200_000  # distinct raw values remembered per column (see _Memo)
# pyarrow, for the rejects: dictionary pages only for the provenance columns (one value per
# file); for the raw text, mostly distinct, a dictionary per row group costs time and space.
_PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "use_dictionary": ["_source_file", "_source_sheet", "_snapshot_id"],
}
# polars' sink, for the loaded rows (it chooses dictionary pages per column itself)
_SINK_OPTIONS: dict[str, Any] = {"compression": "zstd", "maintain_order": True}
REJECT_COLUMNS = ["_source_file", "_source_sheet", "_source_row", "_reason", "_raw"]


@dataclass
class SnapshotInfo:
    dataset_id: str
    snapshot_id: str
    dir: Path
    data_path: Path
    rejects_path: Path
    manifest: dict
    schema: dict[str, str]  # column -> DuckDB type name of data.parquet


@dataclass
class IngestReport:
    dataset_id: str
    snapshot_id: str
    snapshot_dir: Path
    new: bool  # False if identical input already had this snapshot (nothing rewritten)
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    totals_rows_dropped: int
    issues_by_kind: dict[str, int]
    files: list[dict]  # {"path", "sha256", "bytes", "rows_read", "sheet"}
    notes: list[str]
    seconds: float


# --------------------------------------------------------------------------- reading snapshots


def load_snapshot(snapshots_dir: Path, dataset_id: str, snapshot_id: str) -> SnapshotInfo:
    folder = Path(snapshots_dir) / dataset_id / snapshot_id
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise CollideError(
            Problem(
                str(folder),
                None,
                f'snapshot "{snapshot_id}" of dataset "{dataset_id}" not found',
                f"Run `collide ingest {dataset_id}`",
            )
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return SnapshotInfo(
        dataset_id=dataset_id,
        snapshot_id=snapshot_id,
        dir=folder,
        data_path=folder / "data.parquet",
        rejects_path=folder / "rejects.parquet",
        manifest=manifest,
        schema=dict(manifest["schema"]),
    )


def latest_snapshot(snapshots_dir: Path, dataset_id: str) -> SnapshotInfo | None:
    pointer = Path(snapshots_dir) / dataset_id / "LATEST"
    if not pointer.is_file():
        return None
    sid = pointer.read_text(encoding="utf-8").strip()
    if not sid or not (pointer.parent / sid / "manifest.json").is_file():
        return None
    return load_snapshot(snapshots_dir, dataset_id, sid)


def _set_latest(ds_dir: Path, snapshot_id: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".LATEST-", dir=ds_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(snapshot_id + "\n")
    os.replace(tmp, ds_dir / "LATEST")


# --------------------------------------------------------------------------- types


def polars_dtype(duck: str) -> pl.DataType:
    import polars as pl

    if duck.startswith("DECIMAL"):
        p, s = duck[duck.index("(") + 1 : -1].split(",")
        return pl.Decimal(int(p), int(s))
    return {
        "VARCHAR": pl.Utf8(),
        "BIGINT": pl.Int64(),
        "DOUBLE": pl.Float64(),
        "DATE": pl.Date(),
        "TIMESTAMP": pl.Datetime("us"),
        "BOOLEAN": pl.Boolean(),
    }[duck]


def connector_hash(conn: Connector) -> str:
    spec = conn.spec_json()
    text = json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- writing


@dataclass
class _Stats:
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    totals: int = 0
    blank: int = 0
    issues: Counter = field(default_factory=Counter)

    def merge(self, other: _Stats) -> None:
        self.rows_read += other.rows_read
        self.rows_loaded += other.rows_loaded
        self.rows_rejected += other.rows_rejected
        self.totals += other.totals
        self.blank += other.blank
        self.issues.update(other.issues)


def _kind(expr: pl.Expr, numbers: bool = False) -> pl.Expr:
    """An issue without the value it quotes, so equal problems count together."""
    expr = expr.str.replace_all(r'\s*"[^"]*"', "")
    if numbers:
        expr = expr.str.replace_all(r"\d+", "N")
    return expr.str.strip_chars(" ,;")


@dataclass
class _Column:
    """How one mapped column is normalised (see `_apply`)."""

    src: str | None  # the raw column, None when it must be computed row by row with others
    struct: pl.Expr  # the full parse, one struct
    fields: list[pl.Expr]  # the output columns, read out of that struct
    fast: tuple[pl.Expr, pl.Expr] | None  # (condition, cheaper struct) for canonical cells
    memo: _Memo | None = None  # the values normalised so far (only with a raw column)


class _Writer:
    """Writes the parts of one snapshot (one part per table) and keeps the accounts."""

    def __init__(
        self,
        conn: Connector,
        folder: Path,
        snapshot_id: str | Callable[[], str],
        progress: Progress,
    ):
        import polars as pl

        self.conn = conn
        self.folder = folder
        # the id, or how to get it once the input is hashed (asked for at the first loaded batch)
        self._snapshot_id = snapshot_id
        self._id_lock = threading.Lock()
        self.progress = progress
        self.schema = conn.spec.schema()
        self.dtypes = {c: polars_dtype(t) for c, t in self.schema.items()}
        self.rej_dtypes = {
            "_source_file": pl.Utf8(),
            "_source_sheet": pl.Utf8(),
            "_source_row": pl.Int64(),
            "_reason": pl.Utf8(),
            "_raw": pl.Utf8(),
        }
        self.rej_arrow = (
            pl.DataFrame(schema=self.rej_dtypes)
            .to_arrow(compat_level=pl.CompatLevel.oldest())
            .schema
        )
        self.parts: list[tuple[Path, Path]] = []
        self.stats = _Stats()
        self.files: list[dict] = []
        self.notes: list[str] = []
        self.absent: dict[str, list[dict]] = {}  # column → the tables whose headers lack it

    @property
    def snapshot_id(self) -> str:
        with self._id_lock:
            if not isinstance(self._snapshot_id, str):
                self._snapshot_id = self._snapshot_id()
            return self._snapshot_id

    # -- one table

    def add(self, table: RawTable, file_entry: dict) -> None:
        self.notes.extend(table.header.notes)
        mapping: Mapping | None = None
        if table.header.names:
            where = table.file + (f" [{table.sheet}]" if table.sheet else "")
            mapping = map_columns(self.conn, table.header.names, where)
            self.notes.extend(mapping.notes)
            for name, j in mapping.index.items():
                if j is None:  # an optional column this table lacks (loaded empty)
                    self.absent.setdefault(name, []).append(
                        {"file": where, "headers": present(table.header.names)}
                    )
        k = len(self.parts)
        paths = (self.folder / f"data-{k}.parquet", self.folder / f"rejects-{k}.parquet")
        try:
            stats = self._write(table, mapping, table.batches, paths)
        except Restart as again:
            stats = self._write(table, mapping, again.again(), paths)
        self.notes.extend(table.notes)
        if mapping is not None and stats.rows_read == 0:
            where = table.file + (f" [{table.sheet}]" if table.sheet else "")
            self.notes.append(f"{where}: a header and no data rows")
        self.parts.append(paths)
        self.stats.merge(stats)
        self.files.append({**file_entry, "rows_read": stats.rows_read, "sheet": table.sheet})

    def _write(
        self, table: RawTable, mapping: Mapping | None, batches: Any, paths: tuple[Path, Path]
    ) -> _Stats:
        import polars as pl
        import pyarrow.parquet as pq
        from polars.io.plugins import register_io_source

        stats = _Stats()
        failure: list[BaseException] = []
        rej_w = pq.ParquetWriter(paths[1], self.rej_arrow, **_PARQUET_OPTIONS)

        def loaded(*_: Any) -> Iterator[pl.DataFrame]:
            """The loaded rows, batch by batch in file order, for polars' Parquet sink; the
            rejected ones are written here, and the accounts kept.

            A small pipeline: while batch k is written (by polars, on its own threads) and
            batch k+2 is read, batch k+1 is normalised in a worker thread. polars releases the
            GIL, so on 2 cores reading, normalising and writing overlap instead of taking
            turns. At most `_IN_FLIGHT` batches are held at once, so memory stays bounded."""
            pending: deque[Future] = deque()

            def emit(done: Future) -> pl.DataFrame | None:
                part, ok, rej = done.result()
                if rej is not None:
                    rej_w.write_table(rej)
                stats.merge(part)
                self.progress(f"loaded {table.file}", stats.rows_read, None)
                return ok

            try:
                if mapping is None:
                    return
                plan = self._plan(table, mapping)
                with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
                    try:
                        for raw in batches:
                            pending.append(pool.submit(self._batch, raw, table, plan))
                            while len(pending) >= _IN_FLIGHT or (pending and pending[0].done()):
                                if (ok := emit(pending.popleft())) is not None:
                                    yield ok
                        while pending:
                            if (ok := emit(pending.popleft())) is not None:
                                yield ok
                    finally:
                        for f in pending:
                            f.cancel()
            except BaseException as exc:  # (polars re-raises it; kept to be sure of the type)
                failure.append(exc)
                raise

        try:
            # polars' Parquet writer encodes columns in parallel: about twice as fast as
            # pyarrow's ParquetWriter on these tables, and it appends batch by batch when fed
            # from a source like this one.
            source = register_io_source(io_source=loaded, schema=pl.Schema(self.dtypes))
            try:
                source.sink_parquet(paths[0], **_SINK_OPTIONS)
            except Exception:
                if failure:
                    raise failure[0] from None
                raise
        finally:
            rej_w.close()
        return stats

    def _plan(self, table: RawTable, mapping: Mapping) -> dict[str, Any]:
        """The expressions for one table: they depend only on which header maps where."""
        import polars as pl

        from collide.ingest.semantic import column_exprs

        spec = self.conn.spec
        strict = set(spec.keys) | {n for n, c in spec.columns.items() if c.required}
        values: list[pl.Expr] = []
        issues: list[pl.Expr] = []
        fatals: list[pl.Expr] = []
        extras: list[pl.Expr] = []
        per_col: list[_Column] = []
        for name, col in spec.columns.items():
            j = mapping.index[name]
            dtype = self.dtypes[name]
            if j is None:
                values.append(pl.lit(None, dtype).alias(name))
                issues.append(pl.lit(None, pl.Utf8).alias(f"__iss_{name}"))
                fatals.append(pl.lit(False).alias(f"__fat_{name}"))
                if f"{name}_key" in self.schema:
                    extras.append(pl.lit(None, pl.Utf8).alias(f"{name}_key"))
                continue
            se = column_exprs(f"__c{j}", name, col.type, col.crs, excel_serial=col.excel_serial)
            # One pass per column: the struct holds value, issue, fatal (and key); the separate
            # expressions would each evaluate the whole parse again.
            assert se.struct is not None
            sname = f"__s_{name}"
            field_of = pl.col(sname).struct.field
            value, issue, fatal = field_of("value"), field_of("issue"), field_of("fatal")
            extra = [field_of("key").alias(f"{name}_key")] if se.extra else []
            if j in table.numeric_flags:
                num = pl.col(f"__num{j}")
                value = pl.when(~num).then(value)
                issue = (
                    pl.when(num)
                    .then(
                        pl.format(
                            'ID mangled by Excel (stored as a number) "{}", unrecoverable; '
                            "ask the agency for the file with IDs as text",
                            pl.col(f"__c{j}"),
                        )
                    )
                    .otherwise(issue)
                )
                fatal = fatal | num
            group = [
                value.cast(dtype).alias(name),
                *extra,
                issue.alias(f"__iss_{name}"),
                fatal.alias(f"__fat_{name}"),
            ]
            # Excel number flags live in other columns: such a column is computed row by row
            src = None if j in table.numeric_flags else f"__c{j}"
            fast = None
            if src is not None and se.fast is not None:
                fast = (se.fast[0], se.fast[1].alias(sname))
            memo = _Memo() if src is not None else None
            per_col.append(_Column(src, se.struct.alias(sname), group, fast, memo))
        failed = {
            name: pl.col(name).is_null() | pl.col(f"__fat_{name}")
            for name in spec.columns
            if name in strict
        }
        reasons = {
            name: pl.when(cond).then(
                pl.coalesce(pl.col(f"__iss_{name}"), pl.lit("missing required value"))
            )
            for name, cond in failed.items()
        }
        return {
            "values": values + extras + issues + fatals,
            "failed": failed,
            "per_col": per_col,
            "reasons": reasons,
            "names": list(spec.columns),
        }

    def _batch(
        self, raw: pl.DataFrame, table: RawTable, plan: dict[str, Any]
    ) -> tuple[_Stats, Any, Any]:
        """Normalise one raw batch: its accounts and the Arrow tables of loaded and rejected
        rows (None when there are none). Runs in a worker thread; writes nothing."""
        import polars as pl

        stats = _Stats()
        ok_table = rej_table = None
        ncols = len(table.header.names)
        cells = [pl.col(f"__c{j}") for j in range(ncols)]
        # A cell is blank when empty or all whitespace; only cells that start with whitespace
        # need stripping to tell (so most cells cost one anchored match, not a copy).
        blank_cells = [
            c.is_null()
            | (c.str.len_bytes() == 0)
            | (
                pl.when(c.str.contains(r"^\s")).then(c).str.strip_chars().str.len_bytes() == 0
            ).fill_null(False)
            for c in cells
        ]
        readable = pl.col("__bad").is_null()
        # A blank row has a blank first cell: most batches have none, and then the other
        # columns need no look.
        if ncols and not raw.select((blank_cells[0] & readable).any()).item():
            skipped = 0
        else:
            mask = raw.select(pl.all_horizontal(blank_cells) & readable).to_series()
            skipped = int(mask.sum())
        stats.blank += skipped
        if skipped:  # filtering copies every column: only when there is something to drop
            raw = raw.filter(~mask)
        if table.drop_totals and ncols:
            # every totals label holds 计: the regex runs only on the cells that do
            totals = pl.any_horizontal(
                [
                    pl.when(c.str.contains("计", literal=True))
                    .then(c)
                    .str.contains(TOTALS_RE)
                    .fill_null(False)
                    for c in cells[:3]
                ]
            )
            mask = raw.select(totals).to_series()
            dropped = int(mask.sum())
            stats.totals += dropped
            if dropped:
                raw = raw.filter(~mask)
        if raw.height == 0:
            return stats, None, None
        stats.rows_read += raw.height
        df = _apply(raw, plan)
        # Only the parts that are not null in this batch (most batches have few problems): a
        # part that is null on every row adds nothing to the joined text, and skipping it saves
        # formatting and joining a column of nulls.
        failing = df.select(
            pl.col("__bad").is_not_null().any().alias("__bad"),
            *(cond.any().alias(n) for n, cond in plan["failed"].items()),
        ).row(0, named=True)
        reason_parts = [
            pl.format("{}: {}", pl.lit(n), r) for n, r in plan["reasons"].items() if failing[n]
        ]
        if failing["__bad"]:
            reason_parts.insert(0, pl.col("__bad"))
        # (a null issue formats to null, and concat_str skips it)
        issue_parts = [
            pl.format("{}: {}", pl.lit(n), pl.col(f"__iss_{n}"))
            for n in plan["names"]
            if df[f"__iss_{n}"].null_count() < df.height
        ]
        df = df.with_columns(
            _joined(reason_parts).alias("__reason"), _joined(issue_parts).alias("_issues")
        )
        lit_file = pl.lit(table.file, pl.Utf8)
        lit_sheet = pl.lit(table.sheet, pl.Utf8)
        issue_cols = [f"__iss_{n}" for n in plan["names"]]
        # the loaded rows' columns first, then the filter: it copies fewer columns
        ok = df.select(
            *(
                pl.col(c).cast(t) if c in df.columns else pl.lit(None, t).alias(c)
                for c, t in self.dtypes.items()
                if not c.startswith("_")
            ),
            lit_file.alias("_source_file"),
            lit_sheet.alias("_source_sheet"),
            pl.col("__row").cast(pl.Int64).alias("_source_row"),
            pl.lit(self.snapshot_id, pl.Utf8).alias("_snapshot_id"),
            pl.col("_issues").cast(pl.Utf8),
            *issue_cols,
        )
        if reason_parts:
            rejected = df.get_column("__reason").is_not_null()
            ok = ok.filter(~rejected)
            rej = df.filter(rejected)
        else:  # nothing to reject: no filtering (it copies every column)
            rej = df.clear()
        stats.rows_loaded += ok.height
        stats.rows_rejected += rej.height
        self._count(ok, rej, plan, stats)
        if ok.height:
            ok_table = ok.drop(issue_cols)
        if rej.height:
            names = table.header.names
            raw_json = pl.struct(
                [pl.col(f"__c{j}").alias(names[j]) for j in range(ncols)]
            ).struct.json_encode()
            out = rej.select(
                lit_file.alias("_source_file"),
                lit_sheet.alias("_source_sheet"),
                pl.col("__row").cast(pl.Int64).alias("_source_row"),
                pl.col("__reason").alias("_reason"),
                raw_json.alias("_raw"),
            )
            rej_table = out.to_arrow(compat_level=pl.CompatLevel.oldest()).cast(self.rej_arrow)
        return stats, ok_table, rej_table

    @staticmethod
    def _count(ok: pl.DataFrame, rej: pl.DataFrame, plan: dict[str, Any], stats: _Stats) -> None:
        import polars as pl

        for n in plan["names"]:
            col = f"__iss_{n}"
            if ok.height and ok[col].null_count() < ok.height:
                # issues repeat (they quote the value): reduce each distinct text once
                counts = (
                    ok[col]
                    .drop_nulls()
                    .value_counts(name="c")
                    .group_by(_kind(pl.col(col)).alias("k"))
                    .agg(pl.col("c").sum())
                )
                for k, c in counts.iter_rows():
                    stats.issues[f"{n}: {k}"] += c
        if not rej.height:
            return
        rej = rej.with_columns(_kind(r).alias(f"__why_{n}") for n, r in plan["reasons"].items())
        for n in plan["reasons"]:
            counts = rej[f"__why_{n}"].drop_nulls().value_counts()
            for k, c in counts.iter_rows():
                stats.issues[f"rejected: {n}: {k}"] += c
        bad = (
            rej.select(_kind(pl.col("__bad"), numbers=True).alias("k"))
            .drop_nulls()["k"]
            .value_counts()
        )
        for k, c in bad.iter_rows():
            stats.issues[f"rejected: {k}"] += c

    # -- the whole snapshot

    def finish(self) -> None:
        """Join the parts into data.parquet and rejects.parquet."""
        import polars as pl

        data = [p[0] for p in self.parts]
        if len(data) == 1:
            os.replace(data[0], self.folder / "data.parquet")
        else:
            pl.scan_parquet(data).sink_parquet(self.folder / "data.parquet", **_SINK_OPTIONS)
            for part in data:
                part.unlink()
        _concat_parquet([p[1] for p in self.parts], self.folder / "rejects.parquet", self.rej_arrow)


class _Memo:
    """The normalised form of the raw values seen in one column of one table, so a value
    repeated within a batch or across batches is normalised once per file.

    Values are numbered in order of first appearance by a polars categorical cast (one hash
    lookup per cell, in Rust, with a category list of its own), and the normalised rows are
    kept in that order: a batch takes its rows with one gather by those numbers, no join.
    A column whose values hardly repeat (IDs, amounts) is cheaper row by row: once its memo
    would hold more than `_MEMO_CAP` values, the column goes row by row from then on.
    """

    def __init__(self) -> None:
        import polars as pl

        self.dtype = pl.Categorical(pl.Categories.random())
        # the category list lives as long as a Series of its type does
        self._alive = pl.Series([], dtype=self.dtype)
        self.frame: pl.DataFrame | None = None  # normalised rows, row k = category k
        self.full = False
        self.lock = threading.Lock()

    def rows(self, raw: pl.DataFrame, col: _Column) -> Any:
        """The normalised rows for the cells of `raw[col.src]`, in row order (None: go row by
        row)."""
        import polars as pl

        if self.full:
            return None
        with self.lock:
            # cast and extend under one lock: category k is always row k of the frame
            codes = raw.get_column(col.src).cast(self.dtype).to_physical()
            seen = 0 if self.frame is None else self.frame.height
            top = codes.max()
            if top is not None and top >= seen:
                if top >= _MEMO_CAP:
                    self.full = True
                    return None
                values = self.dtype.categories.to_series().slice(seen)
                fresh = values.rename(col.src).to_frame().select(col.struct).select(col.fields)
                self.frame = fresh if self.frame is None else pl.concat([self.frame, fresh])
            frame = self.frame
        if frame is None:  # every cell null so far
            return None
        return frame.select(pl.all().gather(codes))


def _joined(parts: list[pl.Expr]) -> pl.Expr:
    """The non-null parts joined with "; ", or null when there are none."""
    import polars as pl

    if not parts:
        return pl.lit(None, pl.Utf8)
    if len(parts) == 1:  # (every part is null or non-empty text)
        return parts[0]
    text = pl.concat_str(parts, separator="; ", ignore_nulls=True)
    return pl.when(text.str.len_bytes() > 0).then(text)


def _apply(raw: pl.DataFrame, plan: dict[str, Any]) -> pl.DataFrame:
    """Run the semantic expressions, once per distinct raw value where values repeat.

    Agency columns repeat a lot (dates, names, organisation names), and normalising is the
    expensive part of ingest: each column's memo (`_Memo`) normalises a value the first time
    the table shows it and hands the same rows out again by number. A column whose values
    hardly repeat (IDs, amounts) goes row by row: through its type's fast path where the cell
    is already canonical (`_fast_rows`), else through the full parse.
    """

    structs: list[pl.Expr] = []  # evaluated on every row of the batch
    fields: list[pl.Expr] = list(plan["values"])  # read out of those structs
    temp: list[str] = []
    computed: list[pl.Series] = []
    for col in plan["per_col"]:
        if col.memo is not None:
            rows = col.memo.rows(raw, col)
            if rows is None and col.fast is not None:
                rows = _fast_rows(raw, col)
            if rows is not None:
                computed.extend(rows.get_columns())
                continue
        structs.append(col.struct)
        fields.extend(col.fields)
        temp.append(col.struct.meta.output_name())
    df = raw.with_columns(computed) if computed else raw
    if structs:
        df = df.with_columns(structs)
    return df.with_columns(fields).drop(temp)


def _fast_rows(raw: pl.DataFrame, col: _Column) -> pl.DataFrame:
    """A column's output by its fast path where that applies, by the full parse elsewhere: the
    full parse runs on the other rows only, and their results are put in place by index."""
    import polars as pl

    assert col.fast is not None
    cond, fast = col.fast
    ok = raw.select(cond).to_series()
    out = raw.select(fast).select(col.fields)
    if ok.all():
        return out
    slow = raw.filter(~ok).select(col.struct).select(col.fields)
    where = (~ok).arg_true()
    return pl.DataFrame([s.scatter(where, slow.get_column(s.name)) for s in out.get_columns()])


def column_accounts(
    data: Path, conn: Connector, absent: dict[str, list[dict]]
) -> dict[str, dict[str, Any]]:
    """Per connector column: how many loaded rows hold a value, and the tables whose headers
    lack it — what a model run checks before trusting an empty column (`modelrun.columns`).
    Counted from the Parquet footer's null counts (no data read) where the writer kept them."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(data).metadata
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    nulls: dict[str, int | None] = dict.fromkeys(names, 0)
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for i, name in enumerate(names):
            st = group.column(i).statistics
            if st is None or not st.has_null_count or nulls[name] is None:
                nulls[name] = None
            else:
                nulls[name] = nulls[name] + st.null_count  # type: ignore[operator]
    unknown = [n for n, v in nulls.items() if v is None]
    if unknown:
        import polars as pl

        counts = pl.scan_parquet(data).select(pl.col(unknown).null_count()).collect().row(0)
        nulls.update(zip(unknown, counts))
    out: dict[str, dict[str, Any]] = {}
    for name in conn.spec.columns:
        filled = meta.num_rows - int(nulls.get(name) or 0) if name in nulls else 0
        out[name] = {"filled": filled, "not_found_in": absent.get(name, [])}
    return out


def _concat_parquet(parts: list[Path], target: Path, schema: Any) -> None:
    import pyarrow.parquet as pq

    if len(parts) == 1:
        os.replace(parts[0], target)
        return
    with pq.ParquetWriter(target, schema, **_PARQUET_OPTIONS) as w:
        for p in parts:
            f = pq.ParquetFile(p)
            for i in range(f.num_row_groups):
                w.write_table(f.read_row_group(i))
    for p in parts:
        p.unlink()


# --------------------------------------------------------------------------- ingest


def _maybe_unchanged(ds_dir: Path, chash: str, files: list[Any]) -> bool:
    """Whether the latest snapshot was made by this connector from files of these names and
    sizes (only a hint: the hashes decide)."""
    try:
        sid = (ds_dir / "LATEST").read_text(encoding="utf-8").strip()
        manifest = json.loads((ds_dir / sid / "manifest.json").read_text(encoding="utf-8"))
        seen = {(e["path"], e["bytes"]) for e in manifest["files"]}
        return manifest["connector_hash"] == chash and seen == {(f.display, f.bytes) for f in files}
    except (OSError, ValueError, KeyError, TypeError):
        return False


class _Exists(Exception):
    """The input's snapshot is already there (found once the input is hashed)."""

    def __init__(self, snapshot_id: str):
        super().__init__(snapshot_id)
        self.snapshot_id = snapshot_id


def _manifest_head(spec: Any, snapshot_id: str, source_type: str, chash: str) -> dict:
    """The fields every snapshot's manifest.json opens with."""
    return {
        "dataset_id": spec.id,
        "snapshot_id": snapshot_id,
        "title": spec.title,
        "agency": spec.agency,
        "source_type": source_type,
        "connector_hash": chash,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _publish(
    manifest: dict, tmp: Path, work: Path, final: Path, ds_dir: Path, started: float
) -> IngestReport:
    """Write the manifest, drop the work folder and move the finished snapshot into place (a
    concurrent ingest of the same data may have got there first: then its snapshot stands),
    then make it the dataset's latest."""
    (tmp / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    shutil.rmtree(work, ignore_errors=True)
    try:
        os.rename(tmp, final)
    except OSError:
        if not (final / "manifest.json").is_file():  # not a concurrent twin: a real error
            raise
    _set_latest(ds_dir, manifest["snapshot_id"])
    return _report(manifest, final, True, time.perf_counter() - started)


def _report(manifest: dict, folder: Path, new: bool, seconds: float) -> IngestReport:
    return IngestReport(
        dataset_id=manifest["dataset_id"],
        snapshot_id=manifest["snapshot_id"],
        snapshot_dir=folder,
        new=new,
        rows_read=manifest["rows_read"],
        rows_loaded=manifest["rows_loaded"],
        rows_rejected=manifest["rows_rejected"],
        totals_rows_dropped=manifest["totals_rows_dropped"],
        issues_by_kind=dict(manifest["issues_by_kind"]),
        files=list(manifest["files"]),
        notes=list(manifest["notes"]),
        seconds=seconds,
    )


def ingest_dataset(
    connector: Connector,
    root: Path,
    snapshots_dir: Path,
    *,
    progress: Progress | None = None,
    data_dirs: list[str] | None = None,
) -> IngestReport:
    """Read one dataset's source into a snapshot (or find the identical one already there).

    Files are read only under `root` and `data_dirs` (default: collide.yaml's `data_dirs:`)."""
    started = time.perf_counter()
    progress = progress or (lambda label, done, total: None)
    spec = connector.spec
    root = Path(root)
    ds_dir = Path(snapshots_dir) / spec.id
    ds_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=ds_dir))
    work = tmp / ".work"
    work.mkdir()
    try:
        if data_dirs is None:
            from collide.config.catalog import load_config

            data_dirs = load_config(root).data_dirs
        source = SOURCES[spec.source.type](connector, root, work, progress, data_dirs)
        if getattr(source, "on_cluster", False):  # a table on the cluster: the cluster writes
            return _ingest_on_cluster(connector, source, tmp, ds_dir, started)
        source.hash_cache = ds_dir / "file_hashes.json"  # unchanged files are not read again
        files = source.prepare()
        chash = connector_hash(connector)
        if spec.documents:
            return _ingest_documents(connector, root, tmp, ds_dir, files, chash, started)

        def fingerprint() -> str:
            """The snapshot id; `_Exists` when that exact input already has its snapshot."""
            h = hashlib.sha256(chash.encode())
            for f in files:
                h.update(f"\0{f.display}\0{f.sha256}".encode())
            sid = h.hexdigest()[:16]
            if (ds_dir / sid / "manifest.json").is_file():
                raise _Exists(sid)
            return sid

        try:
            # Large files are still being hashed (in the background): start reading and
            # normalising meanwhile; the id is asked for when the first loaded batch is ready,
            # and an input that already has its snapshot stops there. When the latest snapshot
            # has the same files of the same sizes (a re-run on unchanged input), wait for the
            # hash instead: most likely nothing needs to be read at all.
            lazy = not all(f.hashed for f in files) and not _maybe_unchanged(ds_dir, chash, files)
            writer = _Writer(connector, tmp, fingerprint if lazy else fingerprint(), progress)
            prepared = time.perf_counter()
            by_path = {f.display: f for f in files}
            for table in source.tables():
                info = by_path[table.file]
                # (the hash goes in below, once it is surely done; the keys keep their order)
                writer.add(
                    table, {"path": info.display, "sha256": info.digest, "bytes": info.bytes}
                )
            snapshot_id = writer.snapshot_id
        except _Exists as there:
            source.save_hashes()
            final = ds_dir / there.snapshot_id
            _set_latest(ds_dir, there.snapshot_id)
            manifest = json.loads((final / "manifest.json").read_text(encoding="utf-8"))
            return _report(manifest, final, False, time.perf_counter() - started)
        for entry in writer.files:  # (a hash that was still running is done by now)
            entry["sha256"] = by_path[entry["path"]].sha256
        source.save_hashes()
        final = ds_dir / snapshot_id
        writer.finish()
        st = writer.stats
        if st.rows_read != st.rows_loaded + st.rows_rejected:  # never expected: a bug if seen
            raise AssertionError(
                f"row accounting failed: read {st.rows_read} != loaded {st.rows_loaded} "
                f"+ rejected {st.rows_rejected}"
            )
        columns = column_accounts(tmp / "data.parquet", connector, writer.absent)
        notes = list(writer.notes)
        if st.totals:
            notes.append(f"totals rows (合计/总计/小计) dropped: {st.totals}")
        if st.blank:
            notes.append(f"blank rows skipped: {st.blank}")
        finished = time.perf_counter()
        manifest = {
            **_manifest_head(spec, snapshot_id, spec.source.type, chash),
            "rows_read": st.rows_read,
            "rows_loaded": st.rows_loaded,
            "rows_rejected": st.rows_rejected,
            "totals_rows_dropped": st.totals,
            "blank_rows_skipped": st.blank,
            "issues_by_kind": dict(sorted(st.issues.items(), key=lambda kv: (-kv[1], kv[0]))),
            "files": writer.files,
            "schema": writer.schema,
            "columns": columns,
            "timings": {
                "fingerprint_seconds": round(prepared - started, 3),
                "convert_seconds": round(finished - prepared, 3),
            },
            "notes": notes,
        }
        return _publish(manifest, tmp, work, final, ds_dir, started)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


class PartitionNormaliser:
    """`_Writer._batch` on a Spark executor, for a table already on the cluster: Arrow batches
    of raw columns (`__c<j>`, in header order) and `__row` in, Arrow batches out, each row
    tagged by `__part`: 0 a loaded row, 1 a rejected one, 2 one batch's accounts (JSON in
    `__stats`). The same plan and the same expressions as a file's ingest, so a value loads
    the same wherever it comes from. Picklable: the connector and the header mapping travel,
    the plan is built where it runs."""

    LOADED, REJECTED, ACCOUNTS = 0, 1, 2
    # added by the cluster (Spark literals), not carried through every batch
    CONSTANT = ("_source_file", "_source_sheet", "_snapshot_id")

    def __init__(self, conn: Connector, names: list[str], index: dict[str, int | None],
                 display: str, snapshot_id: str):  # fmt: skip
        self.conn, self.names, self.index = conn, names, index
        self.display, self.snapshot_id = display, snapshot_id

    def data_columns(self) -> list[str]:
        return [c for c in self.conn.spec.schema() if c not in self.CONSTANT]

    def arrow_schema(self) -> Any:
        """What each output batch holds: the loaded columns, the rejects' own, the tag."""
        import pyarrow as pa

        schema = self.conn.spec.schema()
        fields = [pa.field(c, _arrow_type(schema[c])) for c in self.data_columns()]
        fields += [pa.field("__rej_row", pa.int64()), pa.field("__rej_reason", pa.string()),
                   pa.field("__rej_raw", pa.string()), pa.field("__part", pa.int8()),
                   pa.field("__stats", pa.string())]  # fmt: skip
        return pa.schema(fields)

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        import polars as pl

        writer = _Writer(self.conn, Path("."), self.snapshot_id, lambda *_: None)
        table = RawTable(self.display, None, Header(0, self.names), iter(()), drop_totals=False)
        plan = writer._plan(table, Mapping(dict(self.index), []))
        schema = self.arrow_schema()
        ncols = len(self.names)
        for batch in batches:
            if batch.num_rows == 0:
                continue
            df = pl.from_arrow(batch)
            assert isinstance(df, pl.DataFrame)
            # every cell as text, as a database extract is read (`sources.parquet`)
            raw = df.select(
                *(pl.col(f"__c{j}").cast(pl.String) for j in range(ncols)),
                pl.col("__row").cast(pl.Int64),
                pl.lit(None, pl.String).alias("__bad"),
            )
            stats, ok, rej = writer._batch(raw, table, plan)
            if ok is not None:
                out = ok.select(
                    *(pl.col(c) for c in self.data_columns()),
                    pl.lit(None, pl.Int64).alias("__rej_row"),
                    pl.lit(None, pl.String).alias("__rej_reason"),
                    pl.lit(None, pl.String).alias("__rej_raw"),
                    pl.lit(self.LOADED, pl.Int8).alias("__part"),
                    pl.lit(None, pl.String).alias("__stats"),
                ).to_arrow(compat_level=pl.CompatLevel.oldest())
                yield from out.cast(schema).to_batches()
            if rej is not None:
                yield from self._tagged(schema, rej.num_rows, self.REJECTED, {
                    "__rej_row": rej.column("_source_row"),
                    "__rej_reason": rej.column("_reason"),
                    "__rej_raw": rej.column("_raw"),
                }).to_batches()  # fmt: skip
            accounts = {
                "rows_read": stats.rows_read,
                "rows_loaded": stats.rows_loaded,
                "rows_rejected": stats.rows_rejected,
                "totals": stats.totals,
                "blank": stats.blank,
                "issues": dict(stats.issues),
            }
            text = json.dumps(accounts, ensure_ascii=False)
            yield from self._tagged(schema, 1, self.ACCOUNTS, {"__stats": [text]}).to_batches()

    @staticmethod
    def _tagged(schema: Any, n: int, part: int, given: dict[str, Any]) -> Any:
        """`n` rows of one `__part`: the columns `given`, every other one NULL."""
        import pyarrow as pa

        cols = []
        for f in schema:
            if f.name == "__part":
                cols.append(pa.array([part] * n, f.type))
            elif f.name in given:
                value = given[f.name]
                if isinstance(value, pa.ChunkedArray):
                    value = value.combine_chunks()
                cols.append(pa.array(value, f.type) if isinstance(value, list) else value)
            else:
                cols.append(pa.nulls(n, f.type))
        return pa.Table.from_arrays([c.cast(f.type) for c, f in zip(cols, schema)], schema=schema)


def _ingest_on_cluster(
    connector: Connector, source: Any, tmp: Path, ds_dir: Path, started: float
) -> IngestReport:
    """A table already on the cluster (`type: spark_table`): the cluster fingerprints it,
    normalises it (`PartitionNormaliser` on the executors) and writes data.parquet and
    rejects.parquet itself; the driver sees counts, writes the manifest and moves the pointer.

    Spark writes a folder of part files under each name; where `spark.data_root` is an address
    of its own (hdfs://, s3a://), the data lands there and only the manifest here."""
    from collide.ingest.headers import _disambiguate

    spec = connector.spec
    chash = connector_hash(connector)
    digest = source.fingerprint()
    info = FileInfo(Path(source.display), source.display, digest, 0)
    snapshot_id = _fingerprint(chash, [info])
    final = ds_dir / snapshot_id
    if (final / "manifest.json").is_file():
        _set_latest(ds_dir, snapshot_id)
        manifest = json.loads((final / "manifest.json").read_text(encoding="utf-8"))
        return _report(manifest, final, False, time.perf_counter() - started)
    prepared = time.perf_counter()
    notes: list[str] = []
    names = _disambiguate([str(n) for n in source.column_names()], source.display, notes)
    mapping = map_columns(connector, names, source.display)
    notes.extend(mapping.notes)
    absent = {
        name: [{"file": source.display, "headers": present(names)}]
        for name, j in mapping.index.items()
        if j is None
    }
    normaliser = PartitionNormaliser(connector, names, mapping.index, source.display, snapshot_id)
    written = source.write_snapshot(normaliser, tmp, final)
    st = _Stats()
    for text in written["accounts"]:
        part = json.loads(text)
        st.merge(_Stats(part["rows_read"], part["rows_loaded"], part["rows_rejected"],
                        part["totals"], part["blank"], Counter(part["issues"])))  # fmt: skip
    # never expected, a bug if seen: the batches' accounts against the cluster's own counts
    if (st.rows_read + st.blank, st.rows_loaded, st.rows_rejected) != (
        written["rows"],
        written["loaded"],
        written["rejected"],
    ) or st.rows_read != st.rows_loaded + st.rows_rejected:
        raise AssertionError(
            f"row accounting failed: table {written['rows']} rows, read {st.rows_read} "
            f"(+{st.blank} blank) != loaded {written['loaded']} + rejected {written['rejected']}"
        )
    columns = {
        name: {"filled": written["filled"].get(name, 0), "not_found_in": absent.get(name, [])}
        for name in spec.columns
    }
    if st.blank:
        notes.append(f"blank rows skipped: {st.blank}")
    finished = time.perf_counter()
    manifest = {
        **_manifest_head(spec, snapshot_id, spec.source.type, chash),
        "rows_read": st.rows_read,
        "rows_loaded": st.rows_loaded,
        "rows_rejected": st.rows_rejected,
        "totals_rows_dropped": st.totals,
        "blank_rows_skipped": st.blank,
        "issues_by_kind": dict(sorted(st.issues.items(), key=lambda kv: (-kv[1], kv[0]))),
        "files": [
            {
                "path": source.display,
                "sha256": digest,
                "bytes": 0,  # (no bytes: a table)
                "rows_read": st.rows_read,
                "sheet": None,
            }
        ],  # fmt: skip
        "schema": spec.schema(),
        "columns": columns,
        "written_by": "cluster",
        "data_location": written["data"],
        "timings": {
            "fingerprint_seconds": round(prepared - started, 3),
            "convert_seconds": round(finished - prepared, 3),
        },
        "notes": notes,
    }
    return _publish(manifest, tmp, tmp / ".work", final, ds_dir, started)


def _fingerprint(chash: str, files: list[Any]) -> str:
    h = hashlib.sha256(chash.encode())
    for f in files:
        h.update(f"\0{f.display}\0{f.sha256}".encode())
    return h.hexdigest()[:16]


def _ingest_documents(
    connector: Connector,
    root: Path,
    tmp: Path,
    ds_dir: Path,
    files: list[Any],
    chash: str,
    started: float,
) -> IngestReport:
    """A folder of judgment / decision texts into a snapshot. The reader gives typed rows (the
    semantic types already ran, per field); here they get the snapshot's provenance columns,
    and rejected documents go to rejects.parquet with their reason."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from collide.ingest.documents import DocumentReport, read_documents

    spec = connector.spec
    snapshot_id = _fingerprint(chash, files)  # every file is hashed first (the id comes first)
    final = ds_dir / snapshot_id
    if (final / "manifest.json").is_file():
        _set_latest(ds_dir, snapshot_id)
        manifest = json.loads((final / "manifest.json").read_text(encoding="utf-8"))
        return _report(manifest, final, False, time.perf_counter() - started)
    prepared = time.perf_counter()
    schema = spec.schema()
    arrow_schema = pa.schema([(name, _arrow_type(t)) for name, t in schema.items()])
    report = DocumentReport()
    origin = connector.display
    with pq.ParquetWriter(tmp / "data.parquet", arrow_schema, **_PARQUET_OPTIONS) as w:
        for batch in read_documents(spec.source, root, report, origin=origin):
            n = batch.num_rows
            cols = {name: batch.column(name) for name in batch.schema.names}
            cols["_source_sheet"] = pa.nulls(n, pa.string())
            cols["_source_row"] = batch.column("_source_paragraph").cast(pa.int64())
            cols["_snapshot_id"] = pa.array([snapshot_id] * n, pa.string())
            w.write_table(
                pa.table([cols[f.name].cast(f.type) for f in arrow_schema], schema=arrow_schema)
            )
    rej = report.rejects_table()
    k = rej.num_rows
    pq.write_table(
        pa.table(
            {
                "_source_file": rej.column("_source_file"),
                "_source_sheet": pa.nulls(k, pa.string()),
                "_source_row": pa.nulls(k, pa.int64()),
                "_reason": rej.column("_reason"),
                "_raw": pa.nulls(k, pa.string()),
                "_source_sha256": rej.column("_source_sha256"),
            }
        ),
        tmp / "rejects.parquet",
        **_PARQUET_OPTIONS,
    )
    if report.documents_read != report.documents_loaded + report.documents_rejected:
        raise AssertionError(  # never expected: a bug if seen
            f"document accounting failed: read {report.documents_read} != loaded "
            f"{report.documents_loaded} + rejected {report.documents_rejected}"
        )
    rejected_rows = len(report.rejects)
    finished = time.perf_counter()
    notes = [
        f"documents: {report.documents_read} read, {report.documents_loaded} loaded, "
        f"{report.documents_rejected} rejected; {report.rows_loaded} rows"
    ]
    manifest = {
        **_manifest_head(spec, snapshot_id, "documents", chash),
        # rows: a loaded row is a row of data.parquet, a rejected one a rejected document
        "rows_read": report.rows_loaded + rejected_rows,
        "rows_loaded": report.rows_loaded,
        "rows_rejected": rejected_rows,
        "totals_rows_dropped": 0,
        "blank_rows_skipped": 0,
        "documents_read": report.documents_read,
        "documents_loaded": report.documents_loaded,
        "documents_rejected": report.documents_rejected,
        "issues_by_kind": dict(sorted(report.issues_by_field.items(), key=lambda kv: -kv[1])),
        "files": [
            {
                "path": f["path"],
                "sha256": f["sha256"],
                "bytes": f["bytes"],
                "rows_read": f["rows"],
                "sheet": None,
            }
            for f in report.files
        ],
        "schema": schema,
        "columns": column_accounts(tmp / "data.parquet", connector, {}),
        "timings": {
            "fingerprint_seconds": round(prepared - started, 3),
            "convert_seconds": round(finished - prepared, 3),
        },
        "notes": notes,
    }
    return _publish(manifest, tmp, tmp / ".work", final, ds_dir, started)


def _arrow_type(duck: str) -> Any:
    import pyarrow as pa

    if duck.startswith("DECIMAL"):
        p, sc = duck[duck.index("(") + 1 : -1].split(",")
        return pa.decimal128(int(p), int(sc))
    return {
        "VARCHAR": pa.string(),
        "BIGINT": pa.int64(),
        "INTEGER": pa.int32(),
        "DOUBLE": pa.float64(),
        "DATE": pa.date32(),
        "TIMESTAMP": pa.timestamp("us"),
        "BOOLEAN": pa.bool_(),
    }[duck]
