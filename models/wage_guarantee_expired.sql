-- 工资保证金台账 × 竣工验收备案：以保函替代保证金的项目，保函已到期、未续保、未改存现金，
-- 而项目至今没有竣工验收（竣工日期为空或为占位符的视为未竣工）。
WITH as_of AS (
    SELECT coalesce(
        try_cast(nullif($as_of, '') AS DATE),
        greatest((SELECT max(coalesce(deposited_on, guarantee_start)) FROM wage_deposits),
                 (SELECT max(coalesce(filed_on, completed_on)) FROM project_completions))
    ) AS d
),
cover AS (
    SELECT project_code,
           any_value(project_name)                                            AS project_name,
           any_value(contractor_name)                                         AS contractor_name,
           any_value(contractor_uscc)                                         AS contractor_uscc,
           count(*) FILTER (WHERE form LIKE '%保函%')                          AS guarantees,
           max(guarantee_end) FILTER (WHERE form LIKE '%保函%')                AS guarantee_end,
           coalesce(bool_or(form NOT LIKE '%保函%' AND status = '在存'), false) AS cash_held
    FROM wage_deposits
    GROUP BY project_code
),
completed AS (
    SELECT project_code, min(completed_on) AS completed_on
    FROM project_completions
    WHERE completed_on IS NOT NULL
    GROUP BY project_code
)
SELECT
    c.project_code,
    c.project_name,
    c.contractor_name,
    c.contractor_uscc,
    c.guarantees,
    c.guarantee_end,
    a.d - c.guarantee_end AS days_expired
FROM cover AS c
CROSS JOIN as_of AS a
LEFT JOIN completed AS k ON k.project_code = c.project_code
WHERE c.guarantees > 0
  AND c.guarantee_end < a.d
  AND NOT c.cash_held
  AND (k.completed_on IS NULL OR k.completed_on > a.d)
