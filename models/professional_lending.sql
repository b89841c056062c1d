-- 民事裁判文书：同一原告十二个月内提起民间借贷诉讼不少于 $min_suits 件，且多数公告送达、缺席判决
-- （职业放贷 / 虚假诉讼线索）。文书中身份证号多为隐名（339***********1234），按原告姓名归并，
-- 有完整身份证号的文书给出证件号。
WITH suits AS (
    SELECT party_name, party_id_number, case_no, judged_on,
           service = '公告送达' AS by_notice,
           attendance = '缺席'  AS in_absence
    FROM civil_judgments
    WHERE cause = '民间借贷纠纷' AND party_kind = '自然人'
      AND party_name IS NOT NULL AND judged_on IS NOT NULL
),
windows AS (   -- every suit opens a twelve-month window: the suits of that plaintiff inside it
    SELECT a.party_name, a.judged_on AS window_start,
           count(DISTINCT b.case_no)                                AS suits,
           count(DISTINCT b.case_no) FILTER (WHERE b.by_notice)     AS by_notice,
           count(DISTINCT b.case_no) FILTER (WHERE b.in_absence)    AS in_absence,
           max(b.judged_on)                                         AS window_end
    FROM suits a
    JOIN suits b
      ON b.party_name = a.party_name
     AND b.judged_on >= a.judged_on
     AND b.judged_on < a.judged_on + INTERVAL 12 MONTH
    GROUP BY a.party_name, a.judged_on
),
best AS (
    SELECT * FROM windows
    WHERE suits >= $min_suits
      AND by_notice >= $min_share * suits
      AND in_absence >= $min_share * suits
    QUALIFY row_number() OVER (PARTITION BY party_name ORDER BY suits DESC, window_start) = 1
)
SELECT
    coalesce(max(s.party_id_number), b.party_name) AS plaintiff_id,
    b.party_name                                   AS plaintiff_name,
    '民间借贷纠纷'                                 AS cause,
    b.suits, b.by_notice, b.in_absence,
    b.window_start, b.window_end,
    count(DISTINCT s.case_no)                      AS all_suits
FROM best b
JOIN suits s ON s.party_name = b.party_name
GROUP BY b.party_name, b.suits, b.by_notice, b.in_absence, b.window_start, b.window_end
