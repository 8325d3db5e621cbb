-- profcards_monthly: PROFCARDS purchases per calendar month (marts.md
-- "profcards_monthly"), one row per month with purchases, oldest first.
-- Purchases dated after D are left out (a snapshot cannot know them); every
-- purchase counts, also one by a member who has since left. Money is
-- Decimal(18, 2) rubles, summed exactly; cashback_pct is the Float64 ratio.
SELECT
    p.d AS as_of,
    CAST(date_trunc('month', pp.purchased_on) AS DATE) AS month,
    count(*) AS purchases,
    count(DISTINCT pp.member_id) AS buyers,
    CAST(sum(pp.amount) AS DECIMAL(18, 2)) AS amount,
    CAST(sum(pp.cashback) AS DECIMAL(18, 2)) AS cashback,
    100.0 * CAST(sum(pp.cashback) AS DOUBLE) / CAST(sum(pp.amount) AS DOUBLE) AS cashback_pct
FROM profcards_purchases pp
CROSS JOIN params p
WHERE pp.purchased_on <= p.d
GROUP BY p.d, CAST(date_trunc('month', pp.purchased_on) AS DATE)
ORDER BY month;
