-- 多步模型：先由 professional_lending 从民事裁判文书中找出职业放贷人（其线索即本模型的输入），
-- 再与公职人员名册按身份证号碰撞：在编公职人员从事职业放贷，移送纪检监察机关。
SELECT
    p.plaintiff_id   AS id_number,
    p.plaintiff_name AS person_name,
    s.employer,
    s.post,
    p.suits,
    p.by_notice,
    p.window_start,
    p.window_end,
    p._clue_id       AS lending_clue
FROM professional_lending AS p
JOIN public_servants AS s
  ON s.id_number = p.plaintiff_id
