"""Networks: connected components over an edge list a model defines in SQL.

A small project of lawsuits where plaintiffs share an agent or a phone: the model groups them into
networks and flags groups of at least three plaintiffs. The components are checked against an
independent union-find on generated graphs.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pyarrow as pa
from conftest import write_project

CONNECTOR = """
id: loan_suits
title: 民间借贷案件
source: {type: csv, path: data/suits.csv}
columns:
  case_no:   {from: 案号, type: string, required: true}
  plaintiff: {from: 原告, type: person_name}
  agent:     {from: 代理人, type: person_name}
  phone:     {from: 联系电话, type: phone}
keys: [case_no]
"""

MODEL = """
id: lending_ring
title: 职业放贷团伙
domain: 民事检察
description: 原告共用代理人或电话，形成放贷团伙。
severity: high
inputs: [loan_suits]
params: {min_size: 3}
network:
  edges: |
    SELECT x.plaintiff AS a, y.plaintiff AS b, '代理人' || x.agent AS via
    FROM loan_suits x JOIN loan_suits y ON x.agent = y.agent AND x.plaintiff < y.plaintiff
    UNION ALL
    SELECT x.plaintiff, y.plaintiff, '电话' || x.phone
    FROM loan_suits x JOIN loan_suits y ON x.phone = y.phone AND x.plaintiff < y.plaintiff
subject: {type: other, id: component, name: members}
score: size
reason: "{size}名原告通过共用代理人或电话相互关联：{links}"
labels: {size: 团伙人数, members: 成员, links: 关联}
"""

SQL = """
SELECT component, any_value(size) AS size, any_value(members) AS members,
       any_value(links) AS links, count(*) AS suits
FROM network n JOIN loan_suits s ON s.plaintiff = n.node
WHERE size >= $min_size
GROUP BY component
"""

SUITS = [
    ("（2024）浙0102民初1号", "张三", "王律", "13800000001"),
    ("（2024）浙0102民初2号", "李四", "王律", "13800000002"),
    ("（2024）浙0102民初3号", "赵五", "钱律", "13800000002"),  # via 李四's phone
    ("（2024）浙0102民初4号", "孙六", "周律", "13900000009"),  # a pair only: a decoy
    ("（2024）浙0102民初5号", "吴七", "周律", "13900000008"),
    ("（2024）浙0102民初6号", "郑八", "冯律", "13700000000"),  # alone
]


def _project(root: Path, model: str = MODEL, sql: str = SQL) -> Path:
    rows = "\n".join(",".join(r) for r in SUITS)
    return write_project(
        root,
        {
            "connectors/loan_suits.yaml": CONNECTOR,
            "data/suits.csv": "案号,原告,代理人,联系电话\n" + rows + "\n",
            "models/lending_ring.yaml": model,
            "models/lending_ring.sql": sql,
        },
    )


def test_a_ring_of_three_is_one_clue_with_its_members_and_links(tmp_path, cli) -> None:
    root = _project(tmp_path / "p")
    code, out, err = cli("--project", str(root), "run")
    assert code == 0, out + err
    code, out, err = cli("--project", str(root), "export", "--no-mask", "--format", "csv")
    assert code == 0, out + err
    (path,) = (root / "runs").glob("*/unmasked/clues.csv")
    with path.open(encoding="utf-8-sig") as f:
        clues = list(csv.DictReader(f))
    assert [c["对象名称"] for c in clues] == ["张三、李四、赵五"]
    reason = clues[0]["线索说明"]
    assert reason.startswith("3名原告通过共用代理人或电话相互关联：")
    assert "张三—李四（代理人王律）" in reason and "李四—赵五（电话13800000002）" in reason


def test_component_ids_stay_when_other_groups_change(tmp_path, cli) -> None:
    from collide.modelrun.networks import components

    before = components(pa.array(["张三", "李四", "孙六"]), pa.array(["李四", "赵五", "吴七"]))
    after = components(
        pa.array(["赵五", "甲", "孙六", "张三"]), pa.array(["李四", "乙", "吴七", "李四"])
    )
    ids = lambda t: dict(zip(t["node"].to_pylist(), t["component"].to_pylist()))  # noqa: E731
    b, a = ids(before), ids(after)
    assert b["张三"] == b["赵五"] == a["张三"] == a["赵五"] != b["孙六"] == a["孙六"]


def test_components_agree_with_union_find_on_random_graphs() -> None:
    from collide.modelrun.networks import components

    rnd = random.Random(7)
    for _ in range(20):
        n = rnd.randint(2, 60)
        edges = [
            (f"n{rnd.randrange(n)}", f"n{rnd.randrange(n)}") for _ in range(rnd.randint(1, 80))
        ]
        parent: dict[str, str] = {}

        def find(x: str, parent: dict[str, str] = parent) -> str:
            parent.setdefault(x, x)
            while parent[x] != x:
                x = parent[x]
            return x

        for x, y in edges:
            parent[find(x)] = find(y)
        got = components(pa.array([e[0] for e in edges]), pa.array([e[1] for e in edges]))
        comp = dict(zip(got["node"].to_pylist(), got["component"].to_pylist()))
        assert set(comp) == {v for e in edges for v in e}
        for x in comp:
            for y in comp:
                assert (comp[x] == comp[y]) == (find(x) == find(y))


def test_edges_without_the_three_columns_are_an_error_at_the_yaml_line(tmp_path, cli) -> None:
    bad = MODEL.replace("'代理人' || x.agent AS via", "'代理人' || x.agent AS how")
    root = _project(tmp_path / "p", bad)
    code, out, err = cli("--project", str(root), "check")
    assert code == 1
    assert (
        "models/lending_ring.yaml:9: network edges must produce columns a, b, via; missing via"
        in out + err
    )


def test_edges_reading_an_undeclared_table_is_refused(tmp_path, cli) -> None:
    bad = MODEL.replace(
        "FROM loan_suits x JOIN loan_suits y ON x.phone",
        "FROM other x JOIN loan_suits y ON x.phone",
    )
    root = _project(tmp_path / "p", bad)
    code, out, err = cli("--project", str(root), "check")
    assert code == 1
    assert "models/lending_ring.yaml:" in out + err and "other" in out + err
