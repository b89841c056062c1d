"""Sources: one small class per `source.type`, behind the `SOURCES` registry.

files.py      the `Source` interface, raw tables, file discovery (confined), fingerprints
csv.py        delimited text: what the bytes are, transcode, line ends, polars' reader
excel.py      .xlsx/.xls (the only importer of fastexcel, openpyxl and xlrd in ingest)
parquet.py    Parquet files, and the columnar shape database extracts share
databases.py  PostgreSQL (ADBC) and MySQL/MariaDB (connectorx)
spark_table.py  a Hive/Spark table or query on the cluster (engine: spark)
documents.py  judgment and decision texts (found and hashed here, read by ingest.documents)
"""

from __future__ import annotations

from collide.ingest.sources.csv import CsvSource
from collide.ingest.sources.databases import DatabaseSource, MysqlSource, PostgresSource
from collide.ingest.sources.documents import DocumentSource
from collide.ingest.sources.excel import ExcelSource
from collide.ingest.sources.files import (
    FileInfo,
    FileSource,
    HeaderInfo,
    RawTable,
    Restart,
    Source,
    allowed_roots,
)
from collide.ingest.sources.parquet import ParquetSource
from collide.ingest.sources.spark_table import SparkTableSource

SOURCES: dict[str, type[Source]] = {
    "csv": CsvSource,
    "excel": ExcelSource,
    "parquet": ParquetSource,
    "postgres": PostgresSource,
    "mysql": MysqlSource,
    "spark_table": SparkTableSource,  # needs pyspark only when used
    "documents": DocumentSource,
}

__all__ = [
    "SOURCES",
    "CsvSource",
    "DatabaseSource",
    "DocumentSource",
    "ExcelSource",
    "FileInfo",
    "FileSource",
    "HeaderInfo",
    "ParquetSource",
    "RawTable",
    "Restart",
    "Source",
    "allowed_roots",
]
