"""A model package: one YAML document that carries a model to another project.

`<id>.collide.yaml` holds the model's own YAML and SQL (or polars rule) verbatim, what a reader
needs to judge it (title, 法律依据, description, 条线), a version, a content hash over everything
else, and the contract of each input. Agency rows go in only with `--with-sample N`, masked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from collide.errors import CollideError, Problem

FORMAT = "collide-model-package/1"
SUFFIX = ".collide.yaml"


def content_hash(doc: dict[str, Any]) -> str:
    """sha256 over the package without its hash: any edit to the file is detected on add."""
    body = {k: v for k, v in doc.items() if k != "content_hash"}
    raw = json.dumps(body, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def pack_model(
    project: Any, model_id: str, version: str | None = None, sample: int = 0
) -> dict[str, Any]:
    """The package document of one model of `project`."""
    from collide.modelrun.execute import check_model, input_schemas
    from collide.share.contract import build_contract

    model = project.select([model_id], upstream=False)[0]
    project.require_valid()
    documents = [
        ds
        for ds in model.spec.inputs
        if ds in project.catalog.connectors
        and project.catalog.connectors[ds].spec.source.type == "documents"
    ]
    if getattr(model.spec, "upstream", None) or documents:
        raise CollideError(
            Problem(
                model.display,
                model.line("inputs"),
                "a model reading another model's hits (model:…) or the fields of judgment texts "
                "cannot be packed yet (its contract could not be mapped onto other names)",
                "Share its YAML and SQL files by hand for now",
            )
        )
    if model.spec.network is not None:
        raise CollideError(
            Problem(
                model.display,
                model.line("network"),
                "a model with network: cannot be packed yet (its contract would have to map the "
                "edges SQL too)",
                "Share its YAML and SQL files by hand for now",
            )
        )
    schemas = input_schemas(project.catalog, project.snapshot_schemas())
    problems = check_model(model, project.catalog, schemas)
    if problems:
        raise CollideError(
            [*problems, Problem(None, None, f"{model_id} was not packed", "Fix it first")]
        )
    raw_yaml = model.path.read_text(encoding="utf-8-sig")
    body_path = model.rule_path or model.sql_path
    spec = model.spec
    line = model.doc.data.get("line") if isinstance(model.doc.data, dict) else None
    doc: dict[str, Any] = {
        "format": FORMAT,
        "id": spec.id,
        "version": version or _default_version(model),
        "title": spec.title,
        "domain": spec.domain,
        "line": line or spec.domain,
        "legal_basis": spec.legal_basis,
        "description": spec.description,
        "packed_from": project.config.name,
        "packed_on": dt.date.today().isoformat(),
        "model": {
            "kind": model.kind,
            "yaml": raw_yaml,
            ("rule" if model.kind == "polars" else "sql"): body_path.read_text(encoding="utf-8")
            if body_path
            else "",
        },
        "tests": len(spec.tests),
        "contract": build_contract(model, project.catalog.connectors, schemas),
    }
    if sample:
        doc["sample"] = _masked_sample(project, doc["contract"], sample)
    doc["content_hash"] = content_hash(doc)
    return doc


def _default_version(model: Any) -> str:
    """Without --version: the model files' own hash (`Model.version`), so any edit is new."""
    return model.version


def _masked_sample(project: Any, contract: dict[str, Any], n: int) -> dict[str, list[dict]]:
    """Up to `n` rows per input, only the contract's columns, every text masked (resident IDs as
    110105********002X, names and addresses cut to their first character)."""
    import pyarrow.parquet as pq

    from collide.export import mask_text
    from collide.ingest import latest_snapshot
    from collide.snapshot_files import parquet_files

    out: dict[str, list[dict]] = {}
    for ds, entry in contract.items():
        snap = latest_snapshot(project.snapshots_dir, ds)
        if snap is None:
            raise CollideError(
                Problem(
                    None,
                    None,
                    f'--with-sample: dataset "{ds}" has no snapshot yet',
                    f"Run `collide ingest {ds}` first, or pack without --with-sample",
                )
            )
        cols = [c for c, v in entry["columns"].items() if c in snap.schema]
        if not cols:
            out[ds] = []
            continue
        first = pq.ParquetFile(parquet_files(snap.data_path)[0]).iter_batches(
            batch_size=max(1, n), columns=cols
        )
        batch = next(first, None)
        names = cols
        data = [] if batch is None else [tuple(r.values()) for r in batch.to_pylist()[:n]]
        masked = []
        for row in data:
            item = {}
            for name, value in zip(names, row):
                kind = entry["columns"][name].get("type")
                if isinstance(value, str):
                    value = mask_text(value)
                    if kind in ("person_name", "address", "phone") and value:
                        value = value[0] + "*" * (len(value) - 1)
                elif value is not None and not isinstance(value, (int, float, bool)):
                    value = str(value)
                item[name] = value
            masked.append(item)
        out[ds] = masked
    return out


def write_package(doc: dict[str, Any], path: Path) -> None:
    from ruamel.yaml import YAML
    from ruamel.yaml.scalarstring import LiteralScalarString

    def literal(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: literal(v) for k, v in node.items()}
        if isinstance(node, list):
            return [literal(v) for v in node]
        if isinstance(node, str) and "\n" in node:
            return LiteralScalarString(node if node.endswith("\n") else node + "\n")
        return node

    yaml = YAML()
    yaml.width = 4096
    yaml.allow_unicode = True
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(f"# collide model package: {doc['id']} {doc['version']} — {doc['title']}\n")
        fh.write("# Install in another project with: collide model add <this file>\n")
        yaml.dump(literal(doc), fh)


def read_package(path: Path) -> dict[str, Any]:
    """A package file, checked for format and integrity; a problem names the file."""
    from collide.config.yamlio import load_yaml

    shown = str(path)
    if not path.is_file():
        raise CollideError(
            Problem(shown, None, "no such package file", "Give the path of a .collide.yaml file")
        )
    doc = load_yaml(path, shown).data
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CollideError(
            Problem(
                shown,
                1,
                "not a collide model package",
                f"Create one with `collide model pack <id>` (format {FORMAT})",
            )
        )
    for key in ("id", "version", "model", "contract", "content_hash"):
        if key not in doc:
            raise CollideError(
                Problem(shown, None, f'package lacks "{key}"', "Pack the model again")
            )
    if content_hash(doc) != doc["content_hash"]:
        raise CollideError(
            Problem(
                shown,
                None,
                "the package's content does not match its content_hash (it was edited or damaged)",
                "Ask the sender for the file again; to change a model, install it and edit it",
            )
        )
    return doc
