-- quarterly_quality: every data-quality check of every scope (the union, each
-- federal district, each regional organization) quarter by quarter, with its
-- change since the quarter before and since the same quarter a year before,
-- and whether that is an improvement — the quarterly monitoring of the
-- registry's quality the decree asks for (items 4.2, 6).
--
-- Quarters are quarter_points' (the snapshot nearest before each quarter
-- end, D for the quarter still running: complete = false), D's quarter and
-- the twelve before it kept, as in quarterly_kpis: as_of is D on every row,
-- the representing snapshot's date snapshot_as_of. The history
-- is data_quality: past_data_quality (registered by compute: the latest
-- computed date of each quarter before D, held dates left out) and D's own
-- mart_data_quality. A check a date did not have yet, or a scope with no row
-- on a date, has no value there, so its changes are null.
--
-- Changes: affected as a difference, affected_pct in percentage points.
-- trend_quarter and trend_year: 'improved' when the check got better,
-- 'worsened' when worse, 'unchanged', null without both values. Better is a
-- lower affected_pct for counted checks (organizations, members), and for a
-- gap check a smaller gap either way (abs(affected)); a counted check moves
-- only by more than 0.05 points (what the pages show to a tenth of a point).
WITH history AS (
    SELECT as_of, "check", scope, federal_district, region_code, unit, affected, population, affected_pct
    FROM past_data_quality
    WHERE as_of < (SELECT d FROM params)
    UNION ALL
    SELECT as_of, "check", scope, federal_district, region_code, unit, affected, population, affected_pct
    FROM mart_data_quality
),
points AS (
    SELECT
        q.quarter_end,
        h.*,
        h.scope || ':' || coalesce(h.region_code, h.federal_district, '') || ':' || h."check" AS key,
        -- How bad the check stands: what an improvement lowers.
        CASE WHEN h.unit = 'gap' THEN CAST(abs(h.affected) AS DOUBLE) ELSE h.affected_pct END AS badness,
        CASE WHEN h.unit = 'gap' THEN 0.0 ELSE 0.05 END AS tolerance
    FROM quarter_points q
    JOIN history h ON h.as_of = q.as_of
),
compared AS (
    SELECT
        now.*,
        q.affected AS affected_prev_quarter,
        q.affected_pct AS affected_pct_prev_quarter,
        q.badness AS badness_quarter,
        y.affected AS affected_year_before,
        y.affected_pct AS affected_pct_year_before,
        y.badness AS badness_year
    FROM points now
    LEFT JOIN points q ON q.key = now.key AND q.quarter_end = CAST(now.quarter_end - INTERVAL '3 months' AS DATE)
    LEFT JOIN points y ON y.key = now.key AND y.quarter_end = CAST(now.quarter_end - INTERVAL '12 months' AS DATE)
),
result AS (
    SELECT
        p.d AS as_of,
        c.quarter_end,
        CAST(extract(year FROM c.quarter_end - INTERVAL '1 day') AS BIGINT) AS quarter_year,
        CAST(extract(quarter FROM c.quarter_end - INTERVAL '1 day') AS BIGINT) AS quarter,
        c.as_of AS snapshot_as_of,
        c.quarter_end <= p.d AS complete,
        c."check",
        CAST(c.scope AS VARCHAR) AS scope,
        c.federal_district,
        c.region_code,
        c.unit,
        CAST(c.affected AS BIGINT) AS affected,
        CAST(c.population AS BIGINT) AS population,
        c.affected_pct,
        CAST(c.affected_prev_quarter AS BIGINT) AS affected_prev_quarter,
        c.affected_pct_prev_quarter,
        CAST(c.affected - c.affected_prev_quarter AS BIGINT) AS affected_change_quarter,
        c.affected_pct - c.affected_pct_prev_quarter AS affected_pct_change_quarter,
        CAST(c.affected_year_before AS BIGINT) AS affected_year_before,
        c.affected_pct_year_before,
        CAST(c.affected - c.affected_year_before AS BIGINT) AS affected_change_year,
        c.affected_pct - c.affected_pct_year_before AS affected_pct_change_year,
        CAST(CASE
            WHEN c.badness IS NULL OR c.badness_quarter IS NULL THEN NULL
            WHEN c.badness < c.badness_quarter - c.tolerance THEN 'improved'
            WHEN c.badness > c.badness_quarter + c.tolerance THEN 'worsened'
            ELSE 'unchanged'
        END AS VARCHAR) AS trend_quarter,
        CAST(CASE
            WHEN c.badness IS NULL OR c.badness_year IS NULL THEN NULL
            WHEN c.badness < c.badness_year - c.tolerance THEN 'improved'
            WHEN c.badness > c.badness_year + c.tolerance THEN 'worsened'
            ELSE 'unchanged'
        END AS VARCHAR) AS trend_year
    FROM compared c
    CROSS JOIN params p
    WHERE c.quarter_end >= CAST(
        date_trunc('quarter', p.d - INTERVAL '1 day') + INTERVAL '3 months' - INTERVAL '36 months' AS DATE)
)
SELECT * FROM result
ORDER BY CASE scope WHEN 'national' THEN 0 WHEN 'district' THEN 1 ELSE 2 END,
    region_code NULLS FIRST, federal_district NULLS FIRST, "check", quarter_end;
