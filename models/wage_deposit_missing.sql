-- 施工许可 × 工资保证金台账：取得施工许可后 20 个工作日内（周末、法定节假日顺延，调休上班日计入）
-- 既未存储现金保证金、也未提交银行保函/工程担保保函的项目（含逾期才存储的）。
-- 数据截止日：参数 as_of；为空时取两份台账中最晚的业务日期。
WITH as_of AS (
    SELECT coalesce(
        try_cast(nullif($as_of, '') AS DATE),
        greatest((SELECT max(issued_on) FROM construction_permits),
                 (SELECT max(coalesce(deposited_on, guarantee_start)) FROM wage_deposits))
    ) AS d
),
permits AS (
    SELECT project_code,
           any_value(project_name)    AS project_name,
           any_value(contractor_name) AS contractor_name,
           any_value(contractor_uscc) AS contractor_uscc,
           max(contract_wan)          AS contract_wan,
           min(issued_on)             AS issued_on
    FROM construction_permits
    WHERE issued_on IS NOT NULL
    GROUP BY project_code
),
due AS (
    SELECT *, add_workdays(issued_on, 20) AS deadline  -- 第 20 个工作日
    FROM permits
),
deposits AS (
    SELECT project_code,
           min(coalesce(deposited_on, guarantee_start))                  AS first_on,
           arg_min(form, coalesce(deposited_on, guarantee_start))        AS first_form
    FROM wage_deposits
    WHERE coalesce(deposited_on, guarantee_start) IS NOT NULL
    GROUP BY project_code
)
SELECT
    p.project_code,
    p.project_name,
    p.contractor_name,
    p.contractor_uscc,
    p.contract_wan,
    p.issued_on,
    p.deadline,
    d.first_on                                                  AS deposited_on,
    CASE WHEN d.first_on IS NULL THEN '至今未存储工资保证金，也未提交保函'
         ELSE '直至' || strftime(d.first_on, '%Y-%m-%d') || '才以' || d.first_form || '方式存储' END AS finding,
    coalesce(d.first_on, a.d) - p.deadline                      AS days_late
FROM due AS p
CROSS JOIN as_of AS a
LEFT JOIN deposits AS d ON d.project_code = p.project_code
WHERE p.deadline < a.d
  AND coalesce(p.contract_wan, 1e9) >= $min_contract_wan
  AND (d.first_on IS NULL OR d.first_on > p.deadline)
