"""A small hand-written project with one model of each of the three shapes (有A无B, 身份冲突, 时间重叠)."""

from __future__ import annotations

PENSION_FILES = {
    "connectors/deaths.yaml": """
        id: deaths
        title: 死亡登记
        agency: 民政局
        source: {type: csv, path: data/deaths.csv}
        columns:
          id_number: {from: [身份证号, 公民身份号码], type: cn_id, required: true}
          person_name: {from: 姓名, type: person_name}
          death_date: {from: 死亡日期, type: date, required: true}
        keys: [id_number]
    """,
    "connectors/payments.yaml": """
        id: payments
        title: 养老金发放
        agency: 人社局
        source: {type: csv, path: data/payments.csv}
        columns:
          id_number: {from: 身份证号, type: cn_id, required: true}
          paid_on: {from: 发放日期, type: date, required: true}
          amount: {from: 金额, type: money}
    """,
    "connectors/convictions.yaml": """
        id: convictions
        title: 刑事判决
        agency: 法院
        source: {type: csv, path: data/convictions.csv}
        columns:
          id_number: {from: 身份证号, type: cn_id, required: true}
          person_name: {from: 姓名, type: person_name}
          crime: {from: 罪名, type: string, required: true}
    """,
    "connectors/licences.yaml": """
        id: licences
        title: 食品经营许可
        agency: 市场监管局
        source: {type: csv, path: data/licences.csv}
        columns:
          licence_no: {from: 许可证编号, type: string, required: true}
          org_name: {from: 经营者名称, type: org_name}
          legal_rep_id: {from: 法定代表人身份证号, type: cn_id}
          waste_contract: {from: 污水排放许可, type: string}
        keys: [licence_no]
    """,
    "models/pension_after_death.yaml": """
        id: pension_after_death
        title: 死亡人员违规领取养老金
        domain: 国有财产保护
        description: 死亡登记与养老金发放碰撞，发现死亡后仍发放的养老金。
        legal_basis: 《社会保险法》第八十八条
        severity: high
        inputs: [deaths, payments]
        params: {min_amount: 0}
        subject: {type: person, id: id_number, name: person_name}
        score: total_paid
        reason: "{person_name}于{death_date}死亡，此后仍发放养老金{payments}笔，合计{total_paid}元"
        evidence:
          - {dataset: deaths, on: {id_number: id_number}}
          - {dataset: payments, on: {id_number: id_number}}
        tests:
          - name: paid after death is flagged, paid one day before is not
            given:
              deaths:
                - {id_number: "11010519491231002X", person_name: 张三, death_date: "2024-03-01"}
                - {id_number: "110105195001010012", person_name: 李四, death_date: "2024-03-01"}
              payments:
                - {id_number: "11010519491231002X", paid_on: "2024-03-05", amount: 1200}
                - {id_number: "110105195001010012", paid_on: "2024-02-29", amount: 1200}
            expect: [{id_number: "11010519491231002X"}]
    """,
    "models/pension_after_death.sql": """
        SELECT d.id_number,
               any_value(d.person_name) AS person_name,
               any_value(d.death_date) AS death_date,
               count(*) AS payments,
               sum(p.amount) AS total_paid
        FROM deaths d
        JOIN payments p ON p.id_number = d.id_number AND p.paid_on > d.death_date
        GROUP BY d.id_number
        HAVING sum(p.amount) > $min_amount
    """,
    "models/food_ban_holder.yaml": """
        id: food_ban_holder
        title: 食品安全犯罪人员担任食品经营者法定代表人
        domain: 食品药品安全
        description: 判决与许可碰撞。
        legal_basis: 《食品安全法》第一百三十五条
        severity: medium
        inputs: [convictions, licences]
        subject: {type: person, id: id_number, name: person_name}
        score: licences
        reason: "{person_name}因{crime}被判刑，仍担任{licences}家食品经营者的法定代表人"
        evidence:
          - {dataset: licences, on: {legal_rep_id: id_number}}
        tests:
          - name: food crime flagged, unrelated crime not
            given:
              convictions:
                - {id_number: "11010519491231002X", person_name: 张三, crime: 生产、销售有毒、有害食品罪}
                - {id_number: "110105195001010012", person_name: 李四, crime: 盗窃罪}
              licences:
                - {licence_no: JY1, legal_rep_id: "11010519491231002X"}
                - {licence_no: JY2, legal_rep_id: "110105195001010012"}
            expect: [{id_number: "11010519491231002X"}]
    """,
    "models/food_ban_holder.sql": """
        SELECT c.id_number, any_value(c.person_name) AS person_name, any_value(c.crime) AS crime,
               count(DISTINCT l.licence_no) AS licences
        FROM convictions c JOIN licences l ON l.legal_rep_id = c.id_number
        WHERE c.crime LIKE '%食品%'
        GROUP BY c.id_number
    """,
    "models/no_drain_permit.yaml": """
        id: no_drain_permit
        title: 餐饮经营者未取得排水许可
        domain: 生态环境和资源保护
        description: 有许可无排水证。
        severity: low
        inputs: [licences]
        subject: {type: organisation, id: licence_no, name: org_name}
        score: "1"
        reason: "{org_name}（许可证{licence_no}）未取得污水排入排水管网许可"
        evidence:
          - {dataset: licences, on: {licence_no: licence_no}}
        tests:
          - name: licence without permit is flagged
            given:
              licences:
                - {licence_no: JY1, org_name: 甲餐馆}
                - {licence_no: JY2, org_name: 乙餐馆, waste_contract: PS-1}
            expect: [{licence_no: JY1}]
    """,
    "models/no_drain_permit.sql": """
        SELECT licence_no, org_name FROM licences WHERE waste_contract IS NULL
    """,
    "data/deaths.csv": """
        身份证号,姓名,死亡日期
        11010519491231002X,张三,2024-03-01
        110105195001010012,李四,2024/3/1
        110105196002020014,王五,2024年1月5日
    """,
    "data/payments.csv": """
        身份证号,发放日期,金额
        11010519491231002X,2024-03-05,"1,200.00"
        11010519491231002x,2024-04-05,1200元
        110105195001010012,2024-02-29,1200
        110105196002020014,2024-02-05,800
    """,
    "data/convictions.csv": """
        身份证号,姓名,罪名
        11010519491231002X,张三,生产、销售不符合安全标准的食品罪
        110105195001010012,李四,盗窃罪
    """,
    "data/licences.csv": """
        许可证编号,经营者名称,法定代表人身份证号,污水排放许可
        JY1101050001,临川区张记餐馆（个体）,11010519491231002X,
        JY1101050002,"=HYPERLINK(""http://x"")",110105195001010012,
        JY1101050003,临川区李记面馆,110105195001010012,
        JY1101050004,临川区王记茶楼,,PS-2024-01
    """,
}
