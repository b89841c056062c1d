"""Shared test helpers: build a small project from a dict and run the real CLI in-process."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def write_project(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (relative path → text) under `root`; collide.yaml is added if missing."""
    root.mkdir(parents=True, exist_ok=True)
    files = {"collide.yaml": "name: 测试项目\n", **files}
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def cli(capsys):
    """Run `collide ARGS…` in-process; returns (exit code, stdout, stderr)."""
    from collide.cli.main import main

    def run(*args: str) -> tuple[int, str, str]:
        code = 0
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


def clue_sheet(run_dir: Path, link: str) -> tuple[str, dict]:
    """One clue's evidence from the hit list's 证据文件 (`evidence/<model>.html#<clue>`): its
    <section> of the model's HTML page and its line of `<model>.jsonl`."""
    import json
    import re

    page, _, clue = link.partition("#")
    text = (run_dir / page).read_text(encoding="utf-8")
    found = re.search(rf"<section class='sheet' id='{re.escape(clue)}'>(.*?)</section>", text, re.S)
    assert found, f"no sheet {clue} in {page}"
    lines = (run_dir / page).with_suffix(".jsonl").read_text(encoding="utf-8").splitlines()
    data = [d for d in map(json.loads, lines) if d["线索编号"] == clue]
    assert len(data) == 1, f"{clue}: {len(data)} lines in the JSON lines file"
    return found.group(1), data[0]
