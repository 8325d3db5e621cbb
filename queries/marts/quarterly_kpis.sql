-- quarterly_kpis: the headline KPIs of every scope (the union, each federal
-- district, each regional organization) quarter by quarter, for the
-- monitoring the decree asks for every quarter (item 4.2).
--
-- A quarter ends on 1 January, 1 April, 1 July or 1 October and is
-- represented by the snapshot nearest before its end (quarter_points), so
-- quarters compare like with like; the quarter D falls in by D itself
-- (complete = false while it runs). as_of is D on every row, as in every
-- mart (`reestr sql --as-of D` keeps them all); the representing snapshot's
-- date is snapshot_as_of (D for D's quarter). Changes are to the quarter before
-- (*_change_quarter) and to the same quarter a year before (*_change_year):
-- counts as differences, percentages in percentage points; null when that
-- quarter has no snapshot or either value is null. D's quarter and the twelve
-- before it are kept (the changes still reach a year further back); older
-- quarters stay in the marts of older dates.
--
-- The history is history_kpis: past_history_kpis (registered by compute
-- with the dates before D that can represent a quarter) and D's own rows,
-- mart_history_kpis. A date recomputed later counts as
-- recomputed: its partition is replaced, and the next compute reads it.
WITH history AS (
    SELECT
        as_of, scope, federal_district, region_code, members, members_official, coverage_pct,
        primary_auto_reports_pct, joined_online, joined_online_pct, profcards, cards_issued_pct
    FROM past_history_kpis
    WHERE as_of < (SELECT d FROM params)
    UNION ALL
    SELECT
        as_of, scope, federal_district, region_code, members, members_official, coverage_pct,
        primary_auto_reports_pct, joined_online, joined_online_pct, profcards, cards_issued_pct
    FROM mart_history_kpis
),
points AS (
    SELECT q.quarter_end, h.*, scope || ':' || coalesce(region_code, federal_district, '') AS scope_key
    FROM quarter_points q
    JOIN history h ON h.as_of = q.as_of
),
result AS (
    SELECT
        p.d AS as_of,
        now.quarter_end,
        CAST(extract(year FROM now.quarter_end - INTERVAL '1 day') AS BIGINT) AS quarter_year,
        CAST(extract(quarter FROM now.quarter_end - INTERVAL '1 day') AS BIGINT) AS quarter,
        now.as_of AS snapshot_as_of,
        now.quarter_end <= p.d AS complete,
        CAST(now.scope AS VARCHAR) AS scope,
        now.federal_district,
        now.region_code,
        CAST(now.members AS BIGINT) AS members,
        CAST(now.members - q.members AS BIGINT) AS members_change_quarter,
        CAST(now.members - y.members AS BIGINT) AS members_change_year,
        CAST(now.members_official AS BIGINT) AS members_official,
        now.coverage_pct,
        now.coverage_pct - q.coverage_pct AS coverage_pct_change_quarter,
        now.coverage_pct - y.coverage_pct AS coverage_pct_change_year,
        now.primary_auto_reports_pct,
        now.primary_auto_reports_pct - q.primary_auto_reports_pct AS primary_auto_reports_pct_change_quarter,
        now.primary_auto_reports_pct - y.primary_auto_reports_pct AS primary_auto_reports_pct_change_year,
        CAST(now.joined_online AS BIGINT) AS joined_online,
        CAST(now.joined_online - q.joined_online AS BIGINT) AS joined_online_change_quarter,
        CAST(now.joined_online - y.joined_online AS BIGINT) AS joined_online_change_year,
        now.joined_online_pct,
        CAST(now.profcards AS BIGINT) AS profcards,
        CAST(now.profcards - q.profcards AS BIGINT) AS profcards_change_quarter,
        CAST(now.profcards - y.profcards AS BIGINT) AS profcards_change_year,
        now.cards_issued_pct,
        now.cards_issued_pct - q.cards_issued_pct AS cards_issued_pct_change_quarter,
        now.cards_issued_pct - y.cards_issued_pct AS cards_issued_pct_change_year
    FROM points now
    CROSS JOIN params p
    LEFT JOIN points q
        ON q.scope_key = now.scope_key AND q.quarter_end = CAST(now.quarter_end - INTERVAL '3 months' AS DATE)
    LEFT JOIN points y
        ON y.scope_key = now.scope_key AND y.quarter_end = CAST(now.quarter_end - INTERVAL '12 months' AS DATE)
    WHERE now.quarter_end >= CAST(
        date_trunc('quarter', p.d - INTERVAL '1 day') + INTERVAL '3 months' - INTERVAL '36 months' AS DATE)
)
SELECT * FROM result
ORDER BY CASE scope WHEN 'national' THEN 0 WHEN 'district' THEN 1 ELSE 2 END,
    region_code NULLS FIRST, federal_district NULLS FIRST, quarter_end;
