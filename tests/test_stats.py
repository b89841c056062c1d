"""`collide stats` on the sample project after a scripted set of review files, against counts
made by hand from the hit list, the run manifest and the model files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

from ruamel.yaml import YAML
from test_followup import review, sample_project
from test_reviews import latest_run_dir, read_rows

from collide.clues.dispositions import add_months

METRICS = ["运行次数", "数据条数", "线索数", "已审查", "确认", "排除", "已立案", "检察建议"]
METRICS += ["已整改", "逾期未整改", "准确率", "成案率"]


def pct(a: int, b: int) -> str:
    return f"{a / b * 100:.1f}%" if b else ""


def stats_csv(cli, project: Path, *args: str) -> list[dict[str, str]]:
    code, out, err = cli("stats", "--format", "csv", "--project", str(project), *args)
    assert code == 0, err
    assert out.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(out[1:], newline="")))


def test_stats_equal_hand_counts_after_scripted_reviews(tmp_path: Path, cli) -> None:
    project = sample_project(tmp_path)
    food = project / "models" / "food_ban_licence_holder.yaml"
    food.write_text(
        food.read_text(encoding="utf-8") + "\nline: 刑事\nassignee: 王检察官\n", encoding="utf-8"
    )
    code, out, err = cli("run", "--project", str(project))
    assert code == 0, out + err
    first = latest_run_dir(project)
    rows = read_rows(first / "clues.csv")

    def of(model: str) -> list[dict[str, str]]:
        return [r for r in rows if r["模型"] == model]

    p = of("pension_after_death")
    w = of("water_arrears_public_units")
    f = of("farmland_unapproved_build")
    from collide.project import Project

    run_date = Project.load(project).run_date()  # the sample's extracts are dated
    issued = add_months(run_date, -3).isoformat()
    review(project, cli, "a1.csv", p[0]["线索编号"], 审查结论="确认", 承办人="李检察官")
    review(project, cli, "a2.csv", p[1]["线索编号"], 审查结论="排除", 排除理由="数据错误")
    review(project, cli, "a3.csv", p[2]["线索编号"], 审查结论="已立案", 案号="临检立〔2026〕2号")
    review(
        project,
        cli,
        "a4.csv",
        w[0]["线索编号"],
        审查结论="已制发检察建议",
        检察建议文号="临检建〔2026〕4号",
        制发日期=issued,
    )
    review(project, cli, "a5.csv", f[0]["线索编号"], 审查结论="确认")
    review(project, cli, "b1.csv", f[0]["线索编号"], 审查结论="排除", 排除理由="重复线索")
    code, out, err = cli("run", "--project", str(project), "--no-ingest")
    assert code == 0, out + err

    # by hand: rows loaded per dataset (both runs read the same snapshots) and each model's inputs
    manifest = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    loaded = {ds: d["rows_loaded"] for ds, d in manifest["datasets"].items()}
    yaml = YAML(typ="safe")
    inputs = {
        m.stem: [  # datasets only: a `model:` input is another model's hits, not agency rows
            ds
            for ds in yaml.load(m.read_text(encoding="utf-8"))["inputs"]
            if not ds.startswith("model:")
        ]
        for m in (project / "models").glob("*.yaml")
    }
    special = {
        "pension_after_death": dict(
            已审查=3, 确认=2, 排除=1, 已立案=1, 检察建议=0, 已整改=0, 逾期未整改=0
        ),
        "water_arrears_public_units": dict(
            已审查=1, 确认=1, 排除=0, 已立案=1, 检察建议=1, 已整改=0, 逾期未整改=1
        ),
        "farmland_unapproved_build": dict(
            已审查=1, 确认=0, 排除=1, 已立案=0, 检察建议=0, 已整改=0, 逾期未整改=0
        ),
    }
    expected = []
    for model in sorted(inputs):
        n = len(of(model))
        c = special.get(
            model, dict(已审查=0, 确认=0, 排除=0, 已立案=0, 检察建议=0, 已整改=0, 逾期未整改=0)
        )
        expected.append(
            {
                "模型": model,
                "条线": {
                    "food_ban_licence_holder": "刑事",
                    "professional_lending": "民事",
                    "public_servant_lending": "民事",
                }.get(model, "公益诉讼"),
                "运行次数": "2",
                "数据条数": str(sum(loaded[ds] for ds in inputs[model])),
                "线索数": str(n),
                **{k: str(v) for k, v in c.items()},
                "准确率": pct(c["确认"], c["已审查"]),
                "成案率": pct(c["已立案"], n),
            }
        )
    got = stats_csv(cli, project)
    assert list(got[0]) == ["模型", "模型名称", "条线", *METRICS]
    assert [{k: v for k, v in r.items() if k != "模型名称"} for r in got[:-1]] == expected
    assert got[0]["模型名称"] == "医疗机构医疗废物未交有资质单位处置"
    total = got[-1]
    all_inputs = {ds for m in inputs.values() for ds in m}
    assert total == {
        "模型": "合计",
        "模型名称": "",
        "条线": "",
        "运行次数": "2",
        "数据条数": str(sum(loaded[ds] for ds in all_inputs)),
        "线索数": str(len(rows)),
        "已审查": "5",
        "确认": "3",
        "排除": "2",
        "已立案": "2",
        "检察建议": "1",
        "已整改": "0",
        "逾期未整改": "1",
        "准确率": pct(3, 5),
        "成案率": pct(2, len(rows)),
    }

    # clues.csv agrees: its 审查结论 and 整改状态 are the ones counted
    last = read_rows(latest_run_dir(project) / "clues.csv")
    assert sum(r["审查结论"] in ("确认", "已立案", "已制发检察建议") for r in last) == 3
    assert sum(r["整改状态"].startswith("逾期未整改") for r in last) == 1

    by_line = stats_csv(cli, project, "--by", "line")
    civil = len(of("professional_lending")) + len(of("public_servant_lending"))
    crim = len(of("food_ban_licence_holder"))
    got_lines = [(r["条线"], r["线索数"]) for r in by_line]
    assert got_lines[-1] == ("合计", str(len(rows)))
    assert sorted(got_lines[:-1]) == sorted(
        [("公益诉讼", str(len(rows) - crim - civil)), ("刑事", str(crim)), ("民事", str(civil))]
    )
    by_person = stats_csv(cli, project, "--by", "assignee")
    assert [(r["承办人"], r["线索数"], r["确认"]) for r in by_person] == [
        ("李检察官", "1", "1"),
        ("王检察官", str(len(of("food_ban_licence_holder"))), "0"),
        ("未分配", str(len(rows) - 1 - len(of("food_ban_licence_holder"))), "2"),
        ("合计", str(len(rows)), "3"),
    ]
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    later = stats_csv(cli, project, "--from", tomorrow)
    assert (later[-1]["运行次数"], later[-1]["线索数"], later[-1]["成案率"]) == ("0", "0", "")

    # the table, with the work-report paragraph; the chart; the workbook
    chart = tmp_path / "stats.png"
    code, out, err = cli("stats", "--project", str(project), "--chart", str(chart))
    assert code == 0, err
    assert (
        f"本期应用大数据法律监督模型{len(got) - 1}个，汇聚14家单位数据共计{total['数据条数']}条，"
        f"发现线索{len(rows)}条，经审查确认3条，立案2件，制发检察建议1份，已整改0件，"
        "逾期未整改1件。"
    ) in out
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    book = tmp_path / "stats.xlsx"
    code, out, err = cli(
        "stats", "--format", "xlsx", "--output", str(book), "--project", str(project)
    )
    assert code == 0, err
    import openpyxl

    ws = openpyxl.load_workbook(book).active
    header = [c.value for c in ws[1]]
    total_row = next(r for r in ws.iter_rows(values_only=True) if r[0] == "合计")
    assert total_row[header.index("已立案")] == 2
    assert abs(total_row[header.index("准确率")] - 0.6) < 1e-9

    # 分流: one hit list per 条线
    code, out, err = cli("export", "--format", "csv", "--by", "line", "--project", str(project))
    assert code == 0, err
    split = latest_run_dir(project) / "by_line"
    assert sorted(p.name for p in split.iterdir()) == sorted(
        ["clues_公益诉讼.csv", "clues_刑事.csv", "clues_民事.csv"]
    )
    criminal = read_rows(split / "clues_刑事.csv")
    assert {r["模型"] for r in criminal} == {"food_ban_licence_holder"}
    assert {r["承办人"] for r in criminal} == {"王检察官"}
    others = len(read_rows(split / "clues_公益诉讼.csv")) + len(read_rows(split / "clues_民事.csv"))
    assert len(criminal) + others == len(last)

    # the audit log: who imported which file
    code, out, err = cli("audit", "--project", str(project))
    assert code == 0, err
    imports = [line for line in out.splitlines() if "\t导入审查结论\t" in line]
    assert len(imports) == 6 and "a1.csv" in imports[0] and "b1.csv" in imports[-1]
    code, out, err = cli("stats", "--from", "昨天", "--project", str(project))
    assert code == 1 and 'error: --from: "昨天" is not a date. Write it like 2026-01-01.' in err
