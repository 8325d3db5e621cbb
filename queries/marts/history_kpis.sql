-- history_kpis: D's row of the headline KPIs' history, one per scope — the
-- union, each federal district, each regional organization — as D's own
-- national, federal_districts and regions marts have them (the auto-report
-- share is for D's report period P, given as report_period). One shape for
-- the three levels, so read over all its partitions
-- (`reestr sql "SELECT * FROM history_kpis"`) it is the history of every
-- computed date, and the quarterly marts read it so. The checks' history is
-- data_quality over all its partitions, which has the same three levels.
WITH kpis AS (
    SELECT
        n.as_of, n.report_period, 0 AS scope_order,
        'national' AS scope, CAST(NULL AS VARCHAR) AS federal_district, CAST(NULL AS VARCHAR) AS region_code,
        n.members, n.members_official, n.coverage_pct, n.primary_orgs, n.primary_auto_reports,
        n.primary_auto_reports_pct, n.joined_online, n.joined_online_pct, n.profcards, n.profcards_pct,
        n.cards_issued, n.cards_issued_pct
    FROM mart_national n
    UNION ALL
    SELECT
        f.as_of, n.report_period, 1,
        'district', f.federal_district, CAST(NULL AS VARCHAR),
        f.members, f.members_official, f.coverage_pct, f.primary_orgs, f.primary_auto_reports,
        f.primary_auto_reports_pct, f.joined_online, f.joined_online_pct, f.profcards, f.profcards_pct,
        f.cards_issued, f.cards_issued_pct
    FROM mart_federal_districts f
    CROSS JOIN mart_national n
    UNION ALL
    SELECT
        r.as_of, n.report_period, 2,
        'region', r.federal_district, r.region_code,
        r.members, r.members_official, r.coverage_pct, r.primary_orgs, r.primary_auto_reports,
        r.primary_auto_reports_pct, r.joined_online, r.joined_online_pct, r.profcards, r.profcards_pct,
        r.cards_issued, r.cards_issued_pct
    FROM mart_regions r
    CROSS JOIN mart_national n
)
SELECT
    as_of,
    report_period,
    CAST(scope AS VARCHAR) AS scope,
    federal_district,
    region_code,
    CAST(members AS BIGINT) AS members,
    CAST(members_official AS BIGINT) AS members_official,
    coverage_pct,
    CAST(primary_orgs AS BIGINT) AS primary_orgs,
    CAST(primary_auto_reports AS BIGINT) AS primary_auto_reports,
    primary_auto_reports_pct,
    CAST(joined_online AS BIGINT) AS joined_online,
    joined_online_pct,
    CAST(profcards AS BIGINT) AS profcards,
    profcards_pct,
    CAST(cards_issued AS BIGINT) AS cards_issued,
    cards_issued_pct
FROM kpis
ORDER BY scope_order, region_code NULLS FIRST, federal_district NULLS FIRST;
