-- 卫片图斑 × 耕地地块 × 用地审批：永久基本农田地块上监测到建设类变化，而监测时该地块没有有效的用地批准
-- （没有批准、批准晚于监测日期即“先建后批”、或临时用地批准已过期）。按地块编号关联。
WITH builds AS (
    SELECT s.parcel_id, s.patch_id, s.detected_on, s.change_type, s.area_m2
    FROM satellite_patches AS s
    JOIN farmland_parcels AS f ON f.parcel_id = s.parcel_id
    WHERE f.basic_farmland
      AND regexp_matches(coalesce(s.change_type, ''), $construction_types)
),
unapproved AS (
    SELECT b.*
    FROM builds AS b
    WHERE NOT EXISTS (
        SELECT 1
        FROM land_approvals AS a
        WHERE a.parcel_id = b.parcel_id
          AND a.approved_on <= b.detected_on
          AND (a.valid_to IS NULL OR a.valid_to >= b.detected_on)
    )
),
later AS (
    SELECT a.parcel_id,
           string_agg(a.approval_no || '（' || coalesce(a.approval_type, '') || '，' || strftime(a.approved_on, '%Y-%m-%d') || '）', '、' ORDER BY a.approved_on) AS approvals
    FROM land_approvals AS a
    GROUP BY a.parcel_id
)
SELECT
    u.parcel_id,
    any_value(f.township)                                    AS township,
    any_value(f.village)                                     AS village,
    any_value(f.land_class)                                  AS land_class,
    count(*)                                                 AS patches,
    string_agg(u.patch_id, '、' ORDER BY u.detected_on)      AS patch_ids,
    string_agg(DISTINCT u.change_type, '、' ORDER BY u.change_type)                 AS change_types,
    min(u.detected_on)                                       AS first_detected,
    round(sum(u.area_m2), 1)                                 AS area_m2,
    coalesce(any_value(l.approvals), '无')                   AS approvals
FROM unapproved AS u
JOIN farmland_parcels AS f ON f.parcel_id = u.parcel_id
LEFT JOIN later AS l ON l.parcel_id = u.parcel_id
GROUP BY u.parcel_id
