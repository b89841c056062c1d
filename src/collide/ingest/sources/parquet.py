"""Parquet files, and the columnar shape database extracts share: every value read as text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from collide.errors import CollideError, Problem
from collide.ingest.headers import Header, _disambiguate
from collide.ingest.sources.files import FileSource, HeaderInfo, Progress, RawTable

if TYPE_CHECKING:
    import polars as pl


class ParquetSource(FileSource):
    """Parquet files: columns are headers, every value is read as text like any other source."""

    def tables(self) -> Iterator[RawTable]:

        for info in self.files:
            lf, names = self._scan(info)
            yield _columnar_table(
                info.display, None, lf, names, self.spec.batch_rows, self.progress
            )

    def headers(self) -> Iterator[HeaderInfo]:
        for info in self.unhashed():
            try:
                yield HeaderInfo(info.display, None, self._scan(info)[1])
            except CollideError as exc:
                yield HeaderInfo(info.display, None, None, exc.problems[0])

    @staticmethod
    def _scan(info: Any) -> tuple[Any, list[str]]:
        import polars as pl

        try:
            lf = pl.scan_parquet(info.path)
            return lf, lf.collect_schema().names()
        except (pl.exceptions.PolarsError, OSError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise CollideError(
                Problem(
                    info.display,
                    None,
                    f"cannot read the Parquet file ({first[:120]})",
                    "Check that the file is complete; write it again",
                )
            ) from None


def _columnar_table(
    display: str,
    sheet: str | None,
    lf: Any,
    names: list[str],
    batch_rows: int,
    progress: Progress,
) -> RawTable:
    import polars as pl

    notes: list[str] = []
    header = Header(0, [])
    header.names = _disambiguate([str(n) for n in names], display, notes)
    lf = lf.select(
        *(pl.col(c).alias(f"__c{j}") for j, c in enumerate(names)),
        pl.lit(None, pl.String).alias("__bad"),
    ).with_row_index("__idx")

    def batches() -> Iterator[pl.DataFrame]:
        done = 0
        for df in lf.collect_batches(chunk_size=batch_rows):
            df = df.select(
                *(
                    pl.col(f"__c{j}").cast(pl.String)
                    if df.schema[f"__c{j}"] != pl.String
                    else pl.col(f"__c{j}")
                    for j in range(len(names))
                ),
                (pl.col("__idx").cast(pl.Int64) + 1).alias("__row"),
                pl.col("__bad"),
            )
            done += df.height
            progress(f"reading {display}", done, None)
            yield df

    return RawTable(display, sheet, header, batches(), drop_totals=False, notes=notes)
