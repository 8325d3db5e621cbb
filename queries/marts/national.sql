-- national: one row, the union as a whole at D.
-- Implements marts.md "national — one row", every column in its order.
-- Counts are Int64; percentages the exact Float64 ratio, null when the whole is
-- 0 or missing; year-on-year columns null without a comparison snapshot C.
-- Beyond the contract, every share the pages and the briefing state:
-- joined_online_pct and profcards_app_pct over members; <category>_share_pct,
-- a category's share of the members on record; <category>_coverage_pct and
-- primary_orgs/territorial_orgs_coverage_pct, the registry against the
-- official report at B; <category>_prev/_change/_change_pct, as members_*.
-- joined_online_threshold_pct is the decree's bar for naming a region's
-- online joining (regions.joined_online_above_threshold compares with it);
-- joined_online_active_members the bar of item 3's list of regions «по
-- активному использованию онлайн-сервиса (более 1000 членов Профсоюза)»
-- (regions.joined_online_active); coverage_threshold_pct the bar of item 3's
-- list of regions with «свыше 95 %» of their members on the registry
-- (regions.coverage_above_threshold).
WITH m AS (
    -- Every region code is checked against the reference at ingest, so the
    -- regions' counts add up to the nation's.
    SELECT
        coalesce(sum(members), 0) AS members,
        coalesce(sum(working), 0) AS working,
        coalesce(sum(students), 0) AS students,
        coalesce(sum(pensioners), 0) AS pensioners,
        coalesce(sum(category_missing), 0) AS category_missing,
        coalesce(sum(joined_online), 0) AS joined_online,
        coalesce(sum(profcards), 0) AS profcards,
        coalesce(sum(profcards_app), 0) AS profcards_app,
        coalesce(sum(cards_issued), 0) AS cards_issued,
        coalesce(sum(cards_refused), 0) AS cards_refused
    FROM member_counts
),
s AS (
    SELECT
        sum(members) AS members_official,
        sum(working) AS working_official,
        sum(students) AS students_official,
        sum(pensioners) AS pensioners_official,
        sum(primary_orgs) AS primary_orgs_official,
        sum(territorial_orgs) AS territorial_orgs_official
    FROM baseline_stats
),
o AS (
    SELECT
        count(*) FILTER (WHERE level = 'primary') AS primary_orgs,
        count(*) FILTER (WHERE level = 'territorial') AS territorial_orgs
    FROM active_orgs
),
-- Active primary orgs with an auto report on 3-, 4- or 5-SP for P; an org
-- counts once in the total and once under each form it has.
primary_auto AS (
    SELECT
        a.org_id,
        max(CASE WHEN r.form = '3-SP' THEN 1 ELSE 0 END) AS has_3sp,
        max(CASE WHEN r.form = '4-SP' THEN 1 ELSE 0 END) AS has_4sp,
        max(CASE WHEN r.form = '5-SP' THEN 1 ELSE 0 END) AS has_5sp
    FROM active_orgs a
    JOIN reports_for_period r ON r.org_id = a.org_id
    WHERE a.level = 'primary' AND r.mode = 'auto' AND r.form IN ('3-SP', '4-SP', '5-SP')
    GROUP BY a.org_id
),
r AS (
    SELECT
        count(*) AS primary_auto_reports,
        CAST(coalesce(sum(has_3sp), 0) AS BIGINT) AS reports_3sp,
        CAST(coalesce(sum(has_4sp), 0) AS BIGINT) AS reports_4sp,
        CAST(coalesce(sum(has_5sp), 0) AS BIGINT) AS reports_5sp
    FROM primary_auto
),
-- Active territorial orgs with a 2-SP report for P, auto or manual.
t AS (
    SELECT count(DISTINCT a.org_id) AS territorial_reports
    FROM active_orgs a
    JOIN reports_for_period r ON r.org_id = a.org_id
    WHERE a.level = 'territorial' AND r.form = '2-SP'
),
prev AS (
    SELECT
        coalesce(sum(members), 0) AS members_prev,
        coalesce(sum(working), 0) AS working_prev,
        coalesce(sum(students), 0) AS students_prev,
        coalesce(sum(pensioners), 0) AS pensioners_prev,
        coalesce(sum(category_missing), 0) AS category_missing_prev
    FROM prev_member_counts
)
SELECT
    p.d AS as_of,
    p.p AS report_period,
    p.b AS baseline_as_of,
    p.c AS compared_to,
    m.members,
    s.members_official,
    CASE WHEN s.members_official > 0 THEN 100.0 * m.members / s.members_official END AS coverage_pct,
    m.working,
    m.students,
    m.pensioners,
    m.category_missing,
    s.working_official,
    s.students_official,
    s.pensioners_official,
    o.primary_orgs,
    o.territorial_orgs,
    s.primary_orgs_official,
    s.territorial_orgs_official,
    r.primary_auto_reports,
    CASE WHEN o.primary_orgs > 0 THEN 100.0 * r.primary_auto_reports / o.primary_orgs END AS primary_auto_reports_pct,
    r.reports_3sp,
    r.reports_4sp,
    r.reports_5sp,
    t.territorial_reports,
    CASE WHEN o.territorial_orgs > 0 THEN 100.0 * t.territorial_reports / o.territorial_orgs END AS territorial_reports_pct,
    m.joined_online,
    CASE WHEN m.members > 0 THEN 100.0 * m.joined_online / m.members END AS joined_online_pct,
    m.profcards,
    m.profcards_app,
    CASE WHEN m.members > 0 THEN 100.0 * m.profcards / m.members END AS profcards_pct,
    m.cards_issued,
    m.cards_refused,
    CASE WHEN m.members > 0 THEN 100.0 * m.cards_issued / m.members END AS cards_issued_pct,
    CASE WHEN p.c IS NOT NULL THEN prev.members_prev END AS members_prev,
    CASE WHEN p.c IS NOT NULL THEN m.members - prev.members_prev END AS members_change,
    CASE WHEN p.c IS NOT NULL AND prev.members_prev > 0
         THEN 100.0 * (m.members - prev.members_prev) / prev.members_prev END AS members_change_pct,
    CAST(3 AS DOUBLE) AS joined_online_threshold_pct,
    CAST(1000 AS BIGINT) AS joined_online_active_members,
    CAST(95 AS DOUBLE) AS coverage_threshold_pct,
    CASE WHEN m.members > 0 THEN 100.0 * m.profcards_app / m.members END AS profcards_app_pct,
    CASE WHEN m.members > 0 THEN 100.0 * m.working / m.members END AS working_share_pct,
    CASE WHEN m.members > 0 THEN 100.0 * m.students / m.members END AS students_share_pct,
    CASE WHEN m.members > 0 THEN 100.0 * m.pensioners / m.members END AS pensioners_share_pct,
    CASE WHEN m.members > 0 THEN 100.0 * m.category_missing / m.members END AS category_missing_share_pct,
    CASE WHEN s.working_official > 0 THEN 100.0 * m.working / s.working_official END AS working_coverage_pct,
    CASE WHEN s.students_official > 0 THEN 100.0 * m.students / s.students_official END AS students_coverage_pct,
    CASE WHEN s.pensioners_official > 0 THEN 100.0 * m.pensioners / s.pensioners_official END AS pensioners_coverage_pct,
    CASE WHEN s.primary_orgs_official > 0 THEN 100.0 * o.primary_orgs / s.primary_orgs_official END AS primary_orgs_coverage_pct,
    CASE WHEN s.territorial_orgs_official > 0
         THEN 100.0 * o.territorial_orgs / s.territorial_orgs_official END AS territorial_orgs_coverage_pct,
    CASE WHEN p.c IS NOT NULL THEN prev.working_prev END AS working_prev,
    CASE WHEN p.c IS NOT NULL THEN m.working - prev.working_prev END AS working_change,
    CASE WHEN p.c IS NOT NULL AND prev.working_prev > 0
         THEN 100.0 * (m.working - prev.working_prev) / prev.working_prev END AS working_change_pct,
    CASE WHEN p.c IS NOT NULL THEN prev.students_prev END AS students_prev,
    CASE WHEN p.c IS NOT NULL THEN m.students - prev.students_prev END AS students_change,
    CASE WHEN p.c IS NOT NULL AND prev.students_prev > 0
         THEN 100.0 * (m.students - prev.students_prev) / prev.students_prev END AS students_change_pct,
    CASE WHEN p.c IS NOT NULL THEN prev.pensioners_prev END AS pensioners_prev,
    CASE WHEN p.c IS NOT NULL THEN m.pensioners - prev.pensioners_prev END AS pensioners_change,
    CASE WHEN p.c IS NOT NULL AND prev.pensioners_prev > 0
         THEN 100.0 * (m.pensioners - prev.pensioners_prev) / prev.pensioners_prev END AS pensioners_change_pct,
    CASE WHEN p.c IS NOT NULL THEN prev.category_missing_prev END AS category_missing_prev,
    CASE WHEN p.c IS NOT NULL THEN m.category_missing - prev.category_missing_prev END AS category_missing_change,
    CASE WHEN p.c IS NOT NULL AND prev.category_missing_prev > 0
         THEN 100.0 * (m.category_missing - prev.category_missing_prev) / prev.category_missing_prev
    END AS category_missing_change_pct
FROM params p
CROSS JOIN m
CROSS JOIN s
CROSS JOIN o
CROSS JOIN r
CROSS JOIN t
CROSS JOIN prev;
