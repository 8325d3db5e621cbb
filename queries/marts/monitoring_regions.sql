-- monitoring_regions: one row per regional organization of the reference
-- list: how many of its data-quality checks improved and worsened over D's
-- quarter so far (against the quarter before) and over the year (against the
-- same quarter a year before), as quarterly_quality judges them, and its
-- place among the regions by the balance (improved − worsened; rank 1 = most
-- improved; ties share a place). Without an earlier quarter the counts are 0
-- and checks_compared_* says so.
WITH latest AS (
    SELECT region_code, trend_quarter, trend_year, quarter_end
    FROM mart_quarterly_quality
    CROSS JOIN params p
    WHERE scope = 'region' AND snapshot_as_of = p.d
),
counted AS (
    SELECT
        g.region_code,
        g.federal_district,
        count(l.trend_quarter) AS checks_compared_quarter,
        count(*) FILTER (WHERE l.trend_quarter = 'improved') AS checks_improved_quarter,
        count(*) FILTER (WHERE l.trend_quarter = 'worsened') AS checks_worsened_quarter,
        count(l.trend_year) AS checks_compared_year,
        count(*) FILTER (WHERE l.trend_year = 'improved') AS checks_improved_year,
        count(*) FILTER (WHERE l.trend_year = 'worsened') AS checks_worsened_year
    FROM regions g
    LEFT JOIN latest l ON l.region_code = g.region_code
    GROUP BY g.region_code, g.federal_district
),
balanced AS (
    SELECT
        *,
        checks_improved_quarter - checks_worsened_quarter AS balance_quarter,
        checks_improved_year - checks_worsened_year AS balance_year
    FROM counted
)
SELECT
    p.d AS as_of,
    CAST(date_trunc('quarter', p.d - INTERVAL '1 day') + INTERVAL '3 months' AS DATE) AS quarter_end,
    b.region_code,
    b.federal_district,
    CAST(b.checks_compared_quarter AS BIGINT) AS checks_compared_quarter,
    CAST(b.checks_improved_quarter AS BIGINT) AS checks_improved_quarter,
    CAST(b.checks_worsened_quarter AS BIGINT) AS checks_worsened_quarter,
    CAST(b.balance_quarter AS BIGINT) AS balance_quarter,
    CAST(rank() OVER (ORDER BY b.balance_quarter DESC) AS BIGINT) AS balance_quarter_rank,
    CAST(b.checks_compared_year AS BIGINT) AS checks_compared_year,
    CAST(b.checks_improved_year AS BIGINT) AS checks_improved_year,
    CAST(b.checks_worsened_year AS BIGINT) AS checks_worsened_year,
    CAST(b.balance_year AS BIGINT) AS balance_year,
    CAST(rank() OVER (ORDER BY b.balance_year DESC) AS BIGINT) AS balance_year_rank
FROM balanced b
CROSS JOIN params p
ORDER BY b.region_code;
