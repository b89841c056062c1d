-- 经营中的市场主体 × 自来水户号（无共同编号：按门牌分块，再比对名称相似度）× 月度账单。
-- 分块：只比较门牌（路/街/大道 + 号）相同的执照与户号，不做全量两两比较。
-- 名称比对前去掉括号内容（分店等）、开头的市/区县名和末尾的公司组织形式，只比“字号 + 行业”。
WITH biz AS (
    SELECT uscc, org_name, industry, address, established_on,
           regexp_extract(address_key, '([^区道镇乡]+(路|大道|街|巷)[0-9]+号)', 1) AS door,
           regexp_replace(regexp_replace(regexp_replace(org_name,
               '[（(][^）)]*[）)]', '', 'g'),
               '^([^市]{2,3}市)?([^区县]{2,3}[区县])?', ''),
               '(股份有限公司|有限责任公司|有限公司)$', '', 'g')            AS core
    FROM business_licences
    WHERE regexp_matches(coalesce(reg_status, ''), $active_status)
),
acc AS (
    SELECT account_no, holder_name, rate_type,
           regexp_extract(address_key, '([^区道镇乡]+(路|大道|街|巷)[0-9]+号)', 1) AS door,
           regexp_replace(regexp_replace(regexp_replace(holder_name,
               '[（(][^）)]*[）)]', '', 'g'),
               '^([^市]{2,3}市)?([^区县]{2,3}[区县])?', ''),
               '(股份有限公司|有限责任公司|有限公司)$', '', 'g')            AS core
    FROM water_accounts
    WHERE coalesce(status, '') NOT LIKE '%销户%'
),
pairs AS (
    SELECT b.uscc, b.org_name, b.industry, b.address, b.established_on,
           a.account_no, a.holder_name, a.rate_type,
           org_sim(b.core, a.core) AS name_sim
    FROM biz AS b
    JOIN acc AS a ON a.door = b.door
    WHERE b.door <> ''
      AND org_sim(b.core, a.core) >= $min_name_sim
),
last_period AS (
    SELECT strftime(strptime(max(bill_period) || '01', '%Y%m%d') - to_months($window_months - 1), '%Y%m') AS first_in_window
    FROM water_bills
),
months AS (
    SELECT p.*, w.bill_period, w.usage_m3
    FROM pairs AS p
    JOIN water_bills AS w ON w.account_no = p.account_no
    CROSS JOIN last_period AS lp
    WHERE w.bill_period >= lp.first_in_window
      AND w.bill_period >= coalesce(strftime(p.established_on, '%Y%m'), '000000')
)
SELECT
    uscc,
    any_value(org_name)                                       AS org_name,
    any_value(industry)                                       AS industry,
    any_value(address)                                        AS address,
    min(account_no)                                           AS account_no,
    string_agg(DISTINCT account_no, '、' ORDER BY account_no) AS accounts,
    string_agg(DISTINCT holder_name, '、' ORDER BY holder_name)                    AS holder_names,
    round(max(name_sim), 2)                                   AS name_sim,
    count(DISTINCT bill_period)                               AS months,
    count(DISTINCT bill_period) FILTER (WHERE usage_m3 = 0)   AS zero_months,
    count(DISTINCT bill_period) FILTER (WHERE rate_type LIKE '居民%') AS residential_months
FROM months
GROUP BY uscc
HAVING count(DISTINCT bill_period) FILTER (WHERE usage_m3 = 0) >= $min_zero_months
    OR count(DISTINCT bill_period) FILTER (WHERE rate_type LIKE '居民%') >= $min_zero_months
