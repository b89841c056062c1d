-- 医疗机构/动物诊疗机构登记 × 医疗废物处置合同 × 收运联单：正常执业（已过新设宽限期）的机构，
-- 截止日没有有效处置合同，或合同有效但最近一次收运距截止日超过规定天数。按统一社会信用代码关联。
WITH as_of AS (
    SELECT coalesce(
        try_cast(nullif($as_of, '') AS DATE),
        greatest((SELECT max(picked_on) FROM medical_waste_pickups),
                 (SELECT max(signed_on) FROM medical_waste_contracts),
                 (SELECT max(registered_on) FROM clinic_registrations))
    ) AS d
),
clinics AS (
    SELECT c.*, a.d AS as_of
    FROM clinic_registrations AS c
    CROSS JOIN as_of AS a
    WHERE regexp_matches(coalesce(c.status, ''), $active_status)
      AND (c.registered_on IS NULL OR c.registered_on <= a.d - CAST($grace_days AS INTEGER))
),
valid AS (
    SELECT k.clinic_uscc, min(k.start_on) AS valid_from, max(k.end_on) AS valid_until
    FROM medical_waste_contracts AS k
    CROSS JOIN as_of AS a
    WHERE k.start_on <= a.d AND (k.end_on IS NULL OR k.end_on >= a.d)
    GROUP BY k.clinic_uscc
),
last_contract AS (
    SELECT clinic_uscc, max(end_on) AS last_end FROM medical_waste_contracts GROUP BY clinic_uscc
),
last_pickup AS (
    SELECT clinic_uscc, max(picked_on) AS last_pickup, count(*) AS pickups
    FROM medical_waste_pickups GROUP BY clinic_uscc
)
SELECT
    c.uscc,
    c.clinic_name,
    c.clinic_type,
    c.licence_no,
    c.address,
    c.registered_on,
    lc.last_end                                       AS contract_end,
    p.last_pickup,
    CASE
        WHEN v.clinic_uscc IS NULL AND lc.last_end IS NULL THEN '从未签订医疗废物处置合同'
        WHEN v.clinic_uscc IS NULL THEN '医疗废物处置合同已于' || strftime(lc.last_end, '%Y-%m-%d') || '到期，未续签'
        WHEN p.last_pickup IS NULL THEN '处置合同有效，但从未有收运记录'
        ELSE '处置合同有效，但最近一次收运在' || strftime(p.last_pickup, '%Y-%m-%d') || '，已超过' || CAST($max_gap_days AS VARCHAR) || '天'
    END                                               AS finding,
    c.as_of - coalesce(p.last_pickup, c.registered_on, c.as_of - 365) AS days_without_pickup
FROM clinics AS c
LEFT JOIN valid AS v ON v.clinic_uscc = c.uscc
LEFT JOIN last_contract AS lc ON lc.clinic_uscc = c.uscc
LEFT JOIN last_pickup AS p ON p.clinic_uscc = c.uscc
WHERE v.clinic_uscc IS NULL
   OR coalesce(p.last_pickup, v.valid_from) < c.as_of - CAST($max_gap_days AS INTEGER)
