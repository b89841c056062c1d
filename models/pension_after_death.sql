-- 死亡登记 × 养老金发放：死亡日期之后（不含当日）仍有发放记录的人员，按身份证号关联。
WITH deaths AS (
    SELECT id_number, any_value(person_name) AS person_name, min(death_date) AS death_date
    FROM death_registrations
    WHERE id_number IS NOT NULL AND death_date IS NOT NULL
    GROUP BY id_number
)
SELECT
    d.id_number,
    d.person_name,
    d.death_date,
    count(*)                                 AS payments,
    sum(p.amount)                            AS total_paid,
    min(p.paid_on)                           AS first_paid_after,
    max(p.paid_on)                           AS last_paid,
    string_agg(DISTINCT p.scheme, '、' ORDER BY p.scheme)      AS schemes
FROM deaths AS d
JOIN pension_payments AS p
  ON p.id_number = d.id_number
 AND p.paid_on > d.death_date
GROUP BY d.id_number, d.person_name, d.death_date
HAVING sum(p.amount) >= $min_amount
