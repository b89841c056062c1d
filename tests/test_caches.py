"""The caches that keep a command on unchanged files fast must never show stale content."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from conftest import write_project
from pension_project import PENSION_FILES

from collide.config.catalog import YAML_CACHE, load_catalog


def _specs(root: Path) -> tuple[dict, dict, list]:
    cat = load_catalog(root)
    return (
        {k: c.spec.model_dump() for k, c in cat.connectors.items()},
        {k: (m.spec.model_dump(), m.sql, m.line("inputs")) for k, m in cat.models.items()},
        [str(p) for p in cat.problems.items],
    )


def test_cached_catalogue_equals_a_fresh_parse_and_follows_every_edit(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", PENSION_FILES)
    first = _specs(root)
    assert (root / YAML_CACHE).is_file()
    assert _specs(root) == first  # read back from the cache
    (root / YAML_CACHE).unlink()
    assert _specs(root) == first  # and the same as parsing again

    model_yaml = next((root / "models").glob("*.yaml"))
    text = model_yaml.read_text(encoding="utf-8")
    model_yaml.write_text(text.replace("title:", "title: 改过的", 1), encoding="utf-8")
    changed = _specs(root)
    assert changed != first
    assert any("改过的" in str(spec[0]["title"]) for spec in changed[1].values())

    # a mistake written after the file was cached is reported, at its line
    model_yaml.write_text(text + "\ntitle: twice\n", encoding="utf-8")
    problems = _specs(root)[2]
    assert any("duplicate key" in p for p in problems), problems

    # a file removed is gone, a file added is read
    model_yaml.write_text(text, encoding="utf-8")
    conn = next((root / "connectors").glob("*.yaml"))
    copy = conn.with_name("zz_copy.yaml")
    copy.write_text(conn.read_text(encoding="utf-8").replace(f"id: {conn.stem}", "id: zz_copy"))
    assert "zz_copy" in _specs(root)[0]
    copy.unlink()
    assert "zz_copy" not in _specs(root)[0]
    assert _specs(root) == first


def test_a_planted_cache_file_runs_no_code(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", PENSION_FILES)
    first = _specs(root)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    blob = {"version": 1, "entries": {str(root / "collide.yaml"): Evil()}}
    (root / YAML_CACHE).write_bytes(pickle.dumps(blob))
    assert _specs(root) == first
    assert not marker.exists()


def test_a_read_only_output_folder_only_costs_speed(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", PENSION_FILES)
    (root / "output").write_text("not a folder")  # the cache cannot be written
    assert _specs(root)[1]
