-- national: one row, the union as a whole at D.
-- Implements marts.md "national — one row", every column in its order.
-- Counts are Int64; percentages the exact Float64 ratio, null when the whole is
-- 0 or missing; year-on-year columns null without a comparison snapshot C.
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
    SELECT coalesce(sum(members), 0) AS members_prev FROM prev_member_counts
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
    m.profcards,
    m.profcards_app,
    CASE WHEN m.members > 0 THEN 100.0 * m.profcards / m.members END AS profcards_pct,
    m.cards_issued,
    m.cards_refused,
    CASE WHEN m.members > 0 THEN 100.0 * m.cards_issued / m.members END AS cards_issued_pct,
    CASE WHEN p.c IS NOT NULL THEN prev.members_prev END AS members_prev,
    CASE WHEN p.c IS NOT NULL THEN m.members - prev.members_prev END AS members_change,
    CASE WHEN p.c IS NOT NULL AND prev.members_prev > 0
         THEN 100.0 * (m.members - prev.members_prev) / prev.members_prev END AS members_change_pct
FROM params p
CROSS JOIN m
CROSS JOIN s
CROSS JOIN o
CROSS JOIN r
CROSS JOIN t
CROSS JOIN prev;
