"""The caches that keep a command on unchanged files fast must never show stale content."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_project
from pension_project import PENSION_FILES

from collide.config.catalog import SPEC_CACHE, YAML_CACHE, load_catalog


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


def _count_validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from collide.config import catalog

    calls: list[str] = []
    real = catalog._validate

    def counted(cls, *args):
        calls.append(cls.__name__)
        return real(cls, *args)

    monkeypatch.setattr(catalog, "_validate", counted)
    return calls


def test_validated_specs_are_reused_while_their_file_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_project(tmp_path / "p", PENSION_FILES)
    first = _specs(root)
    assert (root / SPEC_CACHE).is_file()
    calls = _count_validations(monkeypatch)
    assert _specs(root) == first
    assert calls == []  # every spec came from the cache
    for conn in load_catalog(root).connectors.values():
        assert conn.dumped is not None  # its JSON data kept with it (the connector hash)
        assert conn.spec_json() == conn.spec.model_dump(mode="json", by_alias=True)

    model_yaml = next((root / "models").glob("*.yaml"))
    text = model_yaml.read_text(encoding="utf-8")
    model_yaml.write_text(text.replace("title:", "title: 改过的", 1), encoding="utf-8")
    changed = _specs(root)
    assert calls == ["ModelSpec"]  # the edited file only
    assert any("改过的" in str(spec[0]["title"]) for spec in changed[1].values())

    # a spec with a problem is not kept: validated (and reported) on every load
    model_yaml.write_text(text + "\nnot_a_key: 1\n", encoding="utf-8")
    calls.clear()
    for _ in range(2):
        problems = _specs(root)[2]
        assert any("not_a_key" in p for p in problems), problems
    assert calls == ["ModelSpec", "ModelSpec"]

    model_yaml.write_text(text, encoding="utf-8")
    (root / SPEC_CACHE).unlink()
    assert _specs(root) == first  # validating afresh gives what the cache gave


def test_a_planted_spec_cache_runs_no_code(tmp_path: Path) -> None:
    from collide.config import catalog

    root = write_project(tmp_path / "p", PENSION_FILES)
    first = _specs(root)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    code = catalog._SpecCache(root, catalog._YamlCache(root)).code
    entries = {}
    for path in sorted((root / "connectors").glob("*.yaml")):
        st = path.stat()
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        entries[str(path)] = (stamp, "ConnectorSpec", pickle.dumps(Evil()), {"id": path.stem})
    blob = {"version": 1, "code": code, "entries": entries}
    (root / SPEC_CACHE).write_bytes(pickle.dumps(blob))
    assert _specs(root) == first
    assert not marker.exists()


def test_sql_check_verdicts_are_reused_and_problems_are_checked_each_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collide import derived
    from collide.engine import sqlcheck

    def fresh_process() -> None:  # what a new command starts from: only the file
        monkeypatch.setattr(derived, "_entries", {})
        monkeypatch.setattr(derived, "_loaded_from", None)

    monkeypatch.setattr(derived, "_path", tmp_path / "derived.json")
    fresh_process()
    sql = "SELECT id, n FROM a WHERE n > $low -- 注释"
    first = sqlcheck.check_sql(sql, ["a"], "models/m.sql", ["low"])
    assert first[1] == [] and first[0].params == ["low"] and first[0].tables == ["a"]
    assert sqlcheck.model_body(sql + ";") == sql[: sql.index(" --")]

    real = sqlcheck._check_sql
    calls: list[str] = []

    def counted(text, *args, **kwargs):
        calls.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(sqlcheck, "_check_sql", counted)
    fresh_process()
    assert sqlcheck.check_sql(sql, ["a"], "models/m.sql", ["low"]) == first
    assert sqlcheck.model_body(sql + ";") == sql[: sql.index(" --")]
    assert calls == []

    # other text, other inputs: checked; a refused SQL is refused on every call
    assert sqlcheck.check_sql(sql, ["b"], "models/m.sql", ["low"])[1]
    assert sqlcheck.check_sql(sql, ["b"], "models/m.sql", ["low"])[1]
    bad = "SELECT * FROM read_csv('/etc/passwd')"
    for _ in range(2):
        assert sqlcheck.check_sql(bad, ["a"], "models/m.sql", [])[1]
    assert calls == [sql, sql, bad, bad]


def test_a_rerun_on_unchanged_files_needs_no_sql_parser_nor_normalisers(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", PENSION_FILES)
    for f in (root / "data").iterdir():
        _age(f)  # delivered earlier: trusted to their stamps (see below)
    watched = ("sqlglot", "pandas", "rapidfuzz", "collide.ingest.semantic", "collide.quality.suite")
    code = (
        "import sys\n"
        "from collide.project import Project\n"
        f"result = Project.load({str(root)!r}).run(keep_going=True)\n"
        "print(result.clues)\n"
        f"print(sorted(m for m in {watched!r} if m in sys.modules))\n"
    )

    script = tmp_path / "rerun.py"  # (a file: GX's pyspark import exits a `python -c`)
    script.write_text(code, encoding="utf-8")

    def run() -> list[str]:
        proc = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.splitlines()

    first = run()
    assert int(first[0]) > 0 and "sqlglot" in first[1]
    again = run()
    assert again == [first[0], "[]"]


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


def test_a_run_reads_the_recorded_snapshots_once_and_as_the_store_query_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collide.project import Project
    from collide.store import queries
    from collide.store.db import Store

    root = write_project(tmp_path / "p", PENSION_FILES)
    Project.load(root).run(keep_going=True)
    deaths = root / "data" / "deaths.csv"
    deaths.write_text(
        deaths.read_text(encoding="utf-8") + "110105195001010020,王五,2024-04-02\n",
        encoding="utf-8",
    )
    Project.load(root).run(keep_going=True)  # deaths now has two recorded snapshots

    opened: list[bool] = []
    real = Store.connect

    def counted(self, read_only: bool = False):
        opened.append(read_only)
        return real(self, read_only)

    monkeypatch.setattr(Store, "connect", counted)
    project = Project.load(root)
    run = project.begin_run(keep_going=True)
    try:
        for ds in run.datasets:
            run.use_latest(ds)
            run.validate(ds)
        assert opened == [True]  # one read of the store for every dataset's report
        recorded = run._recorded()
        assert recorded["deaths"][1] is not None
        with real(project.store, read_only=True) as con:
            for ds, (first, second) in recorded.items():
                for sid in {first, second, "not-a-snapshot"} - {None}:
                    expected = queries.previous_snapshot_id(con, ds, sid)
                    assert (second if first == sid else first) == expected, (ds, sid)
    finally:
        run.close()
