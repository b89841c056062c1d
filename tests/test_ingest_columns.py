"""A column disappears: `collide check` says so before the run, and the run skips the models
that read it instead of marking their real clues 已消失.

已消失 means exactly: the model ran on complete inputs and no longer hits this subject.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import write_project

from collide.config.catalog import load_catalog
from collide.modelrun.columns import used_columns

FILES = {
    "connectors/business_licences.yaml": """
        id: business_licences
        title: 营业执照
        agency: 市场监管局
        source: {type: csv, path: data/营业执照.csv}
        columns:
          licence_no: {from: 注册号, type: string, required: true}
          org_name: {from: 企业名称, type: org_name}
          owner_id: {from: 身份证号码, type: cn_id}
        keys: [licence_no]
    """,
    "connectors/convictions.yaml": """
        id: convictions
        title: 刑事判决
        agency: 法院
        source: {type: csv, path: data/判决.csv}
        columns:
          id_number: {from: 身份证号, type: cn_id, required: true}
          person_name: {from: 姓名, type: person_name}
          crime: {from: 罪名, type: string, required: true}
    """,
    "models/food_ban_licence_holder.yaml": """
        id: food_ban_licence_holder
        title: 食品安全犯罪人员持有营业执照
        domain: 食品药品安全
        description: 判决与营业执照碰撞。
        severity: high
        inputs: [convictions, business_licences]
        subject: {type: person, id: id_number, name: person_name}
        score: licences
        reason: "{person_name}因{crime}被判刑，仍持有{licences}份营业执照"
        evidence:
          - {dataset: business_licences, on: {owner_id: id_number}}
    """,
    "models/food_ban_licence_holder.sql": """
        SELECT c.id_number, any_value(c.person_name) AS person_name,
               any_value(c.crime) AS crime, count(*) AS licences
        FROM convictions c JOIN business_licences b ON b.owner_id = c.id_number
        GROUP BY c.id_number
    """,
    "models/unnamed_licences.yaml": """
        id: unnamed_licences
        title: 营业执照缺企业名称
        domain: 其他
        description: 不读 owner_id 的模型照常运行。
        severity: low
        inputs: [business_licences]
        subject: {type: organisation, id: licence_no}
        score: "1"
        reason: "营业执照{licence_no}"
    """,
    "models/unnamed_licences.sql": """
        SELECT licence_no FROM business_licences WHERE licence_no LIKE 'X%'
    """,
    "data/判决.csv": """
        身份证号,姓名,罪名
        11010519491231002X,张三,生产、销售有毒、有害食品罪
        110105195001010012,李四,生产、销售不符合安全标准的食品罪
    """,
    "data/营业执照.csv": """
        注册号,企业名称,身份证号码
        X001,临川区张记餐馆,11010519491231002X
        X002,临川区李记面馆,110105195001010012
        X003,临川区王记茶楼,
    """,
}


def _rows(project: Path) -> list[dict[str, str]]:
    runs = sorted(p for p in (project / "runs").iterdir() if not p.name.startswith("."))
    raw = (runs[-1] / "clues.csv").read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(raw.splitlines()))


def _rename_header(project: Path, old: str, new: str) -> None:
    f = project / "data" / "营业执照.csv"
    f.write_text(f.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")


def test_renamed_optional_header_skips_the_model_and_keeps_its_clues(tmp_path: Path, cli) -> None:
    project = write_project(tmp_path / "p", FILES)
    code, out, err = cli("run", "--project", str(project))
    assert code == 0, out + err
    first = [r for r in _rows(project) if r["模型"] == "food_ban_licence_holder"]
    assert sorted(r["对象名称"] for r in first) == ["张三", "李四"]

    # The agency renames 身份证号码 to 身份证号 in its next export.
    _rename_header(project, "身份证号码", "身份证号")

    code, out, err = cli("check", "--project", str(project))
    text = " ".join((out + err).split())
    assert code == 0, text  # an optional column: a warning, not a failure
    assert (
        'warning: connectors/business_licences.yaml:8: column "owner_id" (aliases: 身份证号码) '
        "not found in data/营业执照.csv. Headers found: 注册号, 企业名称, 身份证号. "
        'Did you mean "身份证号"?'
    ) in text
    assert "1 warning above" in text

    code, out, err = cli("run", "--project", str(project))
    text = " ".join((out + err).split())
    assert code == 1, text  # a partial run
    assert "status ok" not in text and "status partial" in text
    assert (
        "model food_ban_licence_holder skipped: column owner_id of business_licences is empty "
        'in this snapshot (header "身份证号码" not found in data/营业执照.csv; headers present: '
        "注册号, 企业名称, 身份证号)"
    ) in text
    assert "0 gone" in text
    rows = _rows(project)
    assert not [r for r in rows if r["状态"] == "已消失"]
    assert not [r for r in rows if r["模型"] == "food_ban_licence_holder"]
    assert [r["模型"] for r in rows] == ["unnamed_licences"] * 3  # the other model still ran
    assert all(r["状态"] == "持续" for r in rows)

    # The connector learns the new header: the same clues come back as 持续, never as new.
    conn = project / "connectors" / "business_licences.yaml"
    conn.write_text(
        conn.read_text(encoding="utf-8").replace(
            "from: 身份证号码", "from: [身份证号码, 身份证号]"
        ),
        encoding="utf-8",
    )
    code, out, err = cli("run", "--project", str(project))
    assert code == 0, out + err
    again = [r for r in _rows(project) if r["模型"] == "food_ban_licence_holder"]
    assert sorted(r["对象名称"] for r in again) == ["张三", "李四"]
    assert {r["状态"] for r in again} == {"持续"}


def test_a_model_that_ran_on_complete_inputs_marks_clues_gone(tmp_path: Path, cli) -> None:
    """The other half of the definition: with every column there, a subject no longer hit is
    已消失."""
    project = write_project(tmp_path / "p", FILES)
    assert cli("run", "--project", str(project))[0] == 0
    f = project / "data" / "营业执照.csv"
    f.write_text(f.read_text(encoding="utf-8").replace("110105195001010012", ""), "utf-8")
    code, out, err = cli("run", "--project", str(project))
    assert code == 0, out + err
    gone = [r for r in _rows(project) if r["状态"] == "已消失"]
    assert [(r["模型"], r["对象名称"]) for r in gone] == [("food_ban_licence_holder", "李四")]


def test_all_values_empty_blocks_too(tmp_path: Path, cli) -> None:
    project = write_project(tmp_path / "p", FILES)
    f = project / "data" / "营业执照.csv"
    text = f.read_text(encoding="utf-8")
    for pid in ("11010519491231002X", "110105195001010012"):
        text = text.replace(pid, "")
    f.write_text(text, encoding="utf-8")
    code, out, err = cli("run", "--project", str(project))
    text = " ".join((out + err).split())
    assert "status partial" in text
    assert (
        "model food_ban_licence_holder skipped: column owner_id of business_licences is empty "
        'in this snapshot (the header "身份证号码" is there, but no row holds a readable value)'
    ) in text


def test_missing_required_header_fails_check(tmp_path: Path, cli) -> None:
    project = write_project(tmp_path / "p", FILES)
    _rename_header(project, "注册号", "统一社会信用代码")
    code, out, err = cli("check", "--project", str(project))
    text = " ".join((out + err).split())
    assert code == 1
    assert 'column "licence_no" (aliases: 注册号) not found in data/营业执照.csv' in text
    assert "warning:" not in text.split("licence_no")[0][-20:]
    assert "1 problem found" in text


def test_check_reads_excel_headers_and_names_the_sheet(tmp_path: Path, cli) -> None:
    import openpyxl

    files = dict(FILES)
    files["connectors/business_licences.yaml"] = files["connectors/business_licences.yaml"].replace(
        "{type: csv, path: data/营业执照.csv}", "{type: excel, path: data/营业执照.xlsx}"
    )
    project = write_project(tmp_path / "p", files)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "执照"
    ws.append(["临川区营业执照清单"])
    ws.append(["注册号", "企业名称", "身份证号"])
    ws.append(["X001", "甲", "11010519491231002X"])
    wb.save(project / "data" / "营业执照.xlsx")
    code, out, err = cli("check", "--project", str(project))
    text = " ".join((out + err).split())
    assert code == 0, text
    assert (
        "not found in data/营业执照.xlsx [执照]. Headers found: 注册号, 企业名称, 身份证号" in text
    )
    assert 'Did you mean "身份证号"?' in text


def test_database_columns_unchecked_without_a_server_is_a_warning(tmp_path: Path, cli) -> None:
    files = dict(FILES)
    files["connectors/business_licences.yaml"] = files["connectors/business_licences.yaml"].replace(
        "{type: csv, path: data/营业执照.csv}",
        "{type: postgres, dsn_env: COLLIDE_TEST_NO_SUCH_DSN, table: licences}",
    )
    project = write_project(tmp_path / "p", files)
    code, out, err = cli("check", "--project", str(project))
    text = " ".join((out + err).split())
    assert code == 0, text
    assert "warning: connectors/business_licences.yaml" in text
    assert "the columns of postgres:licences could not be checked" in text


# --------------------------------------------------------------------------- which columns


@pytest.fixture
def catalog(tmp_path: Path):
    return load_catalog(write_project(tmp_path / "p", FILES))


def _used(catalog, sql: str) -> dict[str, set[str]]:
    model = catalog.models["food_ban_licence_holder"]
    model.sql = sql
    model.spec.evidence = []
    schemas = {ds: c.spec.schema() for ds, c in catalog.connectors.items()}
    return used_columns(model, schemas)


def test_columns_resolved_by_scope(catalog) -> None:
    # an alias, a CTE that renames, a sub-query in WHERE, an unused CTE column
    used = _used(
        catalog,
        """
        WITH b AS (SELECT owner_id AS person, org_name, licence_no FROM business_licences)
        SELECT c.id_number, count(*) AS licences
        FROM convictions AS c JOIN b ON b.person = c.id_number
        WHERE c.crime IN (SELECT crime FROM convictions WHERE person_name IS NOT NULL)
        GROUP BY c.id_number
        """,
    )
    assert used == {
        "convictions": {"id_number", "crime", "person_name"},
        "business_licences": {"owner_id"},  # org_name and licence_no are never used downstream
    }


def test_same_column_name_in_two_inputs_goes_to_the_right_one(catalog) -> None:
    used = _used(
        catalog,
        "SELECT c.id_number FROM convictions c, business_licences b WHERE b.licence_no = 'X'",
    )
    assert used == {"convictions": {"id_number"}, "business_licences": {"licence_no"}}


def test_star_reads_every_column(catalog) -> None:
    used = _used(catalog, "SELECT * FROM business_licences")
    assert {"owner_id", "org_name", "licence_no"} <= used["business_licences"]


def test_evidence_on_keys_count(catalog) -> None:
    model = catalog.models["food_ban_licence_holder"]
    model.sql = "SELECT id_number FROM convictions"
    schemas = {ds: c.spec.schema() for ds, c in catalog.connectors.items()}
    assert used_columns(model, schemas)["business_licences"] == {"owner_id"}


def test_manifest_counts_each_columns_values(tmp_path: Path, cli) -> None:
    project = write_project(tmp_path / "p", FILES)
    _rename_header(project, "身份证号码", "身份证号")
    assert cli("ingest", "--project", str(project))[0] == 0
    snaps = project / "output" / "snapshots" / "business_licences"
    sid = (snaps / "LATEST").read_text().strip()
    manifest = json.loads((snaps / sid / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["columns"]["licence_no"] == {"filled": 3, "not_found_in": []}
    assert manifest["columns"]["owner_id"] == {
        "filled": 0,
        "not_found_in": [
            {"file": "data/营业执照.csv", "headers": ["注册号", "企业名称", "身份证号"]}
        ],
    }


def test_header_missing_from_one_of_several_files_blocks(tmp_path: Path, cli) -> None:
    """Monthly files under one glob: when this month's file lacks the header, the model would
    miss this month's subjects, so it does not run."""
    files = dict(FILES)
    files["connectors/business_licences.yaml"] = files["connectors/business_licences.yaml"].replace(
        "path: data/营业执照.csv", 'path: "data/营业执照*.csv"'
    )
    files["data/营业执照-2.csv"] = """
        注册号,企业名称,身份证号
        X009,临川区赵记小吃,110105195001010012
    """
    project = write_project(tmp_path / "p", files)
    code, out, err = cli("run", "--project", str(project))
    text = " ".join((out + err).split())
    assert "status partial" in text
    assert (
        "model food_ban_licence_holder skipped: column owner_id of business_licences is missing "
        'from part of this snapshot (header "身份证号码" not found in data/营业执照-2.csv; '
        "headers present: 注册号, 企业名称, 身份证号)"
    ) in text


def test_polars_rule_columns(tmp_path: Path) -> None:
    """A polars rule reads the input columns its file names; naming none, it reads them all."""
    files = {
        k: v for k, v in FILES.items() if not k.startswith("models/food_ban_licence_holder.sql")
    }
    files["models/food_ban_licence_holder.py"] = """
        import polars as pl

        def rule(inputs, params):
            b = inputs["business_licences"].filter(pl.col("owner_id").is_not_null())
            return inputs["convictions"].join(b, left_on="id_number", right_on="owner_id")
    """
    cat = load_catalog(write_project(tmp_path / "p", files))
    model = cat.models["food_ban_licence_holder"]
    model.spec.evidence = []
    schemas = {ds: c.spec.schema() for ds, c in cat.connectors.items()}
    assert used_columns(model, schemas) == {
        "convictions": {"id_number"},
        "business_licences": {"owner_id"},
    }
    assert model.rule_path is not None
    model.rule_path.write_text("def rule(inputs, params):\n    return inputs[0]\n", "utf-8")
    every = used_columns(model, schemas)
    assert every["business_licences"] >= {"licence_no", "org_name", "org_name_key", "owner_id"}
