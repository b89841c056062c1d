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


def _ingest(root: Path) -> dict[str, tuple[str, bool]]:
    from collide.project import Project

    reports = Project.load(root).ingest()
    return {ds: (r.snapshot_id, r.new) for ds, r in reports.items()}


def _age(path: Path, seconds: int = 60) -> None:
    """Set the file's modification time into the past (as an agency file delivered earlier)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - seconds * 10**9))


def test_unchanged_agency_files_are_not_hashed_again_and_changed_ones_are(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", PENSION_FILES)
    deaths = root / "data" / "deaths.csv"
    for f in (root / "data").iterdir():
        _age(f)
    first = _ingest(root)
    assert (root / "output" / "snapshots" / "deaths" / "file_hashes.json").is_file()

    # What the cache trusts (README "Caches"): same size, same mtime, same inode = same file.
    # Rewritten in place with other bytes of the same length and the old mtime put back, the
    # file is not read again, so the snapshot stays the one made before.
    st = deaths.stat()
    text = deaths.read_bytes()
    twin = text.replace(b"2024/3/1", b"2024/3/2", 1)
    assert twin != text and len(twin) == len(text)
    with open(deaths, "r+b") as fh:
        fh.write(twin)
    os.utime(deaths, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert deaths.stat().st_ino == st.st_ino
    assert _ingest(root)["deaths"] == (first["deaths"][0], False)

    # Any change of the stamp (here only the mtime) and the file is read: a new snapshot.
    _age(deaths, 120)
    again = _ingest(root)
    assert again["deaths"][0] != first["deaths"][0] and again["deaths"][1]
    assert {k: v[0] for k, v in again.items() if k != "deaths"} == {
        k: v[0] for k, v in first.items() if k != "deaths"
    }

    # Without the cache the same bytes give the same snapshot id (the cache changes no result).
    for f in (root / "output" / "snapshots").glob("*/file_hashes.json"):
        f.unlink()
    assert _ingest(root)["deaths"] == (again["deaths"][0], False)


def test_a_file_written_just_now_is_not_trusted_to_its_stamp(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", PENSION_FILES)
    _ingest(root)  # the files were written within the last seconds: nothing is cached
    cache = root / "output" / "snapshots" / "deaths" / "file_hashes.json"
    assert not cache.exists() or "deaths.csv" not in cache.read_text(encoding="utf-8")
