"""The data-quality gate inside `collide run` on the bundled sample: a broken extract stops only
the models that read it, says why, and names the rows to send back to the agency."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEATHS = Path("sample_data/civil/death_registrations.csv")


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    dest = tmp_path / "sample"
    shutil.copytree(
        ROOT,
        dest,
        ignore=shutil.ignore_patterns(
            ".git",
            "output",
            "runs",
            ".venv*",
            "__pycache__",
            ".pytest_cache",
            "tests",
            "bench",
            ".notes",
        ),
    )
    return dest


def _rewrite_deaths(root: Path, change) -> None:
    path = root / DEATHS
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("gb18030"))))
    header, body = rows[0], rows[1:]
    body = change(header, body)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, *body])
    path.write_bytes(out.getvalue().encode("gb18030"))


def _run(cli, root: Path) -> tuple[int, str]:
    code, out, err = cli("run", "--project", str(root))
    return code, out + err


def _latest(root: Path) -> Path:
    return sorted(p for p in (root / "runs").iterdir() if not p.name.startswith("."))[-1]


def _assert_blocked(root: Path, code: int, out: str, why: str) -> str:
    assert code == 1, out  # a partial run: the operator must notice
    assert "pension_after_death" in out and "skipped" in out
    assert "input death_registrations blocked: data-quality gate failed: " + why in out, out
    assert "status partial" in out
    run_dir = _latest(root)
    clues = (run_dir / "clues.csv").read_text(encoding="utf-8-sig")
    assert "pension_after_death" not in clues
    for other in ("food_ban_licence_holder", "water_arrears_public_units", "wage_deposit_missing"):
        assert other in clues, other
    return (run_dir / "report.md").read_text(encoding="utf-8")


def test_emptied_key_column_blocks_its_models(sample: Path, cli) -> None:
    def empty_ids(header, body):
        col = header.index("公民身份号码")
        for i, row in enumerate(body):
            if i % 2 == 0:
                row[col] = ""
        return body

    _rewrite_deaths(sample, empty_ids)
    code, out = _run(cli, sample)
    report = _assert_blocked(sample, code, out, "入库时被拒收的行应不超过20.0%，实际拒收54行")
    assert "sample_data/civil/death_registrations.csv 第 2 行" in report
    assert "id_number: missing required value" in report


def test_inflated_invalid_ids_block_its_models(sample: Path, cli) -> None:
    def break_checksums(header, body):
        col = header.index("公民身份号码")
        for i, row in enumerate(body):
            idn = row[col]
            if i % 3 == 0 and len(idn) == 18:
                row[col] = idn[:17] + ("0" if idn[17] != "0" else "1")
        return body

    _rewrite_deaths(sample, break_checksums)
    code, out = _run(cli, sample)
    report = _assert_blocked(sample, code, out, "公民身份号码校验有效比例应不低于80%")
    assert "sample_data/civil/death_registrations.csv 第 2 行" in report
    # The failing rows name the IDs, masked like every other export.
    import re

    quality = (_latest(sample) / "quality.json").read_text(encoding="utf-8")
    assert re.search(r"339012\*{8}\d{3}[\dX]", quality)
    assert not re.search(r"339012(19|20)\d{9}[\dX]", quality + report)
    # What the report writer gets from quality.json: Chinese words, the dataset by its title.
    from collide.quality import QualityReport

    deaths = QualityReport.from_dict(json.loads(quality)["death_registrations"])
    assert deaths.heading_zh() == "死亡人员登记：阻断"
    lines = deaths.lines_zh()
    assert lines[0].startswith("- ") and any(
        ln.startswith("- 未通过（阻断） 公民身份号码校验有效比例应不低于80%") for ln in lines
    )
    assert not re.search(r"\b(pass|warn|fail)\b", "\n".join(lines))


def test_rows_cut_by_95_percent_block_its_models(sample: Path, cli) -> None:
    code, out = _run(cli, sample)
    assert code == 0, out
    _rewrite_deaths(sample, lambda header, body: body[:5])
    code, out = _run(cli, sample)
    _assert_blocked(sample, code, out, "行数应不少于上期的10.0%")
