-- data_quality: one row per check and scope at D (marts.md "data_quality"):
-- the national rows first (region_code null), then each federal district
-- (its regions summed, like the national rows; federal_district set,
-- region_code null), then every regional organization of the reference list
-- (a region without data gets its rows: affected 0, population 0,
-- affected_pct null).
--
-- `unit` says what `affected` counts: organizations, members, or (for the
-- *_gap checks) the difference between registry and official figures, both of
-- which are kept as registry_value and official_value.
-- Gap checks, as marts.md writes them:
-- - legal_entity_gap = |active primary + territorial orgs flagged legal_entity
--   - (legal_entities_primary + legal_entities_territorial at B)|;
-- - territorial_rights_gap = active primary orgs with territorial_rights
--   - official primary_with_territorial_rights (signed);
-- - primary_count_gap, territorial_count_gap = official - registry (signed:
--   positive when the registry lacks organizations);
-- - primary_created_gap = official primary_created - primary orgs with
--   registered_on in [B - 1 year, B), whatever happened to them since.
-- Population of a gap check is the official figure; without a baseline, or for
-- a region the official report lacks, a gap row's figures are null. The
-- national and district gaps are computed from their sums, not summed from
-- regional gaps.
-- The organization checks come from org_check_failures (see its header).
-- members_gone_from_export: members on record at C that D's snapshot lacks
-- altogether (member_flows' gone_from_export; population: members on record
-- at C). member_ids_recycled: ids on record at C and at D whose
-- registered_on at D is after C — not the same membership, so the id was
-- given again or its date rewritten (population: members at D, 0 without
-- C). Both are about the export, never counted as members joining or
-- leaving; zero without C; org_check_failures has their organizations.
-- (An id twice in one snapshot is rejected by ingest as duplicate_id and
-- counted in the rejects.)
-- orgs_affected: how many organizations a check touches, what the regional
-- summaries tell the chair to fix: for an organization check the failing
-- organizations (= affected); for members_in_inactive_org the closed
-- organizations that still hold members; for members_gone_from_export and
-- member_ids_recycled the organizations the worklist lists (at C, at D);
-- for the other member checks the
-- organizations whose members fail it, a subdivision's members counting for
-- its primary organization (org_members.primary_org_id); null for the gap
-- checks, which are about the totals, not about any organization. National
-- and district rows sum their regions'.
WITH checks ("check", unit, population_of, position) AS (
    VALUES
        ('primary_without_members', 'organizations', 'primary', 1),
        ('primary_under_3_members', 'organizations', 'primary', 2),
        ('primary_no_chair', 'organizations', 'primary', 3),
        ('territorial_no_chair', 'organizations', 'territorial', 4),
        ('primary_no_chair_term', 'organizations', 'primary', 5),
        ('territorial_no_chair_term', 'organizations', 'territorial', 6),
        ('primary_chair_expired', 'organizations', 'primary', 7),
        ('territorial_chair_expired', 'organizations', 'territorial', 8),
        ('primary_no_access', 'organizations', 'primary', 9),
        ('territorial_no_access', 'organizations', 'territorial', 10),
        ('primary_no_inn', 'organizations', 'primary', 11),
        ('members_no_category', 'members', 'members', 12),
        ('members_no_consent', 'members', 'members', 13),
        ('members_card_refused', 'members', 'members', 14),
        ('members_in_inactive_org', 'members', 'members', 15),
        ('members_gone_from_export', 'members', 'members_prev', 16),
        ('member_ids_recycled', 'members', 'members_compared', 17),
        ('legal_entity_gap', 'gap', 'official', 18),
        ('territorial_rights_gap', 'gap', 'official', 19),
        ('primary_count_gap', 'gap', 'official', 20),
        ('territorial_count_gap', 'gap', 'official', 21),
        ('primary_created_gap', 'gap', 'official', 22)
),
org_counts AS (
    SELECT
        region_code,
        count(*) FILTER (WHERE level = 'primary') AS primary_orgs,
        count(*) FILTER (WHERE level = 'territorial') AS territorial_orgs,
        count(*) FILTER (WHERE level IN ('primary', 'territorial') AND legal_entity) AS legal_entities,
        count(*) FILTER (WHERE level = 'primary' AND territorial_rights) AS primary_with_territorial_rights
    FROM active_orgs
    GROUP BY region_code
),
created AS (
    SELECT o.region_code, count(*) AS primary_created
    FROM organizations o
    CROSS JOIN params p
    WHERE o.level = 'primary'
      AND o.registered_on >= p.b - INTERVAL '1 year'
      AND o.registered_on < p.b
    GROUP BY o.region_code
),
official AS (
    SELECT
        region_code,
        sum(primary_orgs) AS primary_orgs,
        sum(territorial_orgs) AS territorial_orgs,
        sum(legal_entities_primary + legal_entities_territorial) AS legal_entities,
        sum(primary_with_territorial_rights) AS primary_with_territorial_rights,
        sum(primary_created) AS primary_created
    FROM baseline_stats
    GROUP BY region_code
),
failures AS (
    SELECT region_code, "check", count(*) AS orgs, sum(members) AS members
    FROM org_check_failures
    GROUP BY region_code, "check"
),
-- Members on record at C per region (member_pairs, the year's comparison):
-- members_gone_from_export's population. Empty without C.
compared AS (
    SELECT region_then AS region_code, sum(n) AS members_prev
    FROM member_pairs
    WHERE compared_period = 'year' AND region_then IS NOT NULL
    GROUP BY region_then
),
member_orgs AS (
    SELECT
        region_code,
        count(DISTINCT CASE WHEN category_missing > 0 THEN primary_org_id END) AS no_category,
        count(DISTINCT CASE WHEN no_consent > 0 THEN primary_org_id END) AS no_consent,
        count(DISTINCT CASE WHEN cards_refused > 0 THEN primary_org_id END) AS cards_refused
    FROM org_members
    GROUP BY region_code
),
-- Per region and check: affected and population for counted checks, registry
-- and official figures for gaps (rows missing here are zeros or nulls).
by_region AS (
    SELECT
        g.region_code,
        g.federal_district,
        c."check",
        c.unit,
        c.position,
        CASE
            WHEN c."check" IN ('members_in_inactive_org', 'members_gone_from_export', 'member_ids_recycled')
                THEN coalesce(f.members, 0)
            WHEN c."check" = 'members_no_category' THEN coalesce(m.category_missing, 0)
            WHEN c."check" = 'members_no_consent' THEN coalesce(m.no_consent, 0)
            WHEN c."check" = 'members_card_refused' THEN coalesce(m.cards_refused, 0)
            WHEN c.unit = 'organizations' THEN coalesce(f.orgs, 0)
        END AS affected,
        CASE
            WHEN c."check" = 'members_no_category' THEN coalesce(mo.no_category, 0)
            WHEN c."check" = 'members_no_consent' THEN coalesce(mo.no_consent, 0)
            WHEN c."check" = 'members_card_refused' THEN coalesce(mo.cards_refused, 0)
            WHEN c.unit <> 'gap' THEN coalesce(f.orgs, 0)
        END AS orgs_affected,
        CASE c.population_of
            WHEN 'primary' THEN coalesce(oc.primary_orgs, 0)
            WHEN 'territorial' THEN coalesce(oc.territorial_orgs, 0)
            WHEN 'members' THEN coalesce(m.members, 0)
            WHEN 'members_prev' THEN coalesce(cp.members_prev, 0)
            -- Without C no id could be checked: no population, no share.
            WHEN 'members_compared' THEN CASE WHEN (SELECT c FROM params) IS NOT NULL THEN coalesce(m.members, 0) ELSE 0 END
        END AS population,
        CASE c."check"
            WHEN 'legal_entity_gap' THEN coalesce(oc.legal_entities, 0)
            WHEN 'territorial_rights_gap' THEN coalesce(oc.primary_with_territorial_rights, 0)
            WHEN 'primary_count_gap' THEN coalesce(oc.primary_orgs, 0)
            WHEN 'territorial_count_gap' THEN coalesce(oc.territorial_orgs, 0)
            WHEN 'primary_created_gap' THEN coalesce(cr.primary_created, 0)
        END AS registry_value,
        CASE c."check"
            WHEN 'legal_entity_gap' THEN s.legal_entities
            WHEN 'territorial_rights_gap' THEN s.primary_with_territorial_rights
            WHEN 'primary_count_gap' THEN s.primary_orgs
            WHEN 'territorial_count_gap' THEN s.territorial_orgs
            WHEN 'primary_created_gap' THEN s.primary_created
        END AS official_value
    FROM regions g
    CROSS JOIN checks c
    LEFT JOIN failures f ON f.region_code = g.region_code AND f."check" = c."check"
    LEFT JOIN member_counts m ON m.region_code = g.region_code
    LEFT JOIN member_orgs mo ON mo.region_code = g.region_code
    LEFT JOIN compared cp ON cp.region_code = g.region_code
    LEFT JOIN org_counts oc ON oc.region_code = g.region_code
    LEFT JOIN created cr ON cr.region_code = g.region_code
    LEFT JOIN official s ON s.region_code = g.region_code
),
scoped AS (
    SELECT 'national' AS scope, CAST(NULL AS VARCHAR) AS federal_district, CAST(NULL AS VARCHAR) AS region_code,
        "check", unit, position,
        sum(affected) AS affected, sum(population) AS population,
        sum(registry_value) AS registry_value, sum(official_value) AS official_value,
        sum(orgs_affected) AS orgs_affected
    FROM by_region
    GROUP BY "check", unit, position
    UNION ALL
    SELECT 'district', federal_district, CAST(NULL AS VARCHAR), "check", unit, position,
        sum(affected), sum(population), sum(registry_value), sum(official_value), sum(orgs_affected)
    FROM by_region
    GROUP BY federal_district, "check", unit, position
    UNION ALL
    SELECT 'region', federal_district, region_code, "check", unit, position, affected, population, registry_value,
        official_value, orgs_affected
    FROM by_region
),
measured AS (
    SELECT
        scope,
        federal_district,
        region_code,
        "check",
        unit,
        position,
        CASE
            WHEN unit <> 'gap' THEN affected
            WHEN "check" = 'legal_entity_gap' THEN abs(registry_value - official_value)
            WHEN "check" = 'territorial_rights_gap' THEN registry_value - official_value
            ELSE official_value - registry_value
        END AS affected,
        CASE WHEN unit = 'gap' THEN official_value ELSE population END AS population,
        registry_value,
        official_value,
        orgs_affected
    FROM scoped
)
SELECT
    p.d AS as_of,
    m."check",
    m.scope,
    m.region_code,
    m.federal_district,
    m.unit,
    CAST(m.affected AS BIGINT) AS affected,
    CAST(m.population AS BIGINT) AS population,
    CASE WHEN m.population > 0 THEN 100.0 * m.affected / m.population END AS affected_pct,
    CAST(m.registry_value AS BIGINT) AS registry_value,
    CAST(m.official_value AS BIGINT) AS official_value,
    CAST(m.orgs_affected AS BIGINT) AS orgs_affected
FROM measured m
CROSS JOIN params p
ORDER BY CAST(CASE m.scope WHEN 'national' THEN 0 WHEN 'district' THEN 1 ELSE 2 END AS BIGINT),
    m.region_code NULLS FIRST, m.federal_district NULLS FIRST, CAST(m.position AS BIGINT);
