-- 刑事判决 × 食品经营许可证负责人 × 食品从业人员健康证明：因食品安全犯罪被判处有期徒刑以上刑罚的人员，
-- 仍是有效许可证的负责人，或判决生效后又办理了食品从业健康证明。按身份证号关联。
WITH as_of AS (
    SELECT coalesce(
        try_cast(nullif($as_of, '') AS DATE),
        greatest((SELECT max(issued_on) FROM food_licences),
                 (SELECT max(exam_on) FROM health_certificates),
                 (SELECT max(coalesce(effective_on, judged_on)) FROM court_judgments))
    ) AS d
),
convicted AS (
    SELECT id_number,
           any_value(defendant_name)                   AS person_name,
           min(coalesce(effective_on, judged_on))      AS effective_on,
           string_agg(DISTINCT charge, '、' ORDER BY charge)           AS charges,
           string_agg(DISTINCT penalty, '、' ORDER BY penalty)          AS penalties,
           string_agg(DISTINCT case_no, '、' ORDER BY case_no)          AS case_nos
    FROM court_judgments
    WHERE regexp_matches(coalesce(charge, ''), $food_crimes)
      AND regexp_matches(coalesce(penalty, ''), $custodial)
    GROUP BY id_number
),
licences AS (
    SELECT c.id_number,
           count(*) AS licences,
           string_agg(l.licence_no || '（' || coalesce(l.operator_name, '') || '）', '、' ORDER BY l.licence_no) AS what
    FROM convicted AS c
    JOIN food_licences AS l ON l.principal_id = c.id_number
    CROSS JOIN as_of AS a
    WHERE NOT regexp_matches(coalesce(l.status, ''), '注销|吊销|撤销')
      AND (l.valid_to IS NULL OR l.valid_to >= a.d)
    GROUP BY c.id_number
),
certificates AS (
    SELECT c.id_number,
           count(*) AS certificates,
           string_agg(h.cert_no || '（' || strftime(h.exam_on, '%Y-%m-%d') || '体检，' || coalesce(h.employer, '') || '）', '、' ORDER BY h.cert_no) AS what
    FROM convicted AS c
    JOIN health_certificates AS h ON h.id_number = c.id_number
    WHERE h.exam_on >= c.effective_on
      AND coalesce(h.category, '食品') LIKE '%食品%'
    GROUP BY c.id_number
)
SELECT
    c.id_number,
    c.person_name,
    c.charges,
    c.penalties,
    c.case_nos,
    c.effective_on,
    coalesce(l.licences, 0)      AS licences,
    coalesce(h.certificates, 0)  AS certificates,
    concat_ws('；',
        CASE WHEN l.licences > 0 THEN '现为有效食品经营许可证负责人：' || l.what END,
        CASE WHEN h.certificates > 0 THEN '判决生效后又办理食品从业健康证明：' || h.what END
    ) AS holdings
FROM convicted AS c
LEFT JOIN licences AS l ON l.id_number = c.id_number
LEFT JOIN certificates AS h ON h.id_number = c.id_number
WHERE coalesce(l.licences, 0) > 0 OR coalesce(h.certificates, 0) > 0
