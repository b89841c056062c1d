-- 工资保证金台账 × 劳动保障监察投诉：保证金仍在存（现金在存或保函有效）且从未动用，
-- 存储之后（保函有效期内）却有经查属实的欠薪投诉的项目——应动用而未动用保证金。
WITH held AS (
    SELECT project_code,
           any_value(project_name)                              AS project_name,
           any_value(contractor_name)                           AS contractor_name,
           any_value(contractor_uscc)                           AS contractor_uscc,
           min(coalesce(deposited_on, guarantee_start))         AS since,
           CASE WHEN bool_or(form NOT LIKE '%保函%') THEN NULL
                ELSE max(guarantee_end) END                     AS covered_until,
           string_agg(DISTINCT form, '、' ORDER BY form)                      AS forms,
           sum(amount)                                          AS deposit_amount
    FROM wage_deposits
    WHERE status IN ('在存', '有效')
    GROUP BY project_code
),
drawn AS (
    SELECT DISTINCT project_code FROM wage_deposits WHERE status LIKE '%动用%'
),
complaints AS (
    SELECT h.project_code,
           count(*)             AS complaints,
           sum(c.workers)       AS workers,
           sum(c.amount_owed)   AS amount_owed,
           min(c.received_on)   AS first_complaint,
           max(c.received_on)   AS last_complaint
    FROM held AS h
    JOIN wage_complaints AS c ON c.project_code = h.project_code
    WHERE regexp_matches(coalesce(c.complaint_type, ''), $arrears_types)
      AND regexp_matches(coalesce(c.result, ''), $substantiated)
      AND c.received_on >= h.since
      AND (h.covered_until IS NULL OR c.received_on <= h.covered_until)
    GROUP BY h.project_code
)
SELECT
    h.project_code,
    h.project_name,
    h.contractor_name,
    h.contractor_uscc,
    h.since,
    h.forms,
    h.deposit_amount,
    c.complaints,
    c.workers,
    c.amount_owed,
    c.first_complaint,
    c.last_complaint
FROM complaints AS c
JOIN held AS h ON h.project_code = c.project_code
WHERE c.complaints >= $min_complaints
  AND h.project_code NOT IN (SELECT project_code FROM drawn)
