"""Models on models: `inputs: [model:<id>]` reads another model's hits (ordering, cycles,
skipping, `collide test` rows, evidence that reaches back to the upstream clue's source rows)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write_project

FILES = {
    "collide.yaml": "name: 测试项目\nrun_date: 2024-12-31\n",
    "connectors/deaths.yaml": """
        id: deaths
        title: 死亡登记
        source: {type: csv, path: data/deaths.csv}
        columns:
          id_number: {from: 身份证号, type: cn_id, required: true}
          person_name: {from: 姓名, type: person_name}
          death_date: {from: 死亡日期, type: date, required: true}
    """,
    "connectors/payments.yaml": """
        id: payments
        title: 养老金发放
        source: {type: csv, path: data/payments.csv}
        columns:
          id_number: {from: 身份证号, type: cn_id, required: true}
          paid_on: {from: 发放日期, type: date, required: true}
          amount: {from: 金额, type: money}
    """,
    "connectors/staff.yaml": """
        id: staff
        title: 社保经办人员
        source: {type: csv, path: data/staff.csv}
        columns:
          agent_id: {from: 经办人身份证号, type: cn_id, required: true}
          agent_name: {from: 经办人, type: person_name}
          client_id: {from: 经办对象身份证号, type: cn_id, required: true}
    """,
    "data/deaths.csv": """
        身份证号,姓名,死亡日期
        11010519491231002X,张三,2024-03-01
        110105194912310011,李四,2024-05-16
    """,
    "data/payments.csv": """
        身份证号,发放日期,金额
        11010519491231002X,2024-03-15,1200
        11010519491231002X,2024-04-15,1200
        110105194912310011,2024-05-15,1800
    """,
    "data/staff.csv": """
        经办人身份证号,经办人,经办对象身份证号
        110105198001010014,赵经办,11010519491231002X
        110105198001010030,钱经办,110105194912310011
    """,
    "models/paid_after_death.yaml": """
        id: paid_after_death
        title: 死亡后发放养老金
        domain: 国有财产保护
        description: 死亡后仍发放
        severity: high
        inputs: [deaths, payments]
        subject: {type: person, id: id_number, name: person_name}
        score: total
        reason: "{person_name}死亡后发放{n}笔"
        evidence:
          - {dataset: deaths, on: {id_number: id_number}}
          - {dataset: payments, on: {id_number: id_number}}
    """,
    "models/paid_after_death.sql": """
        SELECT d.id_number, d.person_name, count(*) AS n, sum(p.amount) AS total
        FROM deaths d JOIN payments p ON p.id_number = d.id_number AND p.paid_on > d.death_date
        GROUP BY ALL
    """,
    "models/agent_of_dead.yaml": """
        id: agent_of_dead
        title: 经办死亡后发放的经办人
        domain: 国有财产保护
        description: 上游线索的经办人
        severity: medium
        inputs: [staff, model:paid_after_death]
        subject: {type: person, id: agent_id, name: agent_name}
        score: n
        reason: "{agent_name}经办{person_name}死亡后发放（线索{upstream_clue}）"
        evidence:
          - {dataset: model:paid_after_death, on: {id_number: client_id}}
          - {dataset: staff, on: {agent_id: agent_id}}
        tests:
          - name: the agent of an upstream hit is flagged
            given:
              model:paid_after_death:
                - {id_number: "11010519491231002X", person_name: 张三, n: 2, _clue_id: XS1}
              staff:
                - {agent_id: "110105198001010014", agent_name: 赵经办, client_id: "11010519491231002X"}
                - {agent_id: "110105198001010030", agent_name: 钱经办, client_id: "110105194912310011"}
            expect: [{agent_id: "110105198001010014"}]
    """,
    "models/agent_of_dead.sql": """
        SELECT s.agent_id, s.agent_name, u.person_name, u.n, s.client_id,
               u._clue_id AS upstream_clue
        FROM paid_after_death u JOIN staff s ON s.client_id = u.id_number
    """,
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "p", FILES)


def _sheet(project: Path, model_id: str) -> tuple[dict, dict]:
    run_dir = sorted(p for p in (project / "runs").iterdir() if not p.name.startswith("."))[-1]
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    sheets = [
        json.loads(line)
        for p in (run_dir / "evidence").glob("*.jsonl")
        for line in p.read_text("utf-8").splitlines()
    ]
    return manifest, next(s for s in sheets if s["模型"] == model_id)


def test_a_model_reads_another_models_hits_and_its_evidence_reaches_back(
    project: Path, cli
) -> None:
    code, out, err = cli("check", "--project", str(project))
    assert code == 0, out + err
    # asked for alone, the downstream model brings the model it reads into the run
    code, out, err = cli("run", "--project", str(project), "--select", "agent_of_dead")
    assert code == 0, out + err
    manifest, sheet = _sheet(project, "agent_of_dead")
    assert manifest["models"]["paid_after_death"]["status"] == "ok"
    assert manifest["models"]["agent_of_dead"]["hits"] == 1
    _, upstream = _sheet(project, "paid_after_death")
    assert sheet["对象名称"] == "赵经办"
    assert upstream["线索编号"] in sheet["线索说明"]
    rows = [(e["数据集"], e["行"]) for e in sheet["证据"]]
    hit = [r for ds, r in rows if ds == "paid_after_death"]
    assert [r["_clue_id"] for r in hit] == [upstream["线索编号"]]
    # the upstream clue's own source rows: the death and both payments after it
    back = sorted((ds, r["_source_file"], r["_source_row"]) for ds, r in rows if ds != "staff")
    assert back == [
        ("deaths", "data/deaths.csv", 2),
        ("paid_after_death", "model:paid_after_death", 1),
        ("payments", "data/payments.csv", 2),
        ("payments", "data/payments.csv", 3),
    ]
    html = (project / "runs").glob("*/evidence/*.html")
    assert any("上游模型线索" in p.read_text("utf-8") for p in html)


def test_given_rows_for_the_upstream_model_in_collide_test(project: Path, cli) -> None:
    code, out, err = cli("test", "--project", str(project), "agent_of_dead")
    assert code == 0, out + err
    assert "PASS agent_of_dead: the agent of an upstream hit is flagged" in out
    yaml = project / "models" / "agent_of_dead.yaml"
    yaml.write_text(
        yaml.read_text("utf-8").replace('expect: [{agent_id: "110105198001010014"}]', "expect: []"),
        encoding="utf-8",
    )
    code, out, err = cli("test", "--project", str(project), "agent_of_dead")
    assert code != 0 and "FAIL agent_of_dead" in out


def test_a_loop_of_models_is_refused_at_check_and_named(project: Path, cli) -> None:
    up = project / "models" / "paid_after_death.yaml"
    up.write_text(
        up.read_text("utf-8").replace(
            "inputs: [deaths, payments]", "inputs: [deaths, payments, model:agent_of_dead]"
        ),
        encoding="utf-8",
    )
    code, out, err = cli("check", "--project", str(project))
    text = " ".join((out + err).split())
    assert code != 0
    assert "loop" in text and "agent_of_dead → paid_after_death → agent_of_dead" in text
    assert "models/paid_after_death.yaml:6" in text and "models/agent_of_dead.yaml:6" in text
    assert "Traceback" not in text


def test_an_unknown_upstream_model_is_named_with_a_suggestion(project: Path, cli) -> None:
    down = project / "models" / "agent_of_dead.yaml"
    down.write_text(
        down.read_text("utf-8").replace("model:paid_after_death]", "model:paid_after_deth]"),
        encoding="utf-8",
    )
    code, out, err = cli("check", "--project", str(project))
    text = " ".join((out + err).split())
    assert code != 0
    assert 'unknown model "paid_after_deth"' in text and "paid_after_death" in text


def test_a_downstream_model_is_skipped_with_the_reason_when_its_upstream_is(
    project: Path, cli
) -> None:
    (project / "expectations").mkdir(exist_ok=True)
    (project / "expectations" / "payments.yaml").write_text(
        "dataset: payments\nexpectations:\n"
        "  - type: expect_column_values_to_be_between\n    column: amount\n"
        "    max_value: 1000\n    blocking: true\n",
        encoding="utf-8",
    )
    code, out, err = cli("run", "--project", str(project))
    manifest, _ = (
        json.loads((sorted((project / "runs").iterdir())[-1] / "manifest.json").read_text("utf-8")),
        None,
    )
    assert manifest["models"]["paid_after_death"]["status"] == "skipped"
    down = manifest["models"]["agent_of_dead"]
    assert down["status"] == "skipped"
    assert "upstream model paid_after_death skipped" in down["message"]
    assert "payments" in down["message"]
