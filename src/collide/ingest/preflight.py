"""`collide check` for agency files: is every connector column's header still there?

Reads only headers (CSV: the first 64 KiB; Excel: the first rows of each sheet; Parquet: the
schema; databases: the columns of the table or query, if the server answers within a few
seconds). A required column whose header is gone is an error (ingest would refuse the file), an
optional one a warning (it would load empty, and the models that read it would be skipped).
Paths outside the project folder and `data_dirs:` are refused here as at ingest.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from collide.config.catalog import Catalog
from collide.errors import CollideError, Problem
from collide.ingest.headers import match_columns, not_found
from collide.ingest.sources import SOURCES
from collide.ingest.sources.files import MissingFile


def check_headers(catalog: Catalog, root: Path) -> list[Problem]:
    """One problem per connector column whose header a file does not have (and per file that
    cannot be read or may not be read)."""
    out: list[Problem] = []
    data_dirs = catalog.config.data_dirs
    with tempfile.TemporaryDirectory(prefix="collide-check-") as work:
        for conn in catalog.connectors.values():
            source = SOURCES[conn.spec.source.type](conn, root, Path(work), None, data_dirs)
            try:
                for info in source.headers():
                    if info.names is None:
                        if info.problem is not None:
                            out.append(info.problem)
                        continue
                    where = info.file + (f" [{info.sheet}]" if info.sheet else "")
                    index = match_columns(conn, info.names)
                    out.extend(
                        not_found(conn, name, info.names, where)
                        for name, j in index.items()
                        if j is None
                    )
            except MissingFile as exc:  # not delivered yet: ingest will say so
                out.extend(_warning(p) for p in exc.problems)
            except CollideError as exc:
                out.extend(exc.problems)
    return out


def _warning(p: Problem) -> Problem:
    return Problem(p.path, p.line, p.message + " (the headers were not checked)", p.fix, "warning")
