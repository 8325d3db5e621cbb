-- member_flows: where each scope's net change in members on record between
-- the comparison snapshot C and D came from, member by member (member_id is
-- pseudonymous and stable across snapshots). One row for the union, one per
-- federal district, one per regional organization of the reference list.
--
-- "On record" is snapshot.md's, each date judged by its own snapshot, and a
-- member's region is its organization's region in that snapshot. A member
-- on record at D but not at C joined (registered_on after C) or was
-- registered late (registered_on on or before C: the registry catching up,
-- not a new member). One on record at C left when D's snapshot has the
-- member off the record, or is gone from the export when D's snapshot lacks
-- the member altogether (a data-quality signal, not a resignation). One on
-- record at both moved in or out when the scope differs between the dates,
-- or moved within it when only the organization differs. category_changed
-- counts those on record at both whose category differs (null = none).
--
-- On every row: members_prev + joined + registered_late - left_record -
-- gone_from_export + moved_in - moved_out = members. Without a comparison
-- snapshot (C null) every flow is null; members is still D's count.
-- The pairs are member_pairs (queries/views/), counted once.
WITH sided AS (
    SELECT
        'national' AS scope,
        CASE WHEN region_c IS NOT NULL THEN '' END AS key_c,
        CASE WHEN region_d IS NOT NULL THEN '' END AS key_d,
        flow, category_changed, n
    FROM member_pairs
    UNION ALL
    SELECT 'district', district_c, district_d, flow, category_changed, n FROM member_pairs
    UNION ALL
    SELECT 'region', region_c, region_d, flow, category_changed, n FROM member_pairs
),
stays AS (
    SELECT * FROM sided WHERE flow IN ('moved', 'stayed')
),
from_c AS (
    SELECT
        scope, key_c AS scope_key,
        sum(n) AS members_prev,
        sum(n) FILTER (WHERE flow = 'left_record') AS left_record,
        sum(n) FILTER (WHERE flow = 'gone_from_export') AS gone_from_export
    FROM sided
    WHERE key_c IS NOT NULL
    GROUP BY scope, key_c
),
to_d AS (
    SELECT
        scope, key_d AS scope_key,
        sum(n) FILTER (WHERE flow NOT IN ('left_record', 'gone_from_export')) AS members,
        sum(n) FILTER (WHERE flow = 'joined') AS joined,
        sum(n) FILTER (WHERE flow = 'registered_late') AS registered_late,
        sum(n) FILTER (WHERE flow IN ('moved', 'stayed') AND category_changed) AS category_changed
    FROM sided
    WHERE key_d IS NOT NULL
    GROUP BY scope, key_d
),
moves_in AS (
    SELECT scope, key_d AS scope_key, sum(n) AS moved_in
    FROM stays WHERE key_c <> key_d GROUP BY scope, key_d
),
moves_out AS (
    SELECT scope, key_c AS scope_key, sum(n) AS moved_out
    FROM stays WHERE key_c <> key_d GROUP BY scope, key_c
),
moves_within AS (
    SELECT scope, key_c AS scope_key, sum(n) AS moved_within
    FROM stays WHERE key_c = key_d AND flow = 'moved' GROUP BY scope, key_c
),
scopes AS (
    SELECT 0 AS scope_order, 'national' AS scope, CAST(NULL AS VARCHAR) AS federal_district,
           CAST(NULL AS VARCHAR) AS region_code, '' AS scope_key
    UNION ALL
    SELECT 1, 'district', federal_district, CAST(NULL AS VARCHAR), federal_district AS scope_key FROM federal_districts
    UNION ALL
    SELECT 2, 'region', federal_district, region_code, region_code AS scope_key FROM regions
)
SELECT
    p.d AS as_of,
    p.c AS compared_to,
    CAST(s.scope AS VARCHAR) AS scope,
    s.federal_district,
    s.region_code,
    CASE WHEN p.c IS NOT NULL THEN CAST(coalesce(c.members_prev, 0) AS BIGINT) END AS members_prev,
    CAST(coalesce(d.members, 0) AS BIGINT) AS members,
    CASE WHEN p.c IS NOT NULL THEN CAST(coalesce(d.joined, 0) AS BIGINT) END AS joined,
    CASE WHEN p.c IS NOT NULL THEN CAST(coalesce(d.registered_late, 0) AS BIGINT) END AS registered_late,
    CASE WHEN p.c IS NOT NULL THEN CAST(coalesce(c.left_record, 0) AS BIGINT) END AS left_record,
    CASE WHEN p.c IS NOT NULL THEN CAST(coalesce(c.gone_from_export, 0) AS BIGINT) END AS gone_from_export,
    CASE WHEN p.c IS NOT NULL THEN CAST(coalesce(mi.moved_in, 0) AS BIGINT) END AS moved_in,
    CASE WHEN p.c IS NOT NULL THEN CAST(coalesce(mo.moved_out, 0) AS BIGINT) END AS moved_out,
    CASE WHEN p.c IS NOT NULL THEN CAST(coalesce(mw.moved_within, 0) AS BIGINT) END AS moved_within,
    CASE WHEN p.c IS NOT NULL THEN CAST(coalesce(d.category_changed, 0) AS BIGINT) END AS category_changed
FROM scopes s
CROSS JOIN params p
LEFT JOIN from_c c ON c.scope = s.scope AND c.scope_key = s.scope_key
LEFT JOIN to_d d ON d.scope = s.scope AND d.scope_key = s.scope_key
LEFT JOIN moves_in mi ON mi.scope = s.scope AND mi.scope_key = s.scope_key
LEFT JOIN moves_out mo ON mo.scope = s.scope AND mo.scope_key = s.scope_key
LEFT JOIN moves_within mw ON mw.scope = s.scope AND mw.scope_key = s.scope_key
ORDER BY s.scope_order, s.federal_district NULLS FIRST, s.region_code NULLS FIRST;
