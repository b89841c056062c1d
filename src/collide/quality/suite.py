"""Expectation suites: `expectations/<dataset>.yaml` as typed entries, every mistake at its line.

A suite is a list of Great Expectations (GX Core 1.x) expectations a data clerk can write by hand,
plus a few collide checks that need context GX does not have (the previous snapshot, the run date,
the ID checksums). Like every other spec a user writes, a suite is read through `config.yamlio`
and validated by pydantic models with `extra="forbid"`: the file's shape and collide's checks by
the models below, a GX expectation's arguments by GX's own model of it. Columns are then checked
against the dataset's connector.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from collide.config.yamlio import LocatedYaml, load_yaml
from collide.errors import CollideError, Problem, Problems, did_you_mean

if TYPE_CHECKING:
    from collide.config.catalog import Connector

__all__ = [
    "COLLIDE_TYPES",
    "Suite",
    "SuiteEntry",
    "check_suites",
    "default_suite",
    "entry_columns",
    "load_suite",
]

DATE_TYPES = ("DATE", "TIMESTAMP")
ID_KINDS = ("cn_id", "cn_uscc")
FORMAT_FIX = "See docs/quality.md for the suite format"

Share = Annotated[float, Field(ge=0, le=1, strict=True)]
Ratio = Annotated[float, Field(ge=0, strict=True)]
Days = Annotated[int, Field(ge=0, strict=True)]
Name = Annotated[str, Field(strict=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SuiteFile(_Strict):
    """The top level of a suite file."""

    dataset: Name
    description: str = ""
    expectations: list[Any]


class _Entry(_Strict):
    """The keys every suite entry has besides the check's own arguments."""

    type: Name
    blocking: Annotated[bool, Field(strict=True)] = False
    description: str = ""

    @field_validator("description", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return "" if v is None else str(v)


ENTRY_KEYS = tuple(_Entry.model_fields)
TOP_KEYS = tuple(SuiteFile.model_fields)


class GxEntry(_Entry):
    """A GX expectation: its arguments are GX's to check."""

    model_config = ConfigDict(extra="allow")


class RowCountVsPrevious(_Entry):
    type: Literal["row_count_vs_previous"]
    min_ratio: Ratio = 0.1
    max_ratio: Ratio | None = None


class Freshness(_Entry):
    type: Literal["freshness"]
    column: Name
    max_age_days: Days


class NotInFuture(_Entry):
    type: Literal["not_in_future"]
    column: Name
    mostly: Share | None = None


class ValidIdRate(_Entry):
    type: Literal["valid_id_rate"]
    column: Name
    mostly: Share = 1.0
    kind: Literal["cn_id", "cn_uscc"] | None = None


class RequiredColumns(_Entry):
    type: Literal["required_columns"]
    columns: list[Name] | None = None


class RejectedShare(_Entry):
    type: Literal["rejected_share"]
    max_share: Share = 0.05


CollideCheck = (
    RowCountVsPrevious | Freshness | NotInFuture | ValidIdRate | RequiredColumns | RejectedShare
)
_CHECKS: dict[str, type[_Entry]] = {
    get_args(m.model_fields["type"].annotation)[0]: m for m in get_args(CollideCheck)
}
# collide's own checks: type → (allowed keys, required keys)
COLLIDE_TYPES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    t: (
        frozenset(m.model_fields) - set(ENTRY_KEYS),
        frozenset(k for k, f in m.model_fields.items() if f.is_required()) - set(ENTRY_KEYS),
    )
    for t, m in _CHECKS.items()
}


@dataclass
class SuiteEntry:
    """One expectation of a suite file, checked against GX and the dataset's columns."""

    index: int
    type: str
    args: dict[str, Any]  # everything but type/blocking/description, as written
    blocking: bool
    description: str
    line: int
    check: _Entry | None = None  # the validated collide check (None for a GX expectation)

    @property
    def column(self) -> str | None:
        col = self.args.get("column")
        return col if isinstance(col, str) else None


@dataclass
class Suite:
    dataset: str
    display: str | None
    entries: list[SuiteEntry]


def _collide_entry(index: int, raw: dict[str, Any]) -> SuiteEntry:
    """A suite entry collide builds itself (the default suite), validated like a written one."""
    check = _CHECKS[raw["type"]].model_validate(raw) if raw["type"] in _CHECKS else None
    args = {k: v for k, v in raw.items() if k not in ENTRY_KEYS}
    return SuiteEntry(index, raw["type"], args, bool(raw.get("blocking")), "", 0, check)


def default_suite(connector: Connector) -> Suite:
    """What runs when a dataset has no suite file: its columns exist and its keys are filled."""
    spec = connector.spec
    raws: list[dict[str, Any]] = [
        {"type": "required_columns", "blocking": True},
        {"type": "rejected_share", "max_share": 0.2, "blocking": True},
    ]
    raws += [
        {"type": "expect_column_values_to_not_be_null", "column": k, "blocking": True}
        for k in spec.keys
    ]
    return Suite(spec.id, None, [_collide_entry(i, r) for i, r in enumerate(raws)])


def load_suite(
    path: Path,
    display: str,
    connector: Connector | None,
    connectors: dict[str, Connector] | None = None,
) -> tuple[Suite | None, list[Problem]]:
    """Parse and check one suite file; every problem is returned with its line, none raised."""
    problems = Problems()
    try:
        doc = load_yaml(path, display)
    except CollideError as exc:
        return None, list(exc.problems)
    data = doc.data
    if not isinstance(data, dict):
        problems.add(display, 1, "expected a mapping with `dataset` and `expectations`", FORMAT_FIX)
        return None, problems.items
    try:
        top = SuiteFile.model_validate(data)
    except ValidationError as exc:
        _top_problems(exc, doc, display, path, problems)
        try:  # an unknown key is reported; the rest of the file is still checked
            top = SuiteFile.model_validate({k: v for k, v in data.items() if k in TOP_KEYS})
        except ValidationError:
            return None, problems.items
    dataset = top.dataset
    if dataset != path.stem:
        problems.add(
            display,
            doc.line_of(("dataset",)),
            f'dataset "{dataset}" differs from the file name "{path.stem}"',
            f"Rename the file to {dataset}.yaml or set dataset: {path.stem}",
        )
    if connector is None and connectors is not None:
        connector = connectors.get(dataset)
        if connector is None:
            problems.add(
                display,
                doc.line_of(("dataset",)),
                f'suite for unknown dataset "{dataset}"',
                did_you_mean(dataset, connectors) or f"Add connectors/{dataset}.yaml",
            )
    entries = []
    for i, raw in enumerate(top.expectations):
        entry = _entry(i, raw, doc, display, connector, problems)
        if entry is not None:
            entries.append(entry)
    return Suite(dataset, display, entries), problems.items


def _top_problems(
    exc: ValidationError, doc: LocatedYaml, display: str, path: Path, problems: Problems
) -> None:
    for err in exc.errors():
        key = str(err["loc"][0]) if err["loc"] else ""
        line = doc.line_of((key,))
        if err["type"] == "extra_forbidden":
            problems.add(
                display,
                line,
                f'unknown key "{key}"',
                did_you_mean(key, TOP_KEYS) or "Remove it",
            )
        elif key == "dataset":
            problems.add(
                display, line, 'missing required key "dataset"', f"Add `dataset: {path.stem}`"
            )
        elif key == "expectations":
            problems.add(
                display,
                line,
                "`expectations` must be a list of checks, each starting with `- type:`",
                FORMAT_FIX,
            )
        else:
            problems.add(display, line, f"{key}: {err['msg']}", FORMAT_FIX)


def _entry(
    i: int,
    raw: Any,
    doc: LocatedYaml,
    display: str,
    connector: Connector | None,
    problems: Problems,
) -> SuiteEntry | None:
    at = ("expectations", i)
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        problems.add(
            display,
            doc.line_of(at),
            f"expectation {i + 1} has no `type`",
            "Start each check with `- type: expect_...`",
        )
        return None
    etype = raw["type"]
    line = doc.line_of(at + ("type",))
    args = {k: v for k, v in raw.items() if k not in ENTRY_KEYS}
    model = _CHECKS.get(etype)
    if model is None:
        from collide.quality.gx import expectation_types

        known = expectation_types()
        if etype not in known:
            problems.add(
                display,
                line,
                f'unknown expectation type "{etype}"',
                did_you_mean(etype, [*known, *_CHECKS]) or "See docs/quality.md for the list",
            )
            return None
        model = GxEntry
    try:
        check = model.model_validate(raw)
        ok = True
    except ValidationError as exc:
        check, ok = None, False
        _entry_problems(exc, model, etype, raw, doc, at, line, display, problems)
    blocking = check.blocking if check is not None else raw.get("blocking") is True
    description = check.description if check is not None else str(raw.get("description") or "")
    entry = SuiteEntry(
        i, etype, args, blocking, description, line, check if model is not GxEntry else None
    )
    if model is GxEntry:
        ok = _check_gx_args(entry, doc, display, problems) and ok
    elif ok and connector is not None:
        ok = _check_kinds(entry, doc, display, connector, problems)
    if connector is not None:
        ok = _check_columns(entry, doc, display, connector, problems) and ok
    return entry if ok else None


def _range(model: type[_Entry], key: str) -> tuple[str, str]:
    """("a number", "between 0 and 1"): a field's kind and bounds, read from its constraints."""
    f = model.model_fields[key]
    metadata, kinds = list(f.metadata), [f.annotation]
    for arg in get_args(f.annotation):  # `Share | None`: the constraints sit on the member
        kinds.append(get_args(arg)[0] if get_args(arg) else arg)
        for meta in getattr(arg, "__metadata__", ()):
            metadata += getattr(meta, "metadata", [meta])  # Field(ge=…) keeps its own list
    lo = next((m.ge for m in metadata if hasattr(m, "ge")), None)
    hi = next((m.le for m in metadata if hasattr(m, "le")), None)
    kind = "a whole number" if int in kinds else "a number"
    if lo is not None and hi is not None:
        return kind, f"between {lo} and {hi}"
    return kind, f"at least {lo}" if lo is not None else ""


def _entry_problems(
    exc: ValidationError,
    model: type[_Entry],
    etype: str,
    raw: dict[str, Any],
    doc: LocatedYaml,
    at: tuple[Any, ...],
    line: int,
    display: str,
    problems: Problems,
) -> None:
    """Problems in collide's words for one entry's pydantic errors."""
    fields = [k for k in model.model_fields if k not in ENTRY_KEYS]
    # unknown keys first: a misspelt key explains the "needs" problem that follows it
    for err in sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden"):
        key = str(err["loc"][0]) if err["loc"] else ""
        where = doc.line_of(at + (key,)) if key else line
        value = raw.get(key)
        if err["type"] == "extra_forbidden":
            problems.add(
                display,
                where,
                f'unknown key "{key}" for {etype}',
                did_you_mean(key, [*fields, *ENTRY_KEYS]) or "Remove it",
            )
        elif err["type"] == "missing":
            problems.add(display, line, f'{etype} needs "{key}"', f"Add `{key}:`")
        elif key == "blocking":
            problems.add(
                display,
                where,
                "`blocking` must be true or false",
                "Write blocking: true (stop the models) or blocking: false (warn)",
            )
        elif key == "kind":
            problems.add(
                display,
                where,
                f"kind must be one of {', '.join(ID_KINDS)}",
                "Use cn_id for resident IDs, cn_uscc for credit codes",
            )
        elif key == "columns":
            problems.add(
                display,
                where,
                "columns must be a list of names",
                "Write columns: [id_number, person_name]",
            )
        elif key in fields and err["type"] in (
            "float_type", "int_type", "int_from_float", "greater_than_equal", "less_than_equal",
        ):  # fmt: skip
            kind, bounds = _range(model, key)
            problems.add(
                display, where, f"{key} must be {kind} {bounds}".rstrip(), f"Got {value!r}"
            )
        else:
            problems.add(display, where, f"{key}: {err['msg']}", "See docs/quality.md")


def _check_gx_args(entry: SuiteEntry, doc: LocatedYaml, display: str, problems: Problems) -> bool:
    from collide.quality.gx import arg_errors, expectation_fields

    errors = arg_errors(entry.type, entry.args)
    extras = [e.key for e in errors if e.kind == "unknown"]
    for err in errors:
        line = doc.line_of(("expectations", entry.index, err.key)) if err.key else entry.line
        if err.kind == "unknown":
            problems.add(
                display,
                line,
                f'unknown key "{err.key}" for {entry.type}',
                did_you_mean(err.key, [*expectation_fields(entry.type), *ENTRY_KEYS])
                or "Remove it",
            )
        elif err.kind == "missing":
            if difflib.get_close_matches(err.key, extras, n=1, cutoff=0.6):
                continue  # the misspelt key is reported as unknown, with this name suggested
            problems.add(
                display, entry.line, f'{entry.type} needs "{err.key}"', f"Add `{err.key}:`"
            )
        else:
            what = f"{err.key}: " if err.key else ""
            problems.add(
                display, line, f"{what}{err.message}", f"See the GX documentation of {entry.type}"
            )
    return not errors


def _check_kinds(
    entry: SuiteEntry, doc: LocatedYaml, display: str, connector: Connector, problems: Problems
) -> bool:
    """collide's checks that need a column of a certain kind get one."""
    schema = connector.spec.schema()
    col = entry.column
    if col not in schema:
        return True  # reported by _check_columns
    at = ("expectations", entry.index, "column")
    if entry.type in ("freshness", "not_in_future") and schema[col] not in DATE_TYPES:
        problems.add(
            display,
            doc.line_of(at),
            f'{entry.type} needs a date column, "{col}" is {schema[col]}',
            "Pick a column of type date or datetime in the connector",
        )
        return False
    if entry.type == "valid_id_rate" and "kind" not in entry.args:
        spec = connector.spec.columns.get(col)
        if spec is None or spec.type not in ID_KINDS:
            problems.add(
                display,
                doc.line_of(at),
                f'valid_id_rate needs an ID column, "{col}" is not cn_id or cn_uscc',
                "Set kind: cn_id or kind: cn_uscc, or pick the ID column",
            )
            return False
    return True


def entry_columns(entry: SuiteEntry) -> list[tuple[tuple[Any, ...], str]]:
    """(key path inside the entry, column name) for every column the entry names."""
    out = []
    for key in ("column", "column_A", "column_B"):
        if isinstance(entry.args.get(key), str):
            out.append(((key,), entry.args[key]))
    for key in ("column_list", "columns", "column_set"):
        vals = entry.args.get(key)
        if isinstance(vals, list):
            out.extend(((key, j), c) for j, c in enumerate(vals) if isinstance(c, str))
    return out


def _check_columns(
    entry: SuiteEntry, doc: LocatedYaml, display: str, connector: Connector, problems: Problems
) -> bool:
    schema = connector.spec.schema()
    ok = True
    for key, col in entry_columns(entry):
        if col not in schema:
            problems.add(
                display,
                doc.line_of(("expectations", entry.index, *key)),
                f'column "{col}" is not in dataset "{connector.spec.id}"',
                did_you_mean(col, schema),
            )
            ok = False
    return ok


def check_suites(
    root: Path, expectations_dir: Path, connectors: dict[str, Connector]
) -> list[Problem]:
    """Problems in every suite file (`collide check`), each at its file and line."""
    if not expectations_dir.is_dir():
        return []
    out: list[Problem] = []
    for path in sorted(expectations_dir.glob("*.y*ml")):
        _, problems = load_suite(path, rel(root, path), None, connectors)
        out.extend(problems)
    for path in sorted(expectations_dir.glob("*.json")):
        out.append(
            Problem(
                rel(root, path),
                None,
                "suites are written in YAML",
                f"Rewrite it as {path.stem}.yaml (see docs/quality.md)",
            )
        )
    return out


def rel(root: Path, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
