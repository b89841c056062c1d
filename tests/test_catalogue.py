"""Accuracy of the shipped model catalogue on the committed sample (issue 6).

Copies the project (collide.yaml, connectors, models, expectations, sample_data) into a temp folder,
runs the real CLI the way a data clerk would, exports the hit list without masking, and compares
each model's clues with sample_data/ground_truth.csv: every planted case found (recall 1.0) and
nothing else (precision 1.0). Failures print the subject, the expected outcome and the reason.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ("collide.yaml", "connectors", "models", "expectations", "sample_data")
TRUTH = ROOT / "sample_data" / "ground_truth.csv"


def _collide(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("collide")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "collide.cli.main"]
    return subprocess.run(
        [*cmd, "--project", str(project), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _truth() -> dict[str, dict[str, dict[str, str]]]:
    out: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
    with TRUTH.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out[row["model_id"]][row["subject_id"]] = row
    return out


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("catalogue")
    for name in CONTENT:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def clues(project: Path) -> list[dict[str, str]]:
    run = _collide(project, "run")
    assert run.returncode == 0, f"collide run failed:\n{run.stdout}\n{run.stderr}"
    exp = _collide(project, "export", "--no-mask", "--format", "csv")
    assert exp.returncode == 0, f"collide export failed:\n{exp.stdout}\n{exp.stderr}"
    found = sorted((project / "runs").glob("*/unmasked/clues.csv"), key=lambda p: p.stat().st_mtime)
    assert found, f"no unmasked clues.csv under {project / 'runs'}"
    with found[-1].open(encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_ground_truth_covers_every_model() -> None:
    models = {p.stem for p in (ROOT / "models").glob("*.yaml")}
    truth = _truth()
    assert models == set(truth), "every shipped model needs planted cases and decoys"
    for mid, cases in truth.items():
        kinds = {c["expected"] for c in cases.values()}
        assert kinds == {"hit", "no-hit"}, f"{mid}: needs both planted hits and decoys"


@pytest.mark.parametrize("model_id", sorted(_truth()))
def test_model_finds_every_planted_case_and_no_decoy(
    model_id: str, clues: list[dict[str, str]]
) -> None:
    cases = _truth()[model_id]
    # exports keep long digit strings as text for Excel (leading tab or apostrophe): strip it
    got = {c["对象证件号"].strip().lstrip("'"): c for c in clues if c["模型"] == model_id}
    planted = {s for s, c in cases.items() if c["expected"] == "hit"}
    problems = []
    for s in sorted(planted - set(got)):
        problems.append(f"MISSED  {s} {cases[s]['subject_name']}: {cases[s]['why']}")
    for s in sorted(set(got) - planted):
        why = cases[s]["why"] if s in cases else "not a planted case (background row)"
        problems.append(
            f"FALSE+  {s} {got[s].get('对象名称', '')}: {got[s].get('线索说明', '')} "
            f"[ground truth: {why}]"
        )
    recall = len(planted & set(got)) / len(planted)
    precision = len(planted & set(got)) / len(got) if got else 1.0
    assert not problems, (
        f"{model_id}: recall {recall:.2f}, precision {precision:.2f}\n" + "\n".join(problems)
    )


def test_every_model_unit_test_passes(project: Path) -> None:
    res = _collide(project, "test")
    assert res.returncode == 0, f"collide test failed:\n{res.stdout}\n{res.stderr}"
