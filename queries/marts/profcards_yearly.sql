-- profcards_yearly: PROFCARDS purchases per calendar year (marts.md
-- "profcards_yearly"), two rows per year with purchases:
-- - ytd = false: the whole year (the year of D up to D);
-- - ytd = true: 1 January up to the day and month of D in that year, so any
--   year compares like for like with the current one (D on 29 February: up to
--   28 February in other years).
-- period_start and period_end say which days a row covers. Purchases after D
-- are left out, as in profcards_monthly; a year's ytd row has zeros when it
-- had no purchases in that window. cashback_pct is null when amount is 0.
WITH purchases AS (
    SELECT
        pp.member_id,
        pp.amount,
        pp.cashback,
        CAST(date_part('year', pp.purchased_on) AS BIGINT) AS year,
        -- Cast first: some engines (polars) give month and day as 8-bit
        -- integers, which overflow at ×100.
        CAST(date_part('month', pp.purchased_on) AS BIGINT) * 100 + CAST(date_part('day', pp.purchased_on) AS BIGINT)
            <= CAST(date_part('month', p.d) AS BIGINT) * 100 + CAST(date_part('day', p.d) AS BIGINT) AS in_ytd
    FROM profcards_purchases pp
    CROSS JOIN params p
    WHERE pp.purchased_on <= p.d
),
years AS (
    SELECT
        year,
        count(*) AS purchases,
        count(DISTINCT member_id) AS buyers,
        sum(amount) AS amount,
        sum(cashback) AS cashback,
        count(*) FILTER (WHERE in_ytd) AS ytd_purchases,
        count(DISTINCT CASE WHEN in_ytd THEN member_id END) AS ytd_buyers,
        sum(CASE WHEN in_ytd THEN amount END) AS ytd_amount,
        sum(CASE WHEN in_ytd THEN cashback END) AS ytd_cashback
    FROM purchases
    GROUP BY year
),
year_rows AS (
    -- Dates are built as text and cast (no make_date): the same file runs in
    -- DataFusion, DuckDB and polars.
    SELECT
        y.year,
        false AS ytd,
        CASE
            WHEN y.year = date_part('year', p.d) THEN p.d
            ELSE CAST(CAST(y.year AS VARCHAR) || '-12-31' AS DATE)
        END AS period_end,
        y.purchases,
        y.buyers,
        y.amount,
        y.cashback
    FROM years y
    CROSS JOIN params p
    UNION ALL
    SELECT
        y.year,
        true,
        CAST(
            CAST(y.year AS VARCHAR) || CASE
                WHEN substr(CAST(p.d AS VARCHAR), 5, 6) = '-02-29'
                 AND NOT (y.year % 4 = 0 AND (y.year % 100 <> 0 OR y.year % 400 = 0)) THEN '-02-28'
                ELSE substr(CAST(p.d AS VARCHAR), 5, 6)
            END
        AS DATE),
        y.ytd_purchases,
        y.ytd_buyers,
        coalesce(y.ytd_amount, 0),
        coalesce(y.ytd_cashback, 0)
    FROM years y
    CROSS JOIN params p
)
SELECT
    p.d AS as_of,
    r.year,
    r.ytd,
    CAST(CAST(r.year AS VARCHAR) || '-01-01' AS DATE) AS period_start,
    r.period_end,
    r.purchases,
    r.buyers,
    CAST(r.amount AS DECIMAL(18, 2)) AS amount,
    CAST(r.cashback AS DECIMAL(18, 2)) AS cashback,
    CASE WHEN r.amount > 0 THEN 100.0 * CAST(r.cashback AS DOUBLE) / CAST(r.amount AS DOUBLE) END AS cashback_pct
FROM year_rows r
CROSS JOIN params p
ORDER BY r.year, r.ytd;
