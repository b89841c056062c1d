"""`collide check` reports every authoring mistake at once, each at its file and line."""

from __future__ import annotations

from pathlib import Path

from conftest import write_project
from pension_project import PENSION_FILES

MISTAKES = {
    # 1 unknown key (typo) in a model
    "models/pension_after_death.yaml": PENSION_FILES["models/pension_after_death.yaml"].replace(
        "        title: 死亡人员违规领取养老金", "        titel: 死亡人员违规领取养老金"
    ),
    # 2 SQL syntax error
    "models/food_ban_holder.sql": PENSION_FILES["models/food_ban_holder.sql"].replace(
        "GROUP BY c.id_number", "GROUP BY BY c.id_number"
    ),
    # 3 unknown column
    "models/unknown_column.yaml": """
        id: unknown_column
        title: 未知字段
        domain: 测试
        description: 测试。
        severity: low
        inputs: [deaths]
        subject: {type: person, id: id_number}
        score: "1"
        reason: x
    """,
    "models/unknown_column.sql": "SELECT id_number,\n       person_nme\nFROM deaths\n",
    # 4 param used but not declared
    "models/undeclared_param.yaml": """
        id: undeclared_param
        title: 参数未声明
        domain: 测试
        description: 测试。
        severity: low
        inputs: [payments]
        params: {min_amount: 0}
        subject: {type: person, id: id_number}
        score: "1"
        reason: x
    """,
    "models/undeclared_param.sql": "SELECT id_number\nFROM payments\nWHERE amount > $min_amout\n",
    "models/unknown_input.yaml": """
        id: unknown_input
        title: 未知数据集
        domain: 测试
        description: 测试。
        severity: low
        inputs: [deaths, paymnts]
        subject: {type: person, id: id_number}
        score: "1"
        reason: x
    """,
    "models/unknown_input.sql": "SELECT id_number FROM deaths\n",
    # 5 subject column not produced, 6 reason placeholder not produced
    "models/wrong_outputs.yaml": """
        id: wrong_outputs
        title: 错误输出
        domain: 测试
        description: 测试。
        severity: low
        inputs: [deaths]
        subject: {type: person, id: id_no}
        score: "1"
        reason: "{person_nam}"
    """,
    "models/wrong_outputs.sql": "SELECT id_number, person_name FROM deaths\n",
    # 8 YAML without SQL
    "models/no_sql.yaml": """
        id: no_sql
        title: 无SQL
        domain: 测试
        description: 测试。
        severity: low
        inputs: [deaths]
        subject: {type: person, id: id_number}
        score: "1"
        reason: x
    """,
    # 9 SQL without YAML
    "models/orphan.sql": "SELECT 1\n",
    # 10 duplicate key in a connector
    "connectors/convictions.yaml": PENSION_FILES["connectors/convictions.yaml"].replace(
        "        agency: 法院", "        agency: 法院\n        agency: 中级法院"
    ),
    # 11 undeclared table read by a model
    "models/reads_undeclared.yaml": """
        id: reads_undeclared
        title: 读取未声明数据
        domain: 测试
        description: 测试。
        severity: low
        inputs: [deaths]
        subject: {type: person, id: id_number}
        score: "1"
        reason: x
    """,
    "models/reads_undeclared.sql": "SELECT d.id_number\nFROM deaths d\nJOIN payments p USING (id_number)\n",
    # 12 wrong semantic type in a connector
    "connectors/licences.yaml": PENSION_FILES["connectors/licences.yaml"].replace(
        "type: org_name", "type: company"
    ),
}


def test_check_reports_all_mistakes_at_once(tmp_path: Path, cli) -> None:
    root = write_project(tmp_path / "p", {**PENSION_FILES, **MISTAKES})
    code, out, err = cli("check", "--project", str(root))
    assert code == 1
    lines = [ln for ln in out.splitlines() if ln.strip()]
    expected = [
        'connectors/convictions.yaml:4: duplicate key "agency". Keep one of the two entries.',
        "connectors/licences.yaml:7: columns.org_name.type: Input should be",
        "models/orphan.sql: SQL file without a model file orphan.yaml.",
        "models/no_sql.yaml: model file without its SQL no_sql.sql.",
        'models/pension_after_death.yaml:2: unknown key "titel". Did you mean "title"?',
        'models/unknown_input.yaml:6: unknown dataset "paymnts" in inputs. Did you mean "payments"?',
        "models/food_ban_holder.sql:5: SQL syntax error: ",
        'models/unknown_column.sql:2: unknown column "person_nme". Did you mean "person_name"? '
        "Check table and column names against the inputs.",
        "models/undeclared_param.sql:3: param $min_amout is used but not declared. "
        'Did you mean "min_amount"?',
        'models/reads_undeclared.sql:3: reads "payments", which is not an input of this model. '
        "To fix this, read only the datasets listed in inputs: (deaths).",
        'models/wrong_outputs.yaml:7: subject id "id_no" is not a column the model produces.',
        'models/wrong_outputs.yaml:9: reason placeholder "person_nam" is not a column the model '
        'produces. Did you mean "person_name"?',
    ]
    for want in expected:
        assert any(ln.startswith(want) for ln in lines), f"missing: {want}\n---\n{out}"
    assert len(lines) == len(expected) + 1, out  # nothing reported twice, no cascades
    assert "Traceback" not in out + err
    assert lines[-1].endswith("problems found.")


MODEL = """
    id: {id}
    title: 测试
    domain: 测试
    description: 测试。
    severity: low
    inputs: [{inputs}]
    subject: {{type: person, id: id_number}}
    score: "{score}"
    reason: "{reason}"
    evidence:
      - {{dataset: payments, on: {{id_number: id_number}}}}
    tests:
      - name: one payment
        given:
          payments:
            - {{id_number: "11010519491231002X", paid_on: "2024-03-05", amount: 1200}}
        expect:
          - {{id_number: "11010519491231002X"}}
"""


def _model(mid: str, inputs: str = "payments", score: str = "1", reason: str = "x") -> str:
    return MODEL.format(id=mid, inputs=inputs, score=score, reason=reason)


def test_misspelt_input_is_reported_once_and_its_correct_uses_are_not(tmp_path: Path, cli) -> None:
    """Issue 11 §6: the did-you-mean names the existing dataset, and the SQL, the evidence block
    and the test rows that spell it right are not reported."""
    files = {
        **PENSION_FILES,
        "models/typo_input.yaml": _model("typo_input", inputs="paymnt"),
        "models/typo_input.sql": "SELECT p.id_number\nFROM payments AS p\nWHERE p.amount > 0\n",
    }
    root = write_project(tmp_path / "p", files)
    code, out, _ = cli("check", "--project", str(root))
    assert code == 1
    lines = [ln for ln in out.splitlines() if "typo_input" in ln]
    assert lines == [
        'models/typo_input.yaml:6: unknown dataset "paymnt" in inputs. Did you mean "payments"?'
    ], out


def test_reason_or_score_naming_a_missing_column_is_found_by_check_and_test(
    tmp_path: Path, cli
) -> None:
    """Issue 11 §6: not `internal error: KeyError` at run time, and `collide test` fails too."""
    files = {
        **PENSION_FILES,
        "models/bad_reason.yaml": _model("bad_reason", reason="首次发放于{first_paid_after}"),
        "models/bad_reason.sql": "SELECT id_number, min(paid_on) AS first_paid\n"
        "FROM payments GROUP BY id_number\n",
        "models/bad_score.yaml": _model("bad_score", score="total_paid"),
        "models/bad_score.sql": "SELECT id_number, sum(amount) AS total\n"
        "FROM payments GROUP BY id_number\n",
    }
    root = write_project(tmp_path / "p", files)
    code, out, err = cli("check", "--project", str(root))
    assert code == 1
    reason = (
        'models/bad_reason.yaml:9: reason placeholder "first_paid_after" is not a column the '
        'model produces. Did you mean "first_paid"? Select it in models/bad_reason.sql or change '
        "reason."
    )
    score = 'models/bad_score.yaml:8: score expression: unknown column "total_paid".'
    assert reason in out.splitlines(), out
    assert any(ln.startswith(score) for ln in out.splitlines()), out
    code, out, err = cli("test", "bad_reason", "bad_score", "--project", str(root))
    assert code == 1
    assert "KeyError" not in out + err and "internal error" not in out + err
    assert "FAIL bad_reason: collide check" in out, out
    assert "     " + reason in out.splitlines(), out
    assert "FAIL bad_score: collide check" in out, out
    assert any(ln.strip().startswith(score) for ln in out.splitlines()), out


def test_score_is_checked_on_the_path_that_runs_it(tmp_path: Path, cli) -> None:
    """`collide run` does not go through `collide check`: the score that runs is checked there too
    (functions by the allow-list), and a comment at its end cannot swallow the SQL after it."""
    files = {
        **PENSION_FILES,
        "models/pension_after_death.yaml": PENSION_FILES["models/pension_after_death.yaml"].replace(
            "score: total_paid", "score: total_paid -- 得分"
        ),
        "models/setting_score.yaml": _model(
            "setting_score", score="length(current_setting('allowed_directories')::VARCHAR)"
        ),
        "models/setting_score.sql": "SELECT id_number FROM payments\n",
    }
    root = write_project(tmp_path / "p", files)
    code, out, err = cli("run", "--project", str(root), "--keep-going")
    text = out + err
    assert "Traceback" not in text and "internal error" not in text, text
    assert (
        'models/setting_score.yaml:8: score reads "current_setting()", which is not an input of '
        "this model" in text
    ), text
    clues = (next((root / "runs").iterdir()) / "clues.csv").read_text(encoding="utf-8-sig")
    assert "pension_after_death" in clues, clues  # the commented score still ranks its clues


def test_issue_example_business_licence_typo_in_the_shipped_project(tmp_path: Path, cli) -> None:
    """The issue's case on the real model: `inputs: [business_licence, …]`; the SQL, the evidence
    block and three test blocks spell it right and must not be told to change to the typo."""
    import shutil

    repo = Path(__file__).resolve().parents[1]
    root = tmp_path / "p"
    root.mkdir()
    shutil.copy(repo / "collide.yaml", root)
    for folder in ("connectors", "models", "expectations", "sample_data"):
        shutil.copytree(repo / folder, root / folder)
    path = root / "models" / "water_business_zero_use.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("inputs: [business_licences,", "inputs: [business_licence,"), encoding="utf-8"
    )
    code, out, err = cli("check", "--project", str(root))
    assert code == 1
    assert [ln for ln in out.splitlines() if ln.strip()] == [
        'models/water_business_zero_use.yaml:10: unknown dataset "business_licence" in inputs. '
        'Did you mean "business_licences"?',
        "1 problem found.",
    ], out
