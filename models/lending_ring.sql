-- 职业放贷团伙：network 是按 network.edges（共用代理人、共用电话）连成的关联网，每个原告一行，
-- 带所在关联网的编号 component、人数 size、成员 members 和关联关系 links。
SELECT
    n.component,
    any_value(n.size)                                            AS size,
    string_agg(DISTINCT s.plaintiff, '、' ORDER BY s.plaintiff)  AS plaintiffs,
    any_value(n.members)                                         AS members,
    any_value(n.links)                                           AS links,
    count(*)                                                     AS suits,
    sum(s.amount)                                                AS total_amount,
    min(s.filed_on)                                              AS first_filed,
    max(s.filed_on)                                              AS last_filed
FROM network AS n
JOIN lending_suits AS s ON s.plaintiff_id = n.node
GROUP BY n.component
HAVING any_value(n.size) >= $min_plaintiffs AND count(*) >= $min_suits
