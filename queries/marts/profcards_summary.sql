-- profcards_summary: the PROFCARDS sums the briefing states, one row per span
-- with purchases (a span without any has no row), summed here so that money
-- stays Decimal(18, 2):
-- - year_to_period: the months of P's year before P (the decree's "9 months"
--   at P = 1 October; none at P = 1 January), `months` of them;
-- - year_to_period_prev: the same months a year earlier;
-- - all: every purchase up to D (the sum of profcards_yearly's whole years).
-- Purchases after D are left out, as in profcards_monthly. purchases_change
-- and purchases_change_pct compare year_to_period with year_to_period_prev
-- (null on other rows, and without a year_to_period_prev row).
WITH purchases AS (
    SELECT
        pp.member_id,
        pp.amount,
        pp.cashback,
        CAST(date_part('year', pp.purchased_on) AS BIGINT) AS year,
        CAST(date_part('month', pp.purchased_on) AS BIGINT) AS month
    FROM profcards_purchases pp
    CROSS JOIN params p
    WHERE pp.purchased_on <= p.d
),
period AS (
    SELECT
        CAST(date_part('year', p.p) AS BIGINT) AS year,
        CAST(date_part('month', p.p) AS BIGINT) - 1 AS months
    FROM params p
),
spans AS (
    SELECT 'year_to_period' AS span, CAST(1 AS BIGINT) AS sort_order, t.year, t.months, u.member_id, u.amount, u.cashback
    FROM purchases u
    CROSS JOIN period t
    WHERE u.year = t.year AND u.month <= t.months
    UNION ALL
    SELECT 'year_to_period_prev', CAST(2 AS BIGINT), t.year - 1, t.months, u.member_id, u.amount, u.cashback
    FROM purchases u
    CROSS JOIN period t
    WHERE u.year = t.year - 1 AND u.month <= t.months
    UNION ALL
    SELECT 'all', CAST(3 AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), u.member_id, u.amount, u.cashback
    FROM purchases u
),
sums AS (
    SELECT
        span,
        sort_order,
        year,
        months,
        count(*) AS purchases,
        count(DISTINCT member_id) AS buyers,
        sum(amount) AS amount,
        sum(cashback) AS cashback
    FROM spans
    GROUP BY span, sort_order, year, months
),
earlier AS (
    SELECT purchases AS purchases_before FROM sums WHERE span = 'year_to_period_prev'
)
SELECT
    p.d AS as_of,
    s.span,
    s.year,
    s.months,
    s.purchases,
    s.buyers,
    CAST(s.amount AS DECIMAL(18, 2)) AS amount,
    CAST(s.cashback AS DECIMAL(18, 2)) AS cashback,
    CASE WHEN s.amount > 0 THEN 100.0 * CAST(s.cashback AS DOUBLE) / CAST(s.amount AS DOUBLE) END AS cashback_pct,
    CASE WHEN s.span = 'year_to_period' THEN s.purchases - b.purchases_before END AS purchases_change,
    CASE WHEN s.span = 'year_to_period' AND b.purchases_before > 0
         THEN 100.0 * (s.purchases - b.purchases_before) / b.purchases_before END AS purchases_change_pct
FROM sums s
CROSS JOIN params p
LEFT JOIN earlier b ON true
ORDER BY s.sort_order;
