"""Agency files are read only under the project folder and collide.yaml's `data_dirs:`.

A `path:` that climbs out (`../../etc/passwd`), an absolute path elsewhere, a glob reaching
outside, or a link (to a file or to a folder) resolving outside is refused by `collide check`
and by ingest — and no message prints a line of the refused file.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import write_project

SECRET = "root:x:0:0:SECRET-FIRST-LINE:/root:/bin/bash"


def _project(root: Path, path: str, yaml: str = "name: 路径\n") -> Path:
    return write_project(
        root,
        {
            "collide.yaml": yaml,
            "connectors/deaths.yaml": f"""
                id: deaths
                title: 死亡登记
                source: {{type: csv, path: "{path}"}}
                columns:
                  id_number: {{from: 身份证号, type: cn_id, required: true}}
                  person_name: {{from: 姓名, type: person_name}}
            """,
        },
    )


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the project holding a file that must never be read."""
    d = tmp_path / "elsewhere"
    d.mkdir()
    (d / "passwd").write_text(SECRET + "\n", encoding="utf-8")
    (d / "d.csv").write_text("身份证号,姓名\n11010519491231002X,张三\n", encoding="utf-8")
    return d


def _refused(cli, root: Path, *, glob_msg: bool = False) -> None:
    for args in (("check",), ("ingest",)):
        code, out, err = cli(*args, "--project", str(root))
        text = out + err
        assert code == 1, text
        assert "outside the project folder and the folders listed under `data_dirs:`" in text
        assert "SECRET" not in text and "root:x" not in text
        assert "Traceback" not in text
    assert not list((root / "output").glob("snapshots/deaths/*/manifest.json"))


def test_dotdot_path_is_refused(tmp_path: Path, outside: Path, cli) -> None:
    root = _project(tmp_path / "proj", "../elsewhere/passwd")
    _refused(cli, root)


def test_deep_dotdot_to_etc_passwd_is_refused(tmp_path: Path, cli) -> None:
    root = _project(tmp_path / "proj", "../../../../../../../../etc/passwd")
    _refused(cli, root)


def test_absolute_path_elsewhere_is_refused(tmp_path: Path, outside: Path, cli) -> None:
    root = _project(tmp_path / "proj", str(outside / "d.csv"))
    _refused(cli, root)


def test_glob_reaching_outside_is_refused(tmp_path: Path, outside: Path, cli) -> None:
    root = _project(tmp_path / "proj", "../*/d.csv")
    _refused(cli, root)


def test_link_to_a_file_outside_is_refused(tmp_path: Path, outside: Path, cli) -> None:
    root = _project(tmp_path / "proj", "data/d.csv")
    (root / "data").mkdir()
    os.symlink(outside / "passwd", root / "data" / "d.csv")
    _refused(cli, root)


def test_link_to_a_folder_outside_is_refused(tmp_path: Path, outside: Path, cli) -> None:
    root = _project(tmp_path / "proj", "data/**/*.csv")
    (root / "data").mkdir()
    os.symlink(outside, root / "data" / "share")
    _refused(cli, root)


def test_data_dirs_allows_a_share_mounted_elsewhere(tmp_path: Path, outside: Path, cli) -> None:
    yaml = f"name: 路径\ndata_dirs: [{outside}]\n"
    root = _project(tmp_path / "proj", str(outside / "d.csv"), yaml)
    code, out, err = cli("check", "--project", str(root))
    assert code == 0, out + err
    code, out, err = cli("ingest", "--project", str(root))
    assert code == 0, out + err
    assert list((root / "output").glob("snapshots/deaths/*/manifest.json"))


def test_data_dirs_relative_and_links_inside_are_fine(tmp_path: Path, outside: Path, cli) -> None:
    """A relative data_dirs entry is taken from the project folder; a link that resolves into
    an allowed folder is read."""
    yaml = "name: 路径\ndata_dirs: [../elsewhere]\n"
    root = _project(tmp_path / "proj", "data/d.csv", yaml)
    (root / "data").mkdir()
    os.symlink(outside / "d.csv", root / "data" / "d.csv")
    code, out, err = cli("ingest", "--project", str(root))
    assert code == 0, out + err


def test_data_dirs_does_not_open_its_parent(tmp_path: Path, outside: Path, cli) -> None:
    (outside / "share").mkdir()
    yaml = f"name: 路径\ndata_dirs: [{outside / 'share'}]\n"
    root = _project(tmp_path / "proj", str(outside / "share" / ".." / "passwd"), yaml)
    _refused(cli, root)


def test_data_dirs_is_validated(tmp_path: Path, cli) -> None:
    root = _project(tmp_path / "proj", "data/d.csv", "name: x\ndata_dir: [/srv]\n")
    code, out, err = cli("check", "--project", str(root))
    assert code == 1 and "data_dir" in out + err
