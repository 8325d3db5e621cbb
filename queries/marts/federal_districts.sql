-- federal_districts: one row per federal district at D — the sums of its
-- regions' rows of the regions mart (computed just before, as mart_regions),
-- with the same percentage definitions over the sums, plus `regions` (how many
-- regional organizations the district has) and `regions_all_reported`.
-- Implements marts.md "federal_districts". members_official sums the regions
-- that have a baseline row; it is null when none has. coverage_band as in
-- regions, from coverage_band_limits.
WITH d AS (
    SELECT
        federal_district,
        count(*) AS regions,
        count(*) FILTER (WHERE all_reported) AS regions_all_reported,
        sum(members) AS members,
        sum(members_official) AS members_official,
        sum(working) AS working,
        sum(students) AS students,
        sum(pensioners) AS pensioners,
        sum(category_missing) AS category_missing,
        sum(primary_orgs) AS primary_orgs,
        sum(primary_auto_reports) AS primary_auto_reports,
        sum(territorial_orgs) AS territorial_orgs,
        sum(territorial_reports) AS territorial_reports,
        sum(joined_online) AS joined_online,
        sum(profcards) AS profcards,
        sum(cards_issued) AS cards_issued,
        sum(members_prev) AS members_prev
    FROM mart_regions
    GROUP BY federal_district
),
district_rows AS (
    SELECT
        f.sort_order,
        p.d AS as_of,
        f.federal_district,
        f.district_name,
        f.district_short_name,
        d.regions,
        d.regions_all_reported,
        d.members,
        d.members_official,
        CASE WHEN d.members_official > 0 THEN 100.0 * d.members / d.members_official END AS coverage_pct,
        d.working,
        d.students,
        d.pensioners,
        d.category_missing,
        d.primary_orgs,
        d.primary_auto_reports,
        CASE WHEN d.primary_orgs > 0 THEN 100.0 * d.primary_auto_reports / d.primary_orgs END AS primary_auto_reports_pct,
        d.territorial_orgs,
        d.territorial_reports,
        CASE WHEN d.territorial_orgs > 0 THEN 100.0 * d.territorial_reports / d.territorial_orgs END AS territorial_reports_pct,
        d.joined_online,
        CASE WHEN d.members > 0 THEN 100.0 * d.joined_online / d.members END AS joined_online_pct,
        d.profcards,
        CASE WHEN d.members > 0 THEN 100.0 * d.profcards / d.members END AS profcards_pct,
        d.cards_issued,
        CASE WHEN d.members > 0 THEN 100.0 * d.cards_issued / d.members END AS cards_issued_pct,
        CASE WHEN p.c IS NOT NULL THEN d.members_prev END AS members_prev,
        CASE WHEN p.c IS NOT NULL THEN d.members - d.members_prev END AS members_change,
        CASE WHEN p.c IS NOT NULL AND d.members_prev > 0
             THEN 100.0 * (d.members - d.members_prev) / d.members_prev END AS members_change_pct
    FROM federal_districts f
    CROSS JOIN params p
    JOIN d ON d.federal_district = f.federal_district
)
SELECT
    r.as_of, r.federal_district, r.district_name, r.district_short_name, r.regions, r.regions_all_reported,
    r.members, r.members_official, r.coverage_pct, r.working, r.students, r.pensioners, r.category_missing,
    r.primary_orgs, r.primary_auto_reports, r.primary_auto_reports_pct, r.territorial_orgs, r.territorial_reports,
    r.territorial_reports_pct, r.joined_online, r.joined_online_pct, r.profcards, r.profcards_pct, r.cards_issued,
    r.cards_issued_pct, r.members_prev, r.members_change, r.members_change_pct,
    b.band AS coverage_band
FROM district_rows r
LEFT JOIN coverage_band_limits b
    ON (b.lower_pct IS NULL OR r.coverage_pct >= b.lower_pct)
   AND (b.upper_pct IS NULL OR r.coverage_pct < b.upper_pct)
ORDER BY r.sort_order;
