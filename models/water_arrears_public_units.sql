-- 公共单位（机关、事业单位、国有企业）欠缴水费：名录 × 自来水档案 × 月度账单。
-- 户号按统一社会信用代码关联；档案未登记信用代码的，按去掉括号内容后的单位名称关联。
WITH units AS (
    SELECT uscc, org_name, org_type,
           org_key(regexp_replace(org_name, '[（(][^）)]*[）)]', '', 'g')) AS core_key
    FROM org_registry
    WHERE regexp_matches(coalesce(org_type, ''), $unit_types)
),
linked AS (
    SELECT u.uscc, a.account_no
    FROM water_accounts AS a
    JOIN units AS u ON a.holder_uscc = u.uscc
    UNION
    SELECT u.uscc, a.account_no
    FROM water_accounts AS a
    JOIN units AS u
      ON a.holder_uscc IS NULL
     AND org_key(regexp_replace(a.holder_name, '[（(][^）)]*[）)]', '', 'g')) = u.core_key
),
owed AS (
    SELECT l.uscc, b.account_no, b.bill_period,
           b.amount_due - coalesce(b.amount_paid, 0) AS owed
    FROM linked AS l
    JOIN water_bills AS b ON b.account_no = l.account_no
    WHERE b.amount_due - coalesce(b.amount_paid, 0) > 0
)
SELECT
    u.uscc,
    u.org_name,
    u.org_type,
    min(o.account_no)                                          AS account_no,
    string_agg(DISTINCT o.account_no, '、' ORDER BY o.account_no) AS accounts,
    count(DISTINCT o.bill_period)                              AS arrears_months,
    min(o.bill_period)                                         AS first_period,
    max(o.bill_period)                                         AS last_period,
    sum(o.owed)                                                AS total_arrears
FROM owed AS o
JOIN units AS u ON u.uscc = o.uscc
GROUP BY u.uscc, u.org_name, u.org_type
HAVING count(DISTINCT o.bill_period) >= $min_months
   AND sum(o.owed) >= $min_arrears
