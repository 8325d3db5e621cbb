-- member_category_flows: the from/to matrix behind member_flows'
-- category_changed — members on record at both the earlier snapshot and D,
-- counted by their category then and now (null: not given), per comparison
-- (compared_period, as member_flows) and scope (the union, each federal
-- district, each regional organization, by the member's region at D). The
-- diagonal (category unchanged) is kept, so a row's share can be read
-- against its category's members; a pair of categories no member has is
-- not a row, nor is a comparison without its earlier snapshot.
WITH stays AS (
    SELECT compared_period, then_date, region_now, district_now, category_then, category_now, n
    FROM member_pairs
    WHERE flow IN ('moved', 'stayed')
),
scoped AS (
    SELECT compared_period AS period, then_date, 0 AS scope_order, 'national' AS scope,
           CAST(NULL AS VARCHAR) AS federal_district, CAST(NULL AS VARCHAR) AS region_code,
           category_then, category_now, sum(n) AS members
    FROM stays
    GROUP BY compared_period, then_date, category_then, category_now
    UNION ALL
    SELECT compared_period, then_date, 1, 'district', district_now, CAST(NULL AS VARCHAR),
           category_then, category_now, sum(n)
    FROM stays
    GROUP BY compared_period, then_date, district_now, category_then, category_now
    UNION ALL
    SELECT compared_period, then_date, 2, 'region', district_now, region_now,
           category_then, category_now, sum(n)
    FROM stays
    GROUP BY compared_period, then_date, district_now, region_now, category_then, category_now
)
SELECT
    p.d AS as_of,
    CAST(s.period AS VARCHAR) AS compared_period,
    s.then_date AS compared_to,
    CAST(s.scope AS VARCHAR) AS scope,
    s.federal_district,
    s.region_code,
    s.category_then AS category_prev,
    s.category_now AS category,
    CAST(s.members AS BIGINT) AS members,
    s.category_then IS DISTINCT FROM s.category_now AS changed
FROM scoped s
CROSS JOIN params p
ORDER BY CASE s.period WHEN 'year' THEN 0 ELSE 1 END, s.scope_order,
    s.federal_district NULLS FIRST, s.region_code NULLS FIRST,
    s.category_then NULLS LAST, s.category_now NULLS LAST;
