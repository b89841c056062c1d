"""`collide new model` as a clerk uses it: in a real terminal (tmux), answering its questions.

For each of the four shapes the skeleton passes `collide check`, its test fails while the rows are
placeholders, and passes once real rows are filled in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import REPO, write_project
from pension_project import PENSION_FILES

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

COLLIDE = str(Path(sys.executable).parent / "collide")

DETENTIONS = {
    "connectors/detentions.yaml": """
        id: detentions
        title: 在押服刑人员
        agency: 司法局
        source: {type: csv, path: data/detentions.csv}
        columns:
          id_number: {from: 身份证号, type: cn_id, required: true}
          person_name: {from: 姓名, type: person_name}
          start_on: {from: 入监日期, type: date, required: true}
          end_on: {from: 出监日期, type: date}
    """,
    "data/detentions.csv": "身份证号,姓名,入监日期,出监日期\n",
}

X, Y, Z = "11010519491231002X", "110105195001010012", "110105196002020014"

# shape → (answers in the order asked: (text on screen, keys to type)), real test rows)
CASES = {
    "有A无B": (
        [
            ("模型属于哪种形态", "1"),
            ("数据集 A", "deaths"),
            ("用哪一列关联", "id_number"),
            ("数据集 B", "payments"),
            ("中与 A.id_number 对应的列", "id_number"),
            ("附加条件", ""),
            ("模型编号", "deaths_never_paid"),
            ("模型名称", "死亡登记但从未发放"),
            ("条线", "国有财产保护"),
            ("法律依据", "《社会保险法》第八十八条"),
        ],
        "deaths_never_paid",
        {
            "deaths": [{"id_number": X, "person_name": "张三"}, {"id_number": Y}],
            "payments": [{"id_number": Y, "paid_on": "2024-01-15", "amount": 100}],
        },
        [{"id_number": X}],
    ),
    "身份冲突": (
        [
            ("模型属于哪种形态", "身份冲突"),
            ("数据集 A", "convictions"),
            ("用哪一列关联", "id_number"),
            ("数据集 B", "licences"),
            ("中与 A.id_number 对应的列", "legal_rep_id"),
            ("附加条件", "a.crime LIKE '%食品%'"),
            ("模型编号", "food_convict_rep"),
            ("模型名称", ""),
            ("条线", "食品药品安全"),
            ("法律依据", ""),
        ],
        "food_convict_rep",
        {
            "convictions": [
                {"id_number": X, "crime": "生产、销售有毒、有害食品罪"},
                {"id_number": Y, "crime": "盗窃罪"},
            ],
            "licences": [
                {"licence_no": "JY1", "legal_rep_id": X},
                {"licence_no": "JY2", "legal_rep_id": Y},
            ],
        },
        [{"id_number": X}],
    ),
    "时间重叠": (
        [
            ("模型属于哪种形态", "3"),
            ("数据集 A", "detentions"),
            ("用哪一列关联", "id_number"),
            ("数据集 B", "payments"),
            ("中与 A.id_number 对应的列", "id_number"),
            ("期间从哪一列开始", "start_on"),
            ("期间到哪一列结束", "end_on"),
            ("B 的日期", "paid_on"),
            ("B 的期间结束列", "-"),
            ("附加条件", ""),
            ("重叠至少多少天", ""),
            ("模型编号", "paid_in_prison"),
            ("模型名称", "服刑期间领取养老金"),
            ("条线", ""),
            ("法律依据", ""),
        ],
        "paid_in_prison",
        {
            "detentions": [
                {"id_number": X, "start_on": "2024-01-01", "end_on": "2024-06-30"},
                {"id_number": Z, "start_on": "2022-01-01", "end_on": "2022-12-31"},
            ],
            "payments": [
                {"id_number": X, "paid_on": "2024-03-15", "amount": 1200},
                {"id_number": Y, "paid_on": "2024-03-15", "amount": 1200},
                {"id_number": Z, "paid_on": "2024-03-15", "amount": 1200},
            ],
        },
        [{"id_number": X}],
    ),
    "数量异常": (
        [
            ("模型属于哪种形态", "数量异常"),
            ("数据集 A", "payments"),
            ("用哪一列关联", "id_number"),
            ("比较什么", "count"),
            ("附加条件", "a.amount > 0"),
            ("达到多少算异常", "3"),
            ("模型编号", ""),
            ("模型名称", ""),
            ("条线", ""),
            ("法律依据", ""),
        ],
        "payments_count_anomaly",
        {
            "payments": [{"id_number": X, "paid_on": "2024-01-15", "amount": 10}] * 3
            + [{"id_number": Y, "paid_on": "2024-01-15", "amount": 10}] * 2
            + [{"id_number": Z, "paid_on": "2024-01-15", "amount": 0}] * 3,
        },
        [{"id_number": X}],
    ),
}


class Terminal:
    """One tmux server of its own, one window, read the way a person reads the screen."""

    def __init__(self, env: dict[str, str]):
        self.socket = f"collide-test-{uuid.uuid4().hex[:8]}"
        self.env = env

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-u", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            env=self.env,
            check=True,
        )
        return done.stdout

    def start(self, command: list[str]) -> None:
        line = " ".join(_quote(c) for c in command) + "; echo EXIT=$?; sleep 600"
        self.tmux("new-session", "-d", "-s", "t", "-x", "220", "-y", "60", line)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "t")

    def wait_for(self, text: str, after: int = 0, limit: float = 120.0) -> str:
        """Poll the screen until `text` shows (the limit only keeps a broken run from hanging)."""
        end = time.monotonic() + limit
        while True:
            shown = self.screen()
            if text in shown[after:]:
                return shown
            if "EXIT=" in shown and text != "EXIT=":
                raise AssertionError(f"command ended before {text!r} appeared:\n{shown}")
            if time.monotonic() > end:
                raise AssertionError(f"{text!r} never appeared:\n{shown}")
            time.sleep(0.1)

    def wait_prompt(self, question: str, after: int) -> int:
        """Wait until `question` is on screen and the cursor sits at its prompt (`…: `)."""
        end = time.monotonic() + 120.0
        while True:
            shown = self.screen()
            pos = shown.find(question, after)
            lines = [ln for ln in shown.rstrip("\n").split("\n") if ln.strip()]
            if pos >= 0 and lines and lines[-1].rstrip().endswith(":"):
                return pos
            if "EXIT=" in shown:
                raise AssertionError(f"command ended before {question!r}:\n{shown}")
            if time.monotonic() > end:
                raise AssertionError(f"{question!r} never prompted:\n{shown}")
            time.sleep(0.1)

    def type(self, keys: str) -> None:
        if keys:
            self.tmux("send-keys", "-t", "t", "-l", keys)
        self.tmux("send-keys", "-t", "t", "Enter")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO / "src"),
        LANG="C.UTF-8",
        LC_ALL="C.UTF-8",
        TERM="xterm-256color",
        COLUMNS="200",
    )
    return env


def _collide(project: Path, *args: str) -> subprocess.CompletedProcess:
    """The installed `collide` command with no terminal (nothing to answer questions)."""
    return subprocess.run(
        [COLLIDE, "--project", str(project), *args],
        capture_output=True,
        text=True,
        env=_env(),
        stdin=subprocess.DEVNULL,
    )


def _fill_tests(path: Path, given: dict, expect: list) -> None:
    """What the clerk does next: replace the placeholder rows with a real case."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    doc = yaml.load(path.read_text(encoding="utf-8"))
    doc["tests"] = [{"name": "真实案例", "given": given, "expect": expect}]
    with path.open("w", encoding="utf-8") as f:
        yaml.dump(doc, f)


@pytest.mark.parametrize("shape", list(CASES))
def test_new_model_in_a_terminal_checks_fails_until_filled_then_passes(tmp_path, shape):
    answers, model_id, given, expect = CASES[shape]
    project = write_project(tmp_path / "p", {**PENSION_FILES, **DETENTIONS})
    term = Terminal(_env())
    try:
        term.start([COLLIDE, "--project", str(project), "new", "model"])
        pos = 0
        for question, keys in answers:
            pos = term.wait_prompt(question, pos)
            term.type(keys)
            pos += len(question)
        shown = term.wait_for("EXIT=", pos)
    finally:
        term.close()
    assert "EXIT=0" in shown, shown
    assert f"已生成 models/{model_id}.yaml" in shown or f"models/{model_id}.yaml" in shown
    yaml_path = project / "models" / f"{model_id}.yaml"
    assert yaml_path.is_file() and (project / "models" / f"{model_id}.sql").is_file()
    checked = _collide(project, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = _collide(project, "test", model_id)
    assert tested.returncode == 1 and "0 passed, 1 failed" in tested.stdout, tested.stdout
    _fill_tests(yaml_path, given, expect)
    tested = _collide(project, "test", model_id)
    assert tested.returncode == 0 and "1 passed, 0 failed" in tested.stdout, (
        tested.stdout + tested.stderr
    )


def test_every_question_has_a_flag_and_a_missing_one_is_named(tmp_path):
    import shlex

    project = write_project(tmp_path / "p", {**PENSION_FILES, **DETENTIONS})
    base = (
        "new model --shape 时间重叠 --a detentions --a-key id_number --b payments "
        "--b-key id_number --a-start start_on --a-end end_on --b-start paid_on --b-end '' "
        "--condition '' --threshold 30 --domain 国有财产保护 --legal-basis ''"
    )
    done = _collide(project, *shlex.split(base + " --id prison_pay --title 服刑期间领取养老金"))
    assert done.returncode == 0, done.stderr
    assert "params: {min_days: 30}" in (project / "models/prison_pay.yaml").read_text("utf-8")
    missing = _collide(project, *shlex.split("new model --shape 有A无B --a deaths"))
    assert missing.returncode == 1
    assert "error: --a-key: no answer given. Give --a-key" in missing.stderr
    # a start column that is no date (the later flag wins, as on any command line)
    wrong = _collide(
        project, *shlex.split(base + " --id prison_pay2 --title x --a-start person_name")
    )
    assert (
        wrong.returncode == 1 and "--a-start: detentions.person_name is person_name" in wrong.stderr
    )
    assert not (project / "models/prison_pay2.yaml").exists()
    typo = _collide(
        project,
        *shlex.split(
            "new model --shape 身份冲突 --a convictions --a-key id_number --b licences "
            "--b-key legal_rep_id --condition \"a.crim LIKE '%食品%'\" --id x1 --title t "
            "--domain d --legal-basis ''"
        ),
    )
    assert typo.returncode == 1 and 'does not have a column named "crim"' in typo.stderr
    assert "--condition: nothing was written" in typo.stderr
    assert not (project / "models/x1.yaml").exists()


def test_the_readme_walk_through_works_as_written(tmp_path):
    """README “Start a model”: the scripted command, then the test rows shown there."""
    import re
    import shlex

    from ruamel.yaml import YAML

    section = (REPO / "README.md").read_text(encoding="utf-8").split("## Start a model", 1)[1]
    section = section.split("\n## ", 1)[0]
    command = re.findall(r"```bash\n(.*?)```", section, re.S)[0].replace("\\\n", " ")
    args = shlex.split(command)
    assert args[:3] == ["collide", "new", "model"]
    tests_block = re.findall(r"```yaml\n(tests:.*?)```", section, re.S)[0]
    project = write_project(tmp_path / "p", {**PENSION_FILES, **DETENTIONS})
    done = _collide(project, *args[1:])
    assert done.returncode == 0, done.stderr
    model_id = args[args.index("--id") + 1]
    assert _collide(project, "test", model_id).returncode == 1
    rows = YAML(typ="safe").load(tests_block)["tests"]
    path = project / "models" / f"{model_id}.yaml"
    yaml = YAML(typ="rt")
    doc = yaml.load(path.read_text(encoding="utf-8"))
    doc["tests"] = rows
    with path.open("w", encoding="utf-8") as f:
        yaml.dump(doc, f)
    tested = _collide(project, "test", model_id)
    assert tested.returncode == 0 and "1 passed, 0 failed" in tested.stdout, tested.stdout
