-- member_flows: where each scope's net change in members on record came
-- from, member by member (member_id is pseudonymous and stable across
-- snapshots), against two earlier snapshots: compared_period 'year' (C, the
-- comparison date of every mart) and 'quarter' (q: the snapshot representing
-- the quarter before D's, as quarterly_kpis picks it). One row per period
-- and scope: the union, each federal district, each regional organization
-- of the reference list.
--
-- "On record" is snapshot.md's, each date judged by its own snapshot, and a
-- member's region is its organization's region in that snapshot. A member
-- on record at D but not at T (the earlier date) joined (registered_on after
-- T) or was registered late (registered_on on or before T: the registry
-- catching up, not a new member). One on record at T left when D's snapshot
-- has the member off the record, or is gone from the export when D's
-- snapshot lacks the member altogether (a data-quality signal, not a
-- resignation; data_quality counts it too). One on record at both moved in
-- or out when the scope differs between the dates, or moved within it when
-- only the organization differs. category_changed counts those on record at
-- both whose category differs (a category given or removed counts);
-- member_category_flows has the from/to matrix.
--
-- On every row: members_prev + joined + registered_late - left_record -
-- gone_from_export + moved_in - moved_out = members, and net_change =
-- members - members_prev. Without the earlier snapshot (compared_to null)
-- every flow is null; members is still D's count.
-- The pairs are member_pairs (queries/pairs/), counted once per comparison.
WITH periods AS (
    SELECT 0 AS period_order, 'year' AS compared_period, c AS compared_to FROM params
    UNION ALL
    SELECT 1, 'quarter', q FROM params
),
sided AS (
    SELECT
        compared_period, 'national' AS scope,
        CASE WHEN region_then IS NOT NULL THEN '' END AS key_then,
        CASE WHEN region_now IS NOT NULL THEN '' END AS key_now,
        flow, category_then IS DISTINCT FROM category_now AS category_changed, n
    FROM member_pairs
    UNION ALL
    SELECT compared_period, 'district', district_then, district_now, flow,
           category_then IS DISTINCT FROM category_now, n
    FROM member_pairs
    UNION ALL
    SELECT compared_period, 'region', region_then, region_now, flow,
           category_then IS DISTINCT FROM category_now, n
    FROM member_pairs
),
stays AS (
    SELECT * FROM sided WHERE flow IN ('moved', 'stayed')
),
from_then AS (
    SELECT
        compared_period, scope, key_then AS scope_key,
        sum(n) AS members_prev,
        sum(n) FILTER (WHERE flow = 'left_record') AS left_record,
        sum(n) FILTER (WHERE flow = 'gone_from_export') AS gone_from_export
    FROM sided
    WHERE key_then IS NOT NULL
    GROUP BY compared_period, scope, key_then
),
to_now AS (
    SELECT
        compared_period, scope, key_now AS scope_key,
        sum(n) FILTER (WHERE flow = 'joined') AS joined,
        sum(n) FILTER (WHERE flow = 'registered_late') AS registered_late,
        sum(n) FILTER (WHERE flow IN ('moved', 'stayed') AND category_changed) AS category_changed
    FROM sided
    WHERE key_now IS NOT NULL
    GROUP BY compared_period, scope, key_now
),
moves_in AS (
    SELECT compared_period, scope, key_now AS scope_key, sum(n) AS moved_in
    FROM stays WHERE key_then <> key_now GROUP BY compared_period, scope, key_now
),
moves_out AS (
    SELECT compared_period, scope, key_then AS scope_key, sum(n) AS moved_out
    FROM stays WHERE key_then <> key_now GROUP BY compared_period, scope, key_then
),
moves_within AS (
    SELECT compared_period, scope, key_then AS scope_key, sum(n) AS moved_within
    FROM stays WHERE key_then = key_now AND flow = 'moved' GROUP BY compared_period, scope, key_then
),
-- D's own count, also without an earlier snapshot.
counts AS (
    SELECT 'region' AS scope, mc.region_code AS scope_key, mc.members FROM member_counts mc
    UNION ALL
    SELECT 'district', g.federal_district, sum(mc.members)
    FROM member_counts mc JOIN regions g ON g.region_code = mc.region_code
    GROUP BY g.federal_district
    UNION ALL
    SELECT 'national', '', sum(members) FROM member_counts
),
scopes AS (
    SELECT 0 AS scope_order, 'national' AS scope, CAST(NULL AS VARCHAR) AS federal_district,
           CAST(NULL AS VARCHAR) AS region_code, '' AS scope_key
    UNION ALL
    SELECT 1, 'district', federal_district, CAST(NULL AS VARCHAR), federal_district AS scope_key FROM federal_districts
    UNION ALL
    SELECT 2, 'region', federal_district, region_code, region_code AS scope_key FROM regions
),
flows AS (
    SELECT
        pr.period_order, pr.compared_period, pr.compared_to, s.scope_order, s.scope, s.federal_district, s.region_code,
        CAST(coalesce(k.members, 0) AS BIGINT) AS members,
        CAST(coalesce(t.members_prev, 0) AS BIGINT) AS members_prev,
        CAST(coalesce(n.joined, 0) AS BIGINT) AS joined,
        CAST(coalesce(n.registered_late, 0) AS BIGINT) AS registered_late,
        CAST(coalesce(t.left_record, 0) AS BIGINT) AS left_record,
        CAST(coalesce(t.gone_from_export, 0) AS BIGINT) AS gone_from_export,
        CAST(coalesce(mi.moved_in, 0) AS BIGINT) AS moved_in,
        CAST(coalesce(mo.moved_out, 0) AS BIGINT) AS moved_out,
        CAST(coalesce(mw.moved_within, 0) AS BIGINT) AS moved_within,
        CAST(coalesce(n.category_changed, 0) AS BIGINT) AS category_changed
    FROM periods pr
    CROSS JOIN scopes s
    LEFT JOIN counts k ON k.scope = s.scope AND k.scope_key = s.scope_key
    LEFT JOIN from_then t ON t.compared_period = pr.compared_period AND t.scope = s.scope AND t.scope_key = s.scope_key
    LEFT JOIN to_now n ON n.compared_period = pr.compared_period AND n.scope = s.scope AND n.scope_key = s.scope_key
    LEFT JOIN moves_in mi ON mi.compared_period = pr.compared_period AND mi.scope = s.scope AND mi.scope_key = s.scope_key
    LEFT JOIN moves_out mo ON mo.compared_period = pr.compared_period AND mo.scope = s.scope AND mo.scope_key = s.scope_key
    LEFT JOIN moves_within mw
        ON mw.compared_period = pr.compared_period AND mw.scope = s.scope AND mw.scope_key = s.scope_key
)
SELECT
    p.d AS as_of,
    CAST(f.compared_period AS VARCHAR) AS compared_period,
    f.compared_to,
    CAST(f.scope AS VARCHAR) AS scope,
    f.federal_district,
    f.region_code,
    CASE WHEN f.compared_to IS NOT NULL THEN f.members_prev END AS members_prev,
    f.members,
    CASE WHEN f.compared_to IS NOT NULL THEN f.members - f.members_prev END AS net_change,
    CASE WHEN f.compared_to IS NOT NULL THEN f.joined END AS joined,
    CASE WHEN f.compared_to IS NOT NULL THEN f.registered_late END AS registered_late,
    CASE WHEN f.compared_to IS NOT NULL THEN f.left_record END AS left_record,
    CASE WHEN f.compared_to IS NOT NULL THEN f.gone_from_export END AS gone_from_export,
    CASE WHEN f.compared_to IS NOT NULL THEN f.moved_in END AS moved_in,
    CASE WHEN f.compared_to IS NOT NULL THEN f.moved_out END AS moved_out,
    CASE WHEN f.compared_to IS NOT NULL THEN f.moved_within END AS moved_within,
    CASE WHEN f.compared_to IS NOT NULL THEN f.category_changed END AS category_changed
FROM flows f
CROSS JOIN params p
ORDER BY f.period_order, f.scope_order, f.federal_district NULLS FIRST, f.region_code NULLS FIRST;
