-- regions: one row per regional organization of the reference list at D.
-- Implements marts.md "regions". A region with no rows in the snapshot still
-- has its row: counts 0, percentages null. members_official and the other
-- baseline columns are null for a region the official report (at B) lacks.
-- all_reported: every active primary (3/4/5-SP) and territorial (2-SP) org of
-- the region has a report for P in any mode, and there is at least one such
-- org. reports_3sp/4sp/5sp count primary orgs with an auto report on that
-- form, as in national. Year-on-year columns are null without C; with C a region with no
-- members then counts 0.
-- Beyond the contract:
-- - coverage_band from coverage_band_limits (the one place of the thresholds);
-- - coverage_pct_prev: coverage at C as C's own regions mart has it (members
--   at C over the official report latest on or before C, from C's snapshot);
--   coverage_unchanged: both coverages known and equal to the tenth of a
--   percent, as the decree counts "did not change" (null without C);
-- - joined_online_above_threshold: joined_online_pct above the national
--   mart's joined_online_threshold_pct (the decree's list);
-- - joined_online_active: more members on record who joined online than the
--   national mart's joined_online_active_members (item 3's list);
-- - coverage_above_threshold: coverage_pct above the national mart's
--   coverage_threshold_pct, 95 (item 3's list «свыше 95 %»); false without
--   a baseline;
-- - <kpi>_rank: 1 + the regions with a strictly higher percentage (ties share
--   a rank), null when the region's percentage is null;
-- - <kpi>_district_rank: the same among the regions of its federal district
--   (the district briefing ranks them, the regional summary names the place);
-- - district_regions: how many regional organizations its district has.
WITH m AS (
    SELECT * FROM member_counts
),
s AS (
    SELECT region_code, sum(members) AS members_official
    FROM baseline_stats
    GROUP BY region_code
),
org_reports AS (
    SELECT
        a.org_id,
        a.region_code,
        a.level,
        max(CASE WHEN a.level = 'primary' AND r.mode = 'auto' AND r.form IN ('3-SP', '4-SP', '5-SP') THEN 1 ELSE 0 END)
            AS auto_primary,
        max(CASE WHEN a.level = 'primary' AND r.mode = 'auto' AND r.form = '3-SP' THEN 1 ELSE 0 END) AS has_3sp,
        max(CASE WHEN a.level = 'primary' AND r.mode = 'auto' AND r.form = '4-SP' THEN 1 ELSE 0 END) AS has_4sp,
        max(CASE WHEN a.level = 'primary' AND r.mode = 'auto' AND r.form = '5-SP' THEN 1 ELSE 0 END) AS has_5sp,
        max(CASE WHEN (a.level = 'primary' AND r.form IN ('3-SP', '4-SP', '5-SP'))
                   OR (a.level = 'territorial' AND r.form = '2-SP') THEN 1 ELSE 0 END) AS reported
    FROM active_orgs a
    LEFT JOIN reports_for_period r ON r.org_id = a.org_id
    WHERE a.level IN ('primary', 'territorial')
    GROUP BY a.org_id, a.region_code, a.level
),
o AS (
    SELECT
        region_code,
        count(*) FILTER (WHERE level = 'primary') AS primary_orgs,
        CAST(sum(auto_primary) AS BIGINT) AS primary_auto_reports,
        CAST(sum(has_3sp) AS BIGINT) AS reports_3sp,
        CAST(sum(has_4sp) AS BIGINT) AS reports_4sp,
        CAST(sum(has_5sp) AS BIGINT) AS reports_5sp,
        count(*) FILTER (WHERE level = 'territorial') AS territorial_orgs,
        count(*) FILTER (WHERE level = 'territorial' AND reported = 1) AS territorial_reports,
        min(reported) AS every_org_reported
    FROM org_reports
    GROUP BY region_code
),
prev AS (
    SELECT region_code, members AS members_prev
    FROM prev_member_counts
),
prev_baseline AS (
    SELECT max(s.stats_as_of) AS b
    FROM official_stats_prev s
    CROSS JOIN params p
    WHERE s.stats_as_of <= p.c
),
prev_official AS (
    SELECT s.region_code, sum(s.members) AS members_official
    FROM official_stats_prev s
    JOIN prev_baseline pb ON s.stats_as_of = pb.b
    GROUP BY s.region_code
),
joined AS (
    SELECT
        p.d AS as_of,
        g.region_code,
        g.region_name,
        g.federal_district,
        coalesce(m.members, 0) AS members,
        s.members_official,
        CASE WHEN s.members_official > 0 THEN 100.0 * coalesce(m.members, 0) / s.members_official END AS coverage_pct,
        coalesce(m.working, 0) AS working,
        coalesce(m.students, 0) AS students,
        coalesce(m.pensioners, 0) AS pensioners,
        coalesce(m.category_missing, 0) AS category_missing,
        coalesce(o.primary_orgs, 0) AS primary_orgs,
        coalesce(o.primary_auto_reports, 0) AS primary_auto_reports,
        CASE WHEN o.primary_orgs > 0 THEN 100.0 * o.primary_auto_reports / o.primary_orgs END AS primary_auto_reports_pct,
        coalesce(o.reports_3sp, 0) AS reports_3sp,
        coalesce(o.reports_4sp, 0) AS reports_4sp,
        coalesce(o.reports_5sp, 0) AS reports_5sp,
        coalesce(o.territorial_orgs, 0) AS territorial_orgs,
        coalesce(o.territorial_reports, 0) AS territorial_reports,
        CASE WHEN o.territorial_orgs > 0 THEN 100.0 * o.territorial_reports / o.territorial_orgs END AS territorial_reports_pct,
        coalesce(o.every_org_reported = 1, false) AS all_reported,
        coalesce(m.joined_online, 0) AS joined_online,
        CASE WHEN m.members > 0 THEN 100.0 * m.joined_online / m.members END AS joined_online_pct,
        coalesce(m.profcards, 0) AS profcards,
        CASE WHEN m.members > 0 THEN 100.0 * m.profcards / m.members END AS profcards_pct,
        coalesce(m.profcards_app, 0) AS profcards_app,
        coalesce(m.cards_issued, 0) AS cards_issued,
        CASE WHEN m.members > 0 THEN 100.0 * m.cards_issued / m.members END AS cards_issued_pct,
        coalesce(m.cards_refused, 0) AS cards_refused,
        CASE WHEN p.c IS NOT NULL THEN coalesce(prev.members_prev, 0) END AS members_prev,
        CASE WHEN p.c IS NOT NULL AND po.members_official > 0
             THEN 100.0 * coalesce(prev.members_prev, 0) / po.members_official END AS coverage_pct_prev
    FROM regions g
    CROSS JOIN params p
    LEFT JOIN m ON m.region_code = g.region_code
    LEFT JOIN s ON s.region_code = g.region_code
    LEFT JOIN o ON o.region_code = g.region_code
    LEFT JOIN prev ON prev.region_code = g.region_code
    LEFT JOIN prev_official po ON po.region_code = g.region_code
),
banded AS (
    SELECT j.*, b.band AS coverage_band
    FROM joined j
    LEFT JOIN coverage_band_limits b
        ON (b.lower_pct IS NULL OR j.coverage_pct >= b.lower_pct)
       AND (b.upper_pct IS NULL OR j.coverage_pct < b.upper_pct)
),
ranked AS (
    SELECT
        b.*,
        CAST(rank() OVER (ORDER BY coverage_pct DESC NULLS LAST) AS BIGINT) AS coverage_rank_any,
        CAST(rank() OVER (ORDER BY primary_auto_reports_pct DESC NULLS LAST) AS BIGINT) AS auto_reports_rank_any,
        CAST(rank() OVER (ORDER BY joined_online_pct DESC NULLS LAST) AS BIGINT) AS joined_online_rank_any,
        CAST(rank() OVER (ORDER BY profcards_pct DESC NULLS LAST) AS BIGINT) AS profcards_rank_any,
        CAST(rank() OVER (ORDER BY cards_issued_pct DESC NULLS LAST) AS BIGINT) AS cards_issued_rank_any,
        CAST(rank() OVER (PARTITION BY federal_district ORDER BY coverage_pct DESC NULLS LAST) AS BIGINT) AS coverage_district_rank_any,
        CAST(rank() OVER (PARTITION BY federal_district ORDER BY primary_auto_reports_pct DESC NULLS LAST) AS BIGINT) AS auto_reports_district_rank_any,
        CAST(rank() OVER (PARTITION BY federal_district ORDER BY joined_online_pct DESC NULLS LAST) AS BIGINT) AS joined_online_district_rank_any,
        CAST(rank() OVER (PARTITION BY federal_district ORDER BY profcards_pct DESC NULLS LAST) AS BIGINT) AS profcards_district_rank_any,
        CAST(rank() OVER (PARTITION BY federal_district ORDER BY cards_issued_pct DESC NULLS LAST) AS BIGINT) AS cards_issued_district_rank_any,
        count(*) OVER (PARTITION BY federal_district) AS district_regions
    FROM banded b
)
SELECT
    as_of,
    region_code,
    region_name,
    federal_district,
    members,
    members_official,
    coverage_pct,
    coverage_band,
    working,
    students,
    pensioners,
    category_missing,
    primary_orgs,
    primary_auto_reports,
    primary_auto_reports_pct,
    reports_3sp,
    reports_4sp,
    reports_5sp,
    territorial_orgs,
    territorial_reports,
    territorial_reports_pct,
    all_reported,
    joined_online,
    joined_online_pct,
    profcards,
    profcards_pct,
    profcards_app,
    cards_issued,
    cards_issued_pct,
    cards_refused,
    members_prev,
    members - members_prev AS members_change,
    CASE WHEN members_prev > 0 THEN 100.0 * (members - members_prev) / members_prev END AS members_change_pct,
    coverage_pct_prev,
    CASE WHEN p.c IS NOT NULL
         THEN coalesce(round(coverage_pct * 10) = round(coverage_pct_prev * 10), false) END AS coverage_unchanged,
    coalesce(joined_online_pct > t.online_threshold, false) AS joined_online_above_threshold,
    coalesce(joined_online > t.online_active, false) AS joined_online_active,
    coalesce(coverage_pct > t.coverage_threshold, false) AS coverage_above_threshold,
    CASE WHEN coverage_pct IS NOT NULL THEN coverage_rank_any END AS coverage_rank,
    CASE WHEN primary_auto_reports_pct IS NOT NULL THEN auto_reports_rank_any END AS auto_reports_rank,
    CASE WHEN joined_online_pct IS NOT NULL THEN joined_online_rank_any END AS joined_online_rank,
    CASE WHEN profcards_pct IS NOT NULL THEN profcards_rank_any END AS profcards_rank,
    CASE WHEN cards_issued_pct IS NOT NULL THEN cards_issued_rank_any END AS cards_issued_rank,
    CASE WHEN coverage_pct IS NOT NULL THEN coverage_district_rank_any END AS coverage_district_rank,
    CASE WHEN primary_auto_reports_pct IS NOT NULL THEN auto_reports_district_rank_any END AS auto_reports_district_rank,
    CASE WHEN joined_online_pct IS NOT NULL THEN joined_online_district_rank_any END AS joined_online_district_rank,
    CASE WHEN profcards_pct IS NOT NULL THEN profcards_district_rank_any END AS profcards_district_rank,
    CASE WHEN cards_issued_pct IS NOT NULL THEN cards_issued_district_rank_any END AS cards_issued_district_rank,
    district_regions
FROM ranked
CROSS JOIN params p
CROSS JOIN (
    SELECT
        joined_online_threshold_pct AS online_threshold,
        joined_online_active_members AS online_active,
        coverage_threshold_pct AS coverage_threshold
    FROM mart_national
) t
ORDER BY region_code;
