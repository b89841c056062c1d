"""Read a project folder: collide.yaml, connectors/*.yaml, models/*.yaml + .sql/.py.

Loading never stops at the first mistake: every problem is collected with its file and line, so
`collide check` can report them all in one go.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from collide.config.specs import ConnectorSpec, ModelSpec, ProjectConfig
from collide.config.yamlio import LocatedYaml, load_yaml, pydantic_problems
from collide.errors import CollideError, Problem, Problems, did_you_mean

CONFIG_FILE = "collide.yaml"
# Parsed YAML of every spec file, so a command does not run ruamel over every connector and model
# (their test rows included) each time: README "Caches". In the default output folder, beside the
# store; a file is parsed again as soon as its path, size, mtime_ns or inode changes.
YAML_CACHE = Path("output") / ".cache" / "yaml.pickle"
SPEC_CACHE = Path("output") / ".cache" / "specs.pickle"  # the specs validated from them
_CACHE_VERSION = 1


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder upwards from `start` holding collide.yaml."""
    here = (start or Path.cwd()).resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise CollideError(
        Problem(
            str(start or Path.cwd()),
            None,
            f"no {CONFIG_FILE} here or in any parent folder",
            "Run collide inside a project folder or pass --project PATH",
        )
    )


@dataclass
class Located:
    """A spec plus where it came from, so later stages can point at the right line."""

    path: Path
    display: str
    doc: LocatedYaml

    def line(self, *loc: Any) -> int:
        return self.doc.line_of(tuple(loc))


@dataclass
class Connector(Located):
    spec: ConnectorSpec = None  # type: ignore[assignment]
    dumped: dict[str, Any] | None = None  # spec_json(), when the spec cache kept it

    @property
    def id(self) -> str:
        return self.spec.id

    def spec_json(self) -> dict[str, Any]:
        """The spec as JSON data under the names written in YAML (what a snapshot's connector
        hash is taken over). Kept with the spec in the spec cache: dumping builds pydantic's
        serializer, which a command on an unchanged connector otherwise never needs."""
        if self.dumped is None:
            self.dumped = _spec_json(self.spec)
        return self.dumped


def _spec_json(spec: Any) -> dict[str, Any]:
    return spec.model_dump(mode="json", by_alias=True)


@dataclass
class Model(Located):
    spec: ModelSpec = None  # type: ignore[assignment]
    sql_path: Path | None = None
    rule_path: Path | None = None
    sql: str = ""

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def kind(self) -> str:
        return "polars" if self.rule_path else "sql"

    @property
    def version(self) -> str:
        """Hash of the YAML and the SQL/rule text: any edit makes a new model version."""
        h = hashlib.sha256(self.path.read_bytes())
        body = self.rule_path or self.sql_path
        if body is not None:
            h.update(b"\0" + body.read_bytes())
        return h.hexdigest()[:12]

    @property
    def body_display(self) -> str:
        body = self.rule_path or self.sql_path
        return self.display[: -len(self.path.name)] + body.name if body else self.display


@dataclass
class Catalog:
    root: Path
    config: ProjectConfig
    connectors: dict[str, Connector] = field(default_factory=dict)
    models: dict[str, Model] = field(default_factory=dict)
    problems: Problems = field(default_factory=Problems)
    # Files that exist but failed to load: already reported, so links to them are not errors.
    broken_connectors: set[str] = field(default_factory=set)
    broken_models: set[str] = field(default_factory=set)

    def rel(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root))
        except ValueError:
            return str(path)


class _YamlCache:
    """Parsed spec files keyed by path; an entry is used only while (size, mtime_ns, inode) match.

    Stored with pickle but read back by an unpickler that builds nothing but plain data and dates
    (what `load_yaml` returns), so a planted cache file cannot run code."""

    def __init__(self, root: Path):
        self.path = root / YAML_CACHE
        self.entries: dict[str, tuple[tuple[int, int, int], Any, dict]] = {}
        self.dirty = False
        self.used: set[str] = set()
        self.stamps: dict[str, tuple[int, int, int]] = {}  # what each file was read under
        try:
            with open(self.path, "rb") as fh:
                blob = _SafeUnpickler(fh).load()
            if isinstance(blob, dict) and blob.get("version") == _CACHE_VERSION:
                self.entries = blob["entries"]
        except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError):
            self.entries = {}

    def load(self, path: Path, display: str) -> LocatedYaml:
        try:
            st = os.stat(path)
        except OSError:
            return load_yaml(path, display)  # reports the missing file as it always has
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        key = str(path)
        self.used.add(key)
        self.stamps[key] = stamp
        hit = self.entries.get(key)
        if hit is not None and hit[0] == stamp:
            return LocatedYaml(path=path, data=hit[1], lines=dict(hit[2]))
        doc = load_yaml(path, display)  # a broken file raises and is not cached
        # plain types only (ruamel's ScalarInt, TimeStamp … become int, datetime …), on a first
        # parse too, so a cached load gives exactly what a fresh one does
        doc.data = _builtin(doc.data)
        self.entries[key] = (stamp, doc.data, dict(doc.lines))
        self.dirty = True
        return LocatedYaml(path=path, data=_builtin(doc.data), lines=dict(doc.lines))

    def save(self) -> None:
        """Write the cache if anything was parsed or a file went away; quietly skip if the
        folder cannot be written (a read-only checkout still works, just slower)."""
        stale = set(self.entries) - self.used
        for key in stale:
            del self.entries[key]
        if self.dirty or stale:
            _write_cache(self.path, {"version": _CACHE_VERSION, "entries": self.entries})


def _write_cache(path: Path, blob: dict) -> None:
    """Pickle `blob` to `path` through a temporary file (readers never see half a file);
    quietly skip if the folder cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(blob, fh, protocol=5)
        os.replace(tmp, path)
    except OSError:
        pass


def _builtin(value: Any) -> Any:
    """A copy of parsed YAML data made of built-in types only."""
    import datetime as dt

    if isinstance(value, dict):
        return {_builtin(k): _builtin(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_builtin(v) for v in value]
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dt.datetime):
        return dt.datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            value.tzinfo,
        )
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
    if isinstance(value, dt.time):
        return dt.time(value.hour, value.minute, value.second, value.microsecond, value.tzinfo)
    return value


class _SafeUnpickler(pickle.Unpickler):
    _ALLOWED = {("datetime", n) for n in ("date", "datetime", "time", "timedelta", "timezone")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the YAML cache")


class _SpecCache:
    """Validated specs of unchanged files, so a command on an unchanged project runs no pydantic
    validation (and builds no validators): README "Caches".

    An entry is the spec pickled right after its validation, used only while its file's stamp
    (size, mtime_ns, inode, as the YAML cache read it) and the stamp of the code that validates
    (this package's spec modules, pydantic) match; only files that validated without a problem
    are kept, so every problem is found by validation itself. Read back by an unpickler that
    builds nothing but collide's spec models and dates."""

    def __init__(self, root: Path, yaml: _YamlCache):
        from collide.derived import code_stamp

        self.path = root / SPEC_CACHE
        self.yaml = yaml
        here = Path(__file__).parent.parent
        self.code = code_stamp((here / f for f in _VALIDATING_CODE), ("pydantic", "pydantic_core"))
        self.entries: dict[str, tuple[tuple[int, int, int], str, bytes, Any]] = {}
        self.dumps: dict[str, Any] = {}  # path → the spec as JSON data, where kept
        self.dirty = False
        self.used: set[str] = set()
        try:
            with open(self.path, "rb") as fh:
                blob = _SafeUnpickler(fh).load()
            if (
                isinstance(blob, dict)
                and blob.get("version") == _CACHE_VERSION
                and blob.get("code") == self.code
            ):
                self.entries = blob["entries"]
        except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError):
            self.entries = {}

    def validate(
        self, cls: Any, doc: LocatedYaml, display: str, problems: Problems, dump: bool = False
    ) -> Any:
        """`_validate(cls, doc, …)`, or the spec it gave for the same file before; with `dump`,
        its JSON data (`Connector.spec_json`) is kept too, in `self.dumps`."""
        key = str(doc.path)
        stamp = self.yaml.stamps.get(key)
        if stamp is None:  # not read through the YAML cache: nothing to key it by
            return _validate(cls, doc, display, problems)
        self.used.add(key)
        hit = self.entries.get(key)
        if isinstance(hit, tuple) and len(hit) == 4 and hit[:2] == (stamp, cls.__name__):
            try:
                spec = _SpecUnpickler(io.BytesIO(hit[2])).load()
                if type(spec) is cls and (hit[3] is not None or not dump):
                    if hit[3] is not None:
                        self.dumps[key] = hit[3]
                    return spec
            except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError):
                pass  # validated again below
        before = len(problems.items)
        spec = _validate(cls, doc, display, problems)
        if spec is not None and len(problems.items) == before:
            dumped = _spec_json(spec) if dump else None
            self.entries[key] = (stamp, cls.__name__, pickle.dumps(spec, protocol=5), dumped)
            if dumped is not None:
                self.dumps[key] = dumped
            self.dirty = True
        return spec

    def forget(self, path: Path) -> None:
        """Drop the entry of a file whose spec turned out to have a problem after all."""
        if self.entries.pop(str(path), None) is not None:
            self.dirty = True

    def save(self) -> None:
        """As `_YamlCache.save`."""
        stale = set(self.entries) - self.used
        for key in stale:
            del self.entries[key]
        if self.dirty or stale:
            blob = {"version": _CACHE_VERSION, "code": self.code, "entries": self.entries}
            _write_cache(self.path, blob)


# what validating a spec runs: its models, their validators and what those call
_VALIDATING_CODE = (
    "config/catalog.py",
    "config/specs.py",
    "config/yamlio.py",
    "ingest/documents.py",
    "standards/types.py",
    "engine/backend.py",
    "engine/geo.py",
    "engine/workdays.py",
    "errors.py",
)
_SPEC_MODULES = frozenset({"collide.config.specs", "collide.ingest.documents"})


class _SpecUnpickler(_SafeUnpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module in _SPEC_MODULES:
            from pydantic import BaseModel

            found = super(_SafeUnpickler, self).find_class(module, name)
            if isinstance(found, type) and issubclass(found, BaseModel):
                return found
        return super().find_class(module, name)


_CONFIGS: dict[tuple[str, int, int, int], ProjectConfig] = {}


def _validate(cls: Any, doc: LocatedYaml, display: str, problems: Problems) -> Any:
    if not isinstance(doc.data, dict):
        problems.add(display, 1, "expected a mapping of keys at the top level", "See the README")
        return None
    try:
        return cls.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc, doc, display, cls))
        return None


def load_config(
    root: Path, cache: _YamlCache | None = None, specs: _SpecCache | None = None
) -> ProjectConfig:
    """collide.yaml as a typed config; the same unchanged file is validated once per process
    (ingest asks for it once per dataset)."""
    path = root / CONFIG_FILE
    try:
        st = os.stat(path)
        memo_key: tuple[str, int, int, int] | None = (
            str(path),
            st.st_size,
            st.st_mtime_ns,
            st.st_ino,
        )
    except OSError:
        memo_key = None
    if memo_key in _CONFIGS:
        return _CONFIGS[memo_key]  # type: ignore[index]
    doc = cache.load(path, CONFIG_FILE) if cache is not None else load_yaml(path, CONFIG_FILE)
    if doc.data is None:
        return ProjectConfig()
    problems = Problems()
    if specs is not None:
        cfg = specs.validate(ProjectConfig, doc, CONFIG_FILE, problems)
    else:
        cfg = _validate(ProjectConfig, doc, CONFIG_FILE, problems)
    if cfg is not None:
        from collide.engine.workdays import parse_entries

        for year, notice in cfg.holidays.items():
            for key in ("off", "work"):
                for message in parse_entries(getattr(notice, key), year)[1]:
                    problems.add(
                        CONFIG_FILE,
                        doc.line_of(("holidays", year, key)),
                        f"holidays {year} {key}: {message}",
                        "Write each day as YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD",
                    )
    if problems and specs is not None:
        specs.forget(path)
    problems.raise_if_any()
    if memo_key is not None:
        _CONFIGS[memo_key] = cfg
    return cfg


def load_catalog(root: Path) -> Catalog:
    """Load everything; problems are collected on `catalog.problems`, not raised."""
    cache = _YamlCache(root)
    specs = _SpecCache(root, cache)
    try:
        config = load_config(root, cache, specs)
    except CollideError:
        specs.save()
        raise
    cat = Catalog(root=root, config=config)
    _load_connectors(cat, cache, specs)
    _load_models(cat, cache, specs)
    cache.save()
    specs.save()
    return cat


def _load_connectors(cat: Catalog, cache: _YamlCache, specs: _SpecCache) -> None:
    folder = cat.root / cat.config.paths.connectors
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.y*ml")):
        display = cat.rel(path)
        try:
            doc = cache.load(path, display)
        except CollideError as exc:
            cat.problems.extend(exc.problems)
            cat.broken_connectors.add(path.stem)
            continue
        spec = specs.validate(ConnectorSpec, doc, display, cat.problems, dump=True)
        if spec is None:
            cat.broken_connectors.add(path.stem)
            continue
        if spec.id != path.stem:
            cat.problems.add(
                display,
                doc.line_of(("id",)),
                f'dataset id "{spec.id}" differs from the file name "{path.stem}"',
                f"Rename the file to {spec.id}.yaml or set id: {path.stem}",
            )
            continue
        cat.connectors[spec.id] = Connector(
            path=path, display=display, doc=doc, spec=spec, dumped=specs.dumps.get(str(path))
        )


def _load_models(cat: Catalog, cache: _YamlCache, specs: _SpecCache) -> None:
    folder = cat.root / cat.config.paths.models
    if not folder.is_dir():
        return
    yamls = {p.stem: p for p in sorted(folder.glob("*.y*ml"))}
    sqls = {p.stem: p for p in sorted(folder.glob("*.sql"))}
    rules = {p.stem: p for p in sorted(folder.glob("*.py"))}
    for stem, sql in sqls.items():
        if stem not in yamls:
            cat.problems.add(
                cat.rel(sql),
                None,
                f"SQL file without a model file {stem}.yaml",
                f"Add models/{stem}.yaml describing the model, or delete the SQL file",
            )
    for stem, rule in rules.items():
        if stem not in yamls:
            cat.problems.add(
                cat.rel(rule),
                None,
                f"polars rule without a model file {stem}.yaml",
                f"Add models/{stem}.yaml describing the model, or delete the rule file",
            )
    for stem, path in yamls.items():
        display = cat.rel(path)
        try:
            doc = cache.load(path, display)
        except CollideError as exc:
            cat.problems.extend(exc.problems)
            continue
        spec = specs.validate(ModelSpec, doc, display, cat.problems)
        if spec is None:
            continue
        if spec.id != stem:
            cat.problems.add(
                display,
                doc.line_of(("id",)),
                f'model id "{spec.id}" differs from the file name "{stem}"',
                f"Rename the files to {spec.id}.yaml/.sql or set id: {stem}",
            )
            continue
        sql_path, rule_path = sqls.get(stem), rules.get(stem)
        if sql_path and rule_path:
            cat.problems.add(
                display,
                None,
                f"model has both {stem}.sql and {stem}.py",
                "Keep one: SQL for most models, a polars rule only where SQL does badly",
            )
            continue
        if not sql_path and not rule_path:
            cat.problems.add(
                display,
                None,
                f"model file without its SQL {stem}.sql",
                f"Write the query in models/{stem}.sql (or a polars rule in {stem}.py)",
            )
            continue
        sql = ""
        if sql_path:
            try:
                sql = sql_path.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError:
                cat.problems.add(cat.rel(sql_path), None, "file is not UTF-8", "Save it as UTF-8")
                continue
        model = Model(
            path=path,
            display=display,
            doc=doc,
            spec=spec,
            sql_path=sql_path,
            rule_path=rule_path,
            sql=sql,
        )
        cat.models[spec.id] = model
    _cross_check(cat)


def intended_inputs(inputs: list[str], known: Any) -> dict[str, str]:
    """Each input that names no known dataset → the existing dataset it most likely means.

    The model's other uses of the intended name (SQL, evidence, test rows) are then right, not
    mistakes: the one problem is the spelling in `inputs:`."""
    import difflib

    names = sorted(set(known))
    out = {}
    for ds in inputs:
        if ds not in known:
            close = difflib.get_close_matches(ds, names, n=1, cutoff=0.6)
            if close and close[0] not in inputs:
                out[ds] = close[0]
    return out


def model_cycles(models: dict[str, Model]) -> list[list[str]]:
    """Each loop of models reading each other's hits (`model:` inputs), as the ids in reading
    order with the first repeated at the end; each loop once."""
    loops: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(mid: str) -> None:
        state[mid] = 1
        path.append(mid)
        for up in models[mid].spec.upstream:
            if up not in models:
                continue
            if state.get(up) == 1:
                loop = path[path.index(up) :] + [up]
                if frozenset(loop) not in seen:
                    seen.add(frozenset(loop))
                    loops.append(loop)
            elif up not in state:
                visit(up)
        path.pop()
        state[mid] = 2

    for mid in sorted(models):
        if mid not in state:
            visit(mid)
    return loops


def model_order(models: list[Model], every: dict[str, Model]) -> list[Model]:
    """`models` with each model's upstream models (from `every`) before it, else in the given
    order; models in a loop keep their place (the loop is refused by `collide check`)."""
    out: list[Model] = []
    placed: set[str] = set()
    wanted = {m.id for m in models}

    def place(m: Model, trail: tuple[str, ...]) -> None:
        if m.id in placed or m.id in trail:
            return
        for up in m.spec.upstream:
            if up in wanted and up in every:
                place(every[up], (*trail, m.id))
        placed.add(m.id)
        out.append(m)

    for m in models:
        place(m, ())
    return out


def _cross_check(cat: Catalog) -> None:
    """Links between specs that each file alone cannot check."""
    for loop in model_cycles(cat.models):
        lines = []  # where each model names the next one: file:line of that input
        for mid, nxt in zip(loop, loop[1:]):
            m = cat.models[mid]
            lines.append(f"{m.display}:{m.line('inputs', m.spec.inputs.index(nxt))}")
        first = cat.models[loop[0]]
        where = "; ".join(
            f"{mid} reads model:{nxt} at {at}" for mid, nxt, at in zip(loop, loop[1:], lines)
        )
        cat.problems.add(
            first.display,
            first.line("inputs", first.spec.inputs.index(loop[1])),
            f"models read each other's hits in a loop: {' → '.join(loop)} [{where}]",
            "Remove one `model:` input of the loop: a model can only read models that run "
            "before it",
        )
    for model in cat.models.values():
        spec = model.spec
        known = set(cat.connectors) | cat.broken_connectors
        meant = set(intended_inputs(spec.inputs, known).values())
        for i, ds in enumerate(spec.inputs):
            if ds in spec.upstream:
                if ds not in cat.models:
                    cat.problems.add(
                        model.display,
                        model.line("inputs", i),
                        f'unknown model "{ds}" in inputs (model:{ds})',
                        did_you_mean(ds, cat.models) or f"Add models/{ds}.yaml, or remove it",
                    )
                elif ds in cat.connectors:
                    cat.problems.add(
                        model.display,
                        model.line("inputs", i),
                        f'"{ds}" is both a dataset and a model: the SQL name would be ambiguous',
                        "Rename the model or the dataset",
                    )
                continue
            if ds not in cat.connectors and ds not in cat.broken_connectors:
                cat.problems.add(
                    model.display,
                    model.line("inputs", i),
                    f'unknown dataset "{ds}" in inputs',
                    did_you_mean(ds, cat.connectors) or "Add connectors/" + ds + ".yaml",
                )
        for i, ev in enumerate(spec.evidence):
            if ev.dataset in meant:
                continue  # right as written; the misspelt input is reported at inputs:
            if ev.dataset not in spec.inputs:
                cat.problems.add(
                    model.display,
                    model.line("evidence", i, "dataset"),
                    f'evidence dataset "{ev.dataset}" is not one of the model\'s inputs',
                    did_you_mean(ev.dataset, spec.inputs) or "Add it to inputs",
                )
                continue
            conn = cat.connectors.get(ev.dataset)
            if conn is None:
                continue
            cols = conn.spec.schema()
            for dcol in ev.on:
                if dcol not in cols:
                    cat.problems.add(
                        model.display,
                        model.line("evidence", i, "on", dcol),
                        f'evidence column "{dcol}" is not a column of dataset "{ev.dataset}"',
                        did_you_mean(dcol, cols),
                    )
