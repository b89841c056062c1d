"""Evidence is written per model, not per clue, and each clue's sheet is still one link away."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from conftest import clue_sheet, write_project
from pension_project import PENSION_FILES


def test_one_page_and_one_json_lines_file_per_model_each_clue_one_link_away(
    tmp_path: Path, cli
) -> None:
    root = write_project(tmp_path / "p", PENSION_FILES)
    code, out, err = cli("run", "--project", str(root))
    assert code == 0, out + err
    run_dir = max(p for p in (root / "runs").iterdir() if not p.name.startswith("."))
    rows = list(csv.DictReader((run_dir / "clues.csv").read_text("utf-8-sig").splitlines()))
    assert len(rows) >= 3
    models = {r["模型"] for r in rows}
    assert sorted(p.name for p in (run_dir / "evidence").iterdir()) == sorted(
        f"{m}.{ext}" for m in models for ext in ("html", "jsonl")
    )
    for r in rows:
        assert r["证据文件"] == f"evidence/{r['模型']}.html#{r['线索编号']}"
        html, data = clue_sheet(run_dir, r["证据文件"])
        assert data["线索编号"] == r["线索编号"] and data["模型"] == r["模型"]
        assert f"<td>{r['线索编号']}</td>" in html and "线索核查单" in html
    for m in models:
        page = (run_dir / "evidence" / f"{m}.html").read_text(encoding="utf-8")
        ids = re.findall(r"<section class='sheet' id='([^']+)'>", page)
        assert sorted(ids) == sorted(r["线索编号"] for r in rows if r["模型"] == m)
        assert page.count("<body") == 1 and page.count("</html>") == 1  # one document
        assert ":target" in page  # the address's #<clue> picks the sheet shown and printed
        lines = (run_dir / "evidence" / f"{m}.jsonl").read_text(encoding="utf-8").splitlines()
        assert [json.loads(x)["线索编号"] for x in lines] == ids  # same clues, same order
