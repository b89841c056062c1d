"""Typed specs for everything a data team writes: collide.yaml, connectors, models.

Every spec forbids unknown keys, so a typo is an error at its line, not a silent no-op.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_serializer,
    field_validator,
    model_validator,
)

# the semantic types, their SQL types and keyed types: one table, in collide.standards.types
from collide.standards.types import COLUMN_RE, DUCKDB_TYPES, KEYED_TYPES, SemanticType

ID_RE = re.compile(r"^[a-z0-9_]+$")

PROVENANCE_COLUMNS: dict[str, str] = {
    "_source_file": "VARCHAR",
    "_source_sheet": "VARCHAR",
    "_source_row": "BIGINT",
    "_snapshot_id": "VARCHAR",
    "_issues": "VARCHAR",
}


class Strict(BaseModel):
    # Validators are built when a class first validates, not at import: a command on an
    # unchanged project takes its specs from the cache (config/catalog.py) and validates none.
    # For the same reason the defaults below are made with model_construct (what validating
    # the same values gives, without building a validator).
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


def _check_id(value: str, what: str) -> str:
    if not ID_RE.match(value):
        raise ValueError(f'{what} "{value}" may only use lowercase letters, digits and "_"')
    return value


# --------------------------------------------------------------------------- project


class PathsConfig(Strict):
    models: str = "models"
    connectors: str = "connectors"
    expectations: str = "expectations"
    snapshots: str = "output/snapshots"
    store: str = "output/collide.duckdb"
    runs: str = "runs"


class ExportConfig(Strict):
    mask_ids: bool = True
    xlsx: bool = True
    max_evidence_rows: int = Field(200, ge=1)


class ScheduleConfig(Strict):
    cron: str = "0 2 * * *"
    timezone: str = "Asia/Shanghai"
    deployment: str = "collide-nightly"


class HolidayYear(Strict):
    """One year's State Council holiday notice: days off and weekend days worked (调休上班),
    each a date or a range `2027-02-06..2027-02-12`."""

    off: list[Any] = Field(default_factory=list)
    work: list[Any] = Field(default_factory=list)
    source: str = ""  # e.g. the notice's number


_SIZE_RE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)


class LimitsSpec(Strict):
    """What one model may use (`limits:` in collide.yaml for every model, in a model's YAML for
    that model). Model SQL, its evidence SQL and its unit tests run under them."""

    model_seconds: float | None = Field(None, gt=0)  # wall-clock seconds for one model
    model_memory: str | None = None  # the engine's memory limit for one model, e.g. 4GB

    @field_validator("model_memory")
    @classmethod
    def _size(cls, v: str | None) -> str | None:
        if v is not None and not _SIZE_RE.match(v):
            raise ValueError(f'model_memory "{v}" is not a size such as 4GB or 512MB')
        return v.strip().replace(" ", "") if v is not None else None

    def over(self, base: LimitsSpec) -> LimitsSpec:
        """These limits where set, `base`'s elsewhere."""
        # (both validated already: what validating them again would give)
        return LimitsSpec.model_construct(
            model_seconds=self.model_seconds or base.model_seconds,
            model_memory=self.model_memory or base.model_memory,
        )


DEFAULT_LIMITS = LimitsSpec.model_construct(model_seconds=900.0, model_memory="4GB")


# The 条线 a clue is routed to (分流), and the default reasons an exclusion (排除) may give.
Line = Literal["刑事", "民事", "行政", "公益诉讼", "未检"]
LINES: tuple[str, ...] = get_args(Line)
DEFAULT_EXCLUSION_REASONS: tuple[str, ...] = (
    "数据错误",
    "冒名登记",
    "已整改",
    "不属本院管辖",
    "重复线索",
    "其他",
)


class ReviewConfig(Strict):
    """`review:` in collide.yaml: what the reviewers' file may say."""

    # added to DEFAULT_EXCLUSION_REASONS (the defaults always stay valid)
    exclusion_reasons: list[str] = Field(default_factory=list)
    # 整改期限 = 制发日期 + this many months when the reviewer leaves it empty (诉前检察建议: two)
    rectification_months: int = Field(2, ge=0, le=120)

    @property
    def reasons(self) -> tuple[str, ...]:
        extra = [r.strip() for r in self.exclusion_reasons if r.strip()]
        return tuple(dict.fromkeys([*DEFAULT_EXCLUSION_REASONS, *extra]))


class SparkConfig(Strict):
    """`spark:` in collide.yaml, used when `engine: spark`."""

    master: str = "local[2]"  # spark://host:7077, yarn, k8s://…, or local[N]
    conf: dict[str, str] = Field(default_factory=dict)  # spark.* settings, e.g. executor memory
    # Where the cluster reads the snapshots: the project's snapshot folder as the cluster sees it
    # (an HDFS or S3 address, or a shared mount). Unset: the local path (local mode).
    data_root: str | None = None

    def cluster_root(self, project: Path) -> str | None:
        """`data_root` as Spark is handed it: an address (hdfs://, s3a://) as written, a
        folder taken from the project folder; None in local mode."""
        root = self.data_root
        if root and "://" not in root:
            root = str(project / root)
        return root


class ProjectConfig(Strict):
    name: str = "collide project"
    timezone: str = "Asia/Shanghai"
    paths: PathsConfig = PathsConfig.model_construct()
    export: ExportConfig = ExportConfig.model_construct()
    schedule: ScheduleConfig = ScheduleConfig.model_construct()
    params: dict[str, Any] = Field(default_factory=dict)
    # The date a run judges the data against (freshness, "not after the run date"); leave it out
    # and it is the day of the run. A project of fixed extracts (the bundled sample) sets their
    # as-of date here.
    run_date: dt.date | None = None
    # folders outside the project that agency files may be read from (shares mounted elsewhere);
    # relative to the project folder unless absolute. Nothing else outside the project is read.
    data_dirs: list[str] = Field(default_factory=list)
    # years added to (or replacing) the built-in holiday calendar (collide.engine.workdays)
    holidays: dict[int, HolidayYear] = Field(default_factory=dict)
    # the engine models run on (collide.engine.backend.BACKENDS), and what each model may use
    engine: str = "duckdb"
    spark: SparkConfig = SparkConfig.model_construct()
    limits: LimitsSpec = DEFAULT_LIMITS

    @field_validator("engine")
    @classmethod
    def _engine(cls, v: str) -> str:
        from collide.engine.backend import BACKENDS
        from collide.errors import did_you_mean

        if v not in BACKENDS:
            raise ValueError(f'unknown engine "{v}". {did_you_mean(v, BACKENDS)}')
        return v

    def limits_for(self, model: ModelSpec) -> LimitsSpec:
        """One model's limits: its own `limits:`, else collide.yaml's, else the defaults."""
        project = self.limits.over(DEFAULT_LIMITS)
        return model.limits.over(project) if model.limits is not None else project

    review: ReviewConfig = ReviewConfig.model_construct()
    line: Line | None = None  # the 条线 of models that name none

    _workdays: Any = PrivateAttr(None)

    def workdays(self) -> Any:
        """The working-day calendar: built-in years plus `holidays:` (validated at load); built
        once per loaded configuration, not once per model run."""
        if self._workdays is None:
            from collide.engine.workdays import Year, calendar, parse_entries

            extra = {
                y: Year(
                    frozenset(parse_entries(h.off, y)[0]), frozenset(parse_entries(h.work, y)[0])
                )
                for y, h in self.holidays.items()
            }
            self._workdays = calendar(extra)
        return self._workdays


# --------------------------------------------------------------------------- connectors


class SourceSpec(Strict):
    type: Literal["csv", "excel", "parquet", "postgres", "mysql", "spark_table"]
    path: str | list[str] | None = None
    encoding: str = "auto"
    delimiter: str | None = None
    sheet: str | int | list[str | int] | None = None
    header_row: int | None = Field(None, ge=1)
    dsn_env: str | None = None
    table: str | None = None
    query: str | None = None
    batch_rows: int = Field(250_000, ge=1000)

    @model_validator(mode="after")
    def _by_type(self) -> SourceSpec:
        if self.type in ("csv", "excel", "parquet"):
            if not self.path:
                raise ValueError(f"a {self.type} source needs `path` (a file or glob)")
        elif self.type == "spark_table":  # the cluster of collide.yaml's `spark:` block
            if bool(self.table) == bool(self.query):
                raise ValueError("a spark_table source needs exactly one of `table` or `query`")
        else:
            if not self.dsn_env:
                raise ValueError(
                    f"a {self.type} source needs `dsn_env`: the name of an environment variable "
                    "holding the connection string (never a password in YAML)"
                )
            if bool(self.table) == bool(self.query):
                raise ValueError(f"a {self.type} source needs exactly one of `table` or `query`")
        return self

    @property
    def paths(self) -> list[str]:
        if self.path is None:
            return []
        return [self.path] if isinstance(self.path, str) else list(self.path)


class ColumnSpec(Strict):
    from_: list[str] = Field(alias="from")
    type: SemanticType = "string"
    required: bool = False
    description: str | None = None
    # date/datetime: the text holds Excel day numbers (a CSV saved from Excel); numeric cells
    # of an Excel sheet are read as dates without it
    excel_serial: bool = False
    crs: str | None = None  # geometry only: EPSG:4490 (default), EPSG:4527, … (engine/geo.py)

    @model_validator(mode="after")
    def _crs(self) -> ColumnSpec:
        if self.crs is None and self.type != "geometry":
            return self
        from collide.engine.geo import CRS_HELP, check_crs

        if self.crs is not None and self.type != "geometry":
            raise ValueError("crs: is for geometry columns only")
        if self.type == "geometry" and check_crs(self.crs) is None:
            raise ValueError(f'coordinate system "{self.crs}" is not accepted. {CRS_HELP}')
        return self

    @field_validator("from_", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class ConnectorSpec(Strict):
    id: str
    title: str
    agency: str = ""
    description: str = ""
    # a table source, or a folder of judgment / decision texts (collide.ingest.documents)
    source: SourceSpec | DocumentSourceSpec = Field(discriminator="type")
    # table sources: required; documents: the fields of `source:` give them (when left out)
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    keys: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _check_id(v, "dataset id")

    @field_validator("columns")
    @classmethod
    def _columns(cls, v: dict[str, ColumnSpec]) -> dict[str, ColumnSpec]:
        for name in v:
            if not COLUMN_RE.match(name):
                raise ValueError(f'column name "{name}" must be snake_case ([a-z0-9_])')
        return v

    @field_validator("source", mode="before")
    @classmethod
    def _source_type(cls, v: Any) -> Any:
        if isinstance(v, dict):
            kinds = [*get_args(SourceSpec.model_fields["type"].annotation), "documents"]
            t = v.get("type")
            if t not in kinds:
                from collide.errors import did_you_mean

                hint = did_you_mean(str(t), kinds) if t is not None else ""
                raise ValueError(
                    (f'unknown source type "{t}". ' if t is not None else "source needs `type:`. ")
                    + (hint or "Use one of: " + ", ".join(kinds))
                )
        return v

    @property
    def documents(self) -> bool:
        return self.source.type == "documents"

    @model_validator(mode="after")
    def _keys(self) -> ConnectorSpec:
        if self.documents:
            self._document_columns()
        elif not self.columns:
            raise ValueError("a connector needs `columns:` (the agency's headers for each column)")
        for k in self.keys:
            if k not in self.columns:
                from collide.errors import did_you_mean

                raise ValueError(f'key "{k}" is not a column. {did_you_mean(k, self.columns)}')
        return self

    def _document_columns(self) -> None:
        """A documents connector's columns are its source's fields (and party columns): given
        in `columns:` they must name exactly those, with the same types."""
        src = self.source
        assert isinstance(src, DocumentSourceSpec)
        wanted = src.columns()
        if not self.columns:
            self.columns = {
                name: ColumnSpec.model_validate(
                    {
                        "from": [src.fields[name].label_for(name) if name in src.fields else name],
                        "type": sem,
                    }
                )
                for name, sem in wanted.items()
            }
            return
        from collide.errors import did_you_mean

        for name, col in self.columns.items():
            if name not in wanted:
                raise ValueError(
                    f'column "{name}" is not a field of the documents source. '
                    f"{did_you_mean(name, wanted)}"
                )
            if col.type != wanted[name]:
                raise ValueError(
                    f'column "{name}" is typed {col.type} here and {wanted[name]} in `source:`'
                    " (leave `columns:` out: the fields give them)"
                )

    def schema(self) -> dict[str, str]:
        """Column → DuckDB type of the snapshot this connector produces."""
        if isinstance(self.source, DocumentSourceSpec):
            out = self.source.schema()
            out.update({k: v for k, v in PROVENANCE_COLUMNS.items() if k not in out})
            return out
        out: dict[str, str] = {}
        for name, col in self.columns.items():
            out[name] = DUCKDB_TYPES[col.type]
            if col.type in KEYED_TYPES:
                out[f"{name}_key"] = "VARCHAR"
        out.update(PROVENANCE_COLUMNS)
        return out


# --------------------------------------------------------------------------- models

SubjectType = Literal["person", "organisation", "project", "parcel", "account", "other"]

SUBJECT_TYPE_LABELS: dict[str, str] = {
    "person": "自然人",
    "organisation": "单位",
    "project": "项目",
    "parcel": "地块",
    "account": "户号",
    "other": "其他",
}

SEVERITY_WEIGHT: dict[str, float] = {"low": 1.0, "medium": 2.0, "high": 3.0}


MODEL_REF = "model:"  # `inputs: [model:<id>]`: another model's hits


def _unref(item: Any) -> Any:
    """An evidence or test entry with `model:<id>` written as `<id>`."""
    if not isinstance(item, dict):
        return item
    out = dict(item)
    ds = out.get("dataset")
    if isinstance(ds, str) and ds.startswith(MODEL_REF):
        out["dataset"] = ds[len(MODEL_REF) :].strip()
    given = out.get("given")
    if isinstance(given, dict):
        out["given"] = {
            (
                k[len(MODEL_REF) :].strip() if isinstance(k, str) and k.startswith(MODEL_REF) else k
            ): v
            for k, v in given.items()
        }
    return out


class SubjectSpec(Strict):
    type: SubjectType
    id: str
    name: str | None = None


class EvidenceSpec(Strict):
    dataset: str
    on: dict[str, str] = Field(description="dataset column → model output column")
    label: str | None = None
    # The rows that made the hit (命中行), marked on the evidence sheet: a SQL condition over
    # the dataset row's columns (by name, or d.<column>) and the clue's output (hit.<column>),
    # e.g. `paid_on > hit.death_date`.
    mark: str | None = None

    @field_validator("mark")
    @classmethod
    def _one_condition(cls, v: str | None) -> str | None:
        if v is not None and (";" in v or "--" in v or not v.strip()):
            raise ValueError("mark: is one condition, e.g. paid_on > hit.death_date (no ; or --)")
        return v


class ModelTestSpec(Strict):
    name: str
    given: dict[str, list[dict[str, Any]]]
    expect: list[dict[str, Any]]
    params: dict[str, Any] = Field(default_factory=dict)


class OriginSpec(Strict):
    """Where an installed model came from (`collide model add`), so upgrades can be compared."""

    package: str
    version: str
    content_hash: str
    project: str = ""
    installed_on: str = ""


class NetworkSpec(Strict):
    """`network:` of a model: `edges` is one SELECT over the inputs giving (a, b, via) rows; the
    model SQL then reads `network` and `network_edges` (collide.modelrun.networks)."""

    edges: str


class ModelSpec(Strict):
    id: str
    title: str
    domain: str
    description: str
    legal_basis: str = ""
    severity: Literal["low", "medium", "high"]
    # datasets, and other models' hits as `model:<id>` (read in SQL under the model's id);
    # after validation `inputs` holds the names SQL reads and `upstream` the models among them
    inputs: list[str] = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    subject: SubjectSpec
    score: str
    reason: str
    evidence: list[EvidenceSpec] = Field(default_factory=list)
    # Chinese headings for output columns on the evidence sheet; an output column named like an
    # input column gets that column's agency header without being listed here.
    labels: dict[str, str] = Field(default_factory=dict)
    tests: list[ModelTestSpec] = Field(default_factory=list)
    network: NetworkSpec | None = None  # connected components over edges (modelrun/networks.py)
    enabled: bool = True
    tags: list[str] = Field(default_factory=list)
    limits: LimitsSpec | None = None  # overrides collide.yaml's limits for this model
    line: Line | None = None  # 条线 (分流); default: collide.yaml's `line:`
    assignee: str | None = None  # default 承办人 of this model's clues
    rectification_months: int | None = Field(None, ge=0, le=120)  # overrides collide.yaml
    origin: OriginSpec | None = None
    # polars rules on Spark: the key column(s) all the rule's joins and windows use; the rule then
    # runs once per partition of that key on the executors (README: "Running on Spark")
    partition_by: list[str] = Field(default_factory=list)

    @field_validator("partition_by", mode="before")
    @classmethod
    def _partition_by(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _check_id(v, "model id")

    _upstream: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _model_refs(cls, data: Any) -> Any:
        """`model:<id>` is accepted wherever a model's hits are named (evidence, test rows)."""
        if isinstance(data, dict):
            data = dict(data)
            for key in ("evidence", "tests"):
                if isinstance(data.get(key), list):
                    data[key] = [_unref(x) for x in data[key]]
        return data

    @field_validator("inputs")
    @classmethod
    def _inputs(cls, v: list[str]) -> list[str]:
        for item in v:
            if item.strip().startswith(MODEL_REF):
                _check_id(item.strip()[len(MODEL_REF) :].strip(), "model id")
        return v

    @model_validator(mode="after")
    def _upstream_models(self) -> ModelSpec:
        """`model:<id>` in `inputs:` reads that model's hits: kept in `inputs` as `<id>` (the
        name SQL, evidence and tests use) and listed in `upstream`."""
        names, refs = [], []
        for item in self.inputs:
            item = item.strip()
            if item.startswith(MODEL_REF):
                item = item[len(MODEL_REF) :].strip()
                refs.append(item)
            names.append(item)
        if self.id in refs:
            raise ValueError(f'inputs name the model itself ("model:{self.id}")')
        self.inputs[:] = names
        self._upstream = list(dict.fromkeys(refs))
        return self

    @field_serializer("inputs")
    def _dump_inputs(self, v: list[str]) -> list[str]:
        return [MODEL_REF + i if i in self._upstream else i for i in v]

    @property
    def upstream(self) -> list[str]:
        """The models whose hits this one reads (`model:<id>` inputs)."""
        return list(self._upstream)

    @property
    def datasets(self) -> list[str]:
        """The inputs that are agency datasets (not other models' hits)."""
        return [ds for ds in self.inputs if ds not in self.upstream]

    @field_validator("params")
    @classmethod
    def _params(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name, value in v.items():
            if not COLUMN_RE.match(name):
                raise ValueError(f'param name "{name}" must be snake_case')
            if not isinstance(value, (int, float, str, bool)) and value is not None:
                raise ValueError(f'param "{name}" must be a number, text or true/false')
        return v


# The documents source lives with its reader; imported last (that module's package imports this
# one). The connector spec finds it here when its validator is built (first validation).
from collide.ingest.documents import DocumentSourceSpec  # noqa: E402, F401
