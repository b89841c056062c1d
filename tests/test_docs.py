"""The README is part of the interface: every command and every project setting is documented,
and the SQL shown in it is valid for the shipped datasets."""

from __future__ import annotations

import re
from pathlib import Path

import click

from collide.cli.main import cli
from collide.config.specs import ProjectConfig

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "collide") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        out.append(f"{prefix} {name}")
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, f"{prefix} {name}"))
    return out


def test_every_command_is_documented() -> None:
    missing = [c for c in _commands(cli) if c not in README]
    assert not missing, f"commands missing from README.md: {missing}"


def test_every_setting_is_in_the_sample_collide_yaml() -> None:
    text = (ROOT / "collide.yaml").read_text(encoding="utf-8")
    for name, field in ProjectConfig.model_fields.items():
        if name == "params":
            continue
        assert re.search(rf"^{name}:", text, re.M), f"collide.yaml does not show `{name}`"
        sub = getattr(field.annotation, "model_fields", {})
        for key in sub:
            assert re.search(rf"^\s+{key}:", text, re.M), f"collide.yaml does not show {name}.{key}"


def test_readme_has_exactly_two_fresh_machine_commands() -> None:
    section = README.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```bash\n(.*?)```", section, re.S)[0]
    lines = [ln for ln in block.splitlines() if ln.strip()]
    assert len(lines) == 2
    assert lines[0].startswith('python3 -m pip install -e ".[dev]" && collide run')
    assert lines[1].startswith("python3 -m pytest")
    assert "python3 -m pytest" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_function_example_in_readme_binds_against_the_shipped_datasets(tmp_path: Path) -> None:
    from collide.config.catalog import load_catalog
    from collide.engine.duckdb import Sandbox

    sql = README.split("```sql\nSELECT j.id_number", 1)[1].split("```", 1)[0]
    sql = "SELECT j.id_number" + sql
    cat = load_catalog(ROOT)
    inputs = {ds: cat.connectors[ds].spec.schema() for ds in ("court_judgments", "food_licences")}
    with Sandbox(inputs) as box:
        cols = [c for c, _ in box.describe(sql, {})]
    assert cols == ["id_number", "defendant_name", "licence_no", "principal_name", "name_score"]


def test_files_the_readme_points_to_exist() -> None:
    named = set(
        re.findall(
            r"`((?:models|docs|flows|bench|sample_data|expectations|connectors)"
            r"/[\w./-]+\.(?:py|yaml|md|csv|sql))`",
            README,
        )
    )
    assert named, "the README names no project files?"
    missing = sorted(n for n in named if not (ROOT / n).exists())
    assert not missing, f"README.md points to files that do not exist: {missing}"
