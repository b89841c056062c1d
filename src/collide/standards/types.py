"""The semantic types a connector column may have: one table, read by the connector spec
(validation, DuckDB types), by ingest (output dtypes, wording) and checked against the README."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

# a column or field name a clerk writes: snake_case
COLUMN_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class SemanticTypeInfo:
    """What one semantic type becomes once normalised."""

    duckdb: str  # the SQL type model SQL sees
    label: str  # how an issue names a value of the type ("placeholder amount …")
    keyed: bool = False  # also produces a matching key column `<name>_key`


SemanticType = Literal[
    "string",
    "int",
    "decimal",
    "money",
    "date",
    "datetime",
    "bool",
    "cn_id",
    "cn_uscc",
    "person_name",
    "org_name",
    "phone",
    "address",
    "area_code",
    "geometry",  # WKT / GeoJSON polygons, `crs:` says the coordinate system (engine/geo.py)
]

TYPES: dict[str, SemanticTypeInfo] = {
    "string": SemanticTypeInfo("VARCHAR", "string"),
    "int": SemanticTypeInfo("BIGINT", "integer"),
    "decimal": SemanticTypeInfo("DOUBLE", "number"),
    # the fen (0.01 yuan) is the unit of Chinese accounts
    "money": SemanticTypeInfo("DECIMAL(18,2)", "amount"),
    "date": SemanticTypeInfo("DATE", "date"),
    "datetime": SemanticTypeInfo("TIMESTAMP", "datetime"),
    "bool": SemanticTypeInfo("BOOLEAN", "yes/no value"),
    "cn_id": SemanticTypeInfo("VARCHAR", "ID"),
    "cn_uscc": SemanticTypeInfo("VARCHAR", "USCC"),
    "person_name": SemanticTypeInfo("VARCHAR", "name"),
    "org_name": SemanticTypeInfo("VARCHAR", "organisation name", keyed=True),
    "phone": SemanticTypeInfo("VARCHAR", "phone number"),
    "address": SemanticTypeInfo("VARCHAR", "address", keyed=True),
    "area_code": SemanticTypeInfo("VARCHAR", "area code"),
    "geometry": SemanticTypeInfo("VARCHAR", "geometry"),  # SRID=<epsg>;<WKT>
}

# The Literal is what pydantic validates a connector against; it must name the table's types.
assert tuple(TYPES) == get_args(SemanticType), "SemanticType and TYPES disagree"

SEMANTIC_TYPES: tuple[str, ...] = tuple(TYPES)
DUCKDB_TYPES: dict[str, str] = {name: t.duckdb for name, t in TYPES.items()}
KEYED_TYPES: frozenset[str] = frozenset(name for name, t in TYPES.items() if t.keyed)
