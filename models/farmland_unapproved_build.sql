-- 卫片图斑 × 永久基本农田 × 用地批准范围，按图形叠加：建设类图斑与永久基本农田重叠超过阈值面积，
-- 而监测时没有有效的批准范围覆盖图斑（没有批准、先建后批、临时用地过期、或只覆盖一部分）。
-- geo_cells 把图形分到 200 米网格里，只比较同一网格中的图形对，不做全量两两比较。
WITH builds AS (
    SELECT * FROM patch_polygons
    WHERE regexp_matches(coalesce(change_type, ''), $construction_types)
),
b_cells AS (SELECT patch_id, unnest(geo_cells(shape, 200)) AS cell FROM builds),
f_cells AS (SELECT parcel_id, unnest(geo_cells(shape, 200)) AS cell FROM farmland_polygons),
a_cells AS (SELECT approval_no, unnest(geo_cells(shape, 200)) AS cell FROM approval_polygons),
near_farmland AS (SELECT DISTINCT b.patch_id, f.parcel_id FROM b_cells b JOIN f_cells f USING (cell)),
on_farmland AS (
    SELECT n.patch_id,
           sum(geo_overlap_area(b.shape, f.shape)) AS overlap_m2,
           string_agg(f.parcel_id, '、' ORDER BY f.parcel_id) AS parcels,
           any_value(f.township) AS township,
           any_value(f.village) AS village
    FROM near_farmland n
    JOIN builds b USING (patch_id)
    JOIN farmland_polygons f USING (parcel_id)
    WHERE geo_intersects(b.shape, f.shape)
    GROUP BY n.patch_id
    HAVING sum(geo_overlap_area(b.shape, f.shape)) > $min_overlap_m2
),
near_approval AS (
    SELECT DISTINCT b.patch_id, a.approval_no FROM b_cells b JOIN a_cells a USING (cell)
),
touching AS (
    SELECT n.patch_id, a.*, geo_overlap_share(b.shape, a.shape) AS share
    FROM near_approval n
    JOIN builds b USING (patch_id)
    JOIN approval_polygons a USING (approval_no)
    WHERE geo_intersects(b.shape, a.shape)
),
covered AS (
    SELECT t.patch_id FROM touching t JOIN builds b USING (patch_id)
    WHERE t.share >= $covered_share
      AND t.approved_on <= b.detected_on
      AND (t.valid_to IS NULL OR t.valid_to >= b.detected_on)
)
SELECT
    b.patch_id,
    b.change_type,
    b.detected_on,
    coalesce(o.township, '') AS township,
    coalesce(o.village, '')  AS village,
    round(o.overlap_m2, 1)   AS overlap_m2,
    o.parcels,
    coalesce((SELECT string_agg(t.approval_no || '（' || coalesce(t.approval_type, '') || '，'
                                || strftime(t.approved_on, '%Y-%m-%d') || '，覆盖'
                                || CAST(round(100 * t.share) AS INTEGER) || '%）', '、'
                                ORDER BY t.approved_on)
              FROM touching t WHERE t.patch_id = b.patch_id), '无') AS approvals
FROM builds b
JOIN on_farmland o USING (patch_id)
WHERE b.patch_id NOT IN (SELECT patch_id FROM covered)
