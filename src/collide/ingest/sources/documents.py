"""Judgment and decision texts (`source.type: documents`): found and fingerprinted like any file
source; read by `collide.ingest.documents`, written by `snapshot.ingest_documents`."""

from __future__ import annotations

from collections.abc import Iterator

from collide.ingest.sources.files import FileSource, HeaderInfo, RawTable


class DocumentSource(FileSource):
    """Files are found (confined to the project and `data_dirs:`) and hashed as for CSV; the
    rows come already typed from the document reader, not as raw tables."""

    def tables(self) -> Iterator[RawTable]:
        raise TypeError("documents are read by collide.ingest.documents.read_documents")

    def headers(self) -> Iterator[HeaderInfo]:
        """Documents have no header row: `collide check` only checks that files are there."""
        self.unhashed()
        return iter(())
