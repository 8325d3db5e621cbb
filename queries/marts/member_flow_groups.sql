-- member_flow_groups: the regions of the union and of each federal district
-- grouped by the sign of their net change in members on record (grew, fell,
-- unchanged: exactly zero) against each earlier snapshot, with their flows
-- summed — what the briefings' sentences per group of regions say («рост
-- обеспечен вступлением …»). Every group is a row, also with no region
-- (regions 0, sums 0); no rows for a comparison without its earlier
-- snapshot. The flows are member_flows' region rows.
WITH regional AS (
    SELECT
        f.*,
        CASE WHEN f.net_change > 0 THEN 'grew' WHEN f.net_change < 0 THEN 'fell' ELSE 'unchanged' END AS change_group
    FROM mart_member_flows f
    WHERE f.scope = 'region' AND f.compared_to IS NOT NULL
),
scopes AS (
    SELECT DISTINCT compared_period, compared_to, 0 AS scope_order, 'national' AS scope,
           CAST(NULL AS VARCHAR) AS federal_district
    FROM regional
    UNION ALL
    SELECT DISTINCT r.compared_period, r.compared_to, 1, 'district', d.federal_district
    FROM regional r CROSS JOIN federal_districts d
),
groups (change_group, group_order) AS (
    VALUES ('grew', 1), ('fell', 2), ('unchanged', 3)
),
summed AS (
    SELECT
        s.compared_period, s.compared_to, s.scope_order, s.scope, s.federal_district, g.change_group, g.group_order,
        count(r.region_code) AS regions,
        sum(r.members_prev) AS members_prev,
        sum(r.members) AS members,
        sum(r.net_change) AS net_change,
        sum(r.joined) AS joined,
        sum(r.registered_late) AS registered_late,
        sum(r.left_record) AS left_record,
        sum(r.gone_from_export) AS gone_from_export,
        sum(r.moved_in) AS moved_in,
        sum(r.moved_out) AS moved_out
    FROM scopes s
    CROSS JOIN groups g
    LEFT JOIN regional r
        ON r.compared_period = s.compared_period
       AND r.change_group = g.change_group
       AND (s.scope = 'national' OR r.federal_district = s.federal_district)
    GROUP BY s.compared_period, s.compared_to, s.scope_order, s.scope, s.federal_district, g.change_group, g.group_order
)
SELECT
    p.d AS as_of,
    CAST(compared_period AS VARCHAR) AS compared_period,
    compared_to,
    CAST(scope AS VARCHAR) AS scope,
    federal_district,
    CAST(change_group AS VARCHAR) AS change_group,
    CAST(regions AS BIGINT) AS regions,
    CAST(coalesce(members_prev, 0) AS BIGINT) AS members_prev,
    CAST(coalesce(members, 0) AS BIGINT) AS members,
    CAST(coalesce(net_change, 0) AS BIGINT) AS net_change,
    CAST(coalesce(joined, 0) AS BIGINT) AS joined,
    CAST(coalesce(registered_late, 0) AS BIGINT) AS registered_late,
    CAST(coalesce(left_record, 0) AS BIGINT) AS left_record,
    CAST(coalesce(gone_from_export, 0) AS BIGINT) AS gone_from_export,
    CAST(coalesce(moved_in, 0) AS BIGINT) AS moved_in,
    CAST(coalesce(moved_out, 0) AS BIGINT) AS moved_out
FROM summed
CROSS JOIN params p
ORDER BY CASE compared_period WHEN 'year' THEN 0 ELSE 1 END, scope_order, federal_district NULLS FIRST, group_order;
