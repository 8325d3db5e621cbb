-- member_pairs: members on record at an earlier snapshot T or at D, counted
-- per pair of regions (at T, at D), flow, and category (at T, at D) — a few
-- thousand rows however many members, so member_flows and the other marts
-- sum them per scope without joining the two snapshots again.
--
-- compute runs this once per comparison (compared_period 'year': T = C;
-- 'quarter': T = the snapshot of the quarter before D's), with T's tables
-- registered as members_then and organizations_then and the one-row
-- `comparison` (compared_period, then_date, bucket, buckets); the results together are the
-- table member_pairs the marts read. The flows' definitions are
-- member_flows'.
--
-- An id on record at both dates whose registered_on at D is after T cannot
-- be the same membership: the id was given again (recycled) or its date
-- rewritten. It stays where the registry puts it (staying or moving, so the
-- identity holds) and is flagged `recycled` for data_quality's check.
-- The join's memory is the earlier snapshot's members held in a hash table;
-- compute runs the query once per bucket of member ids (`comparison.bucket`
-- of `comparison.buckets`, by the id's last character: any split is correct,
-- this one even for the ids the registry uses), so only a bucket is held at
-- a time. The counts of the buckets add up.
-- org_then / org_now are kept only for members gone from the export and
-- recycled ids, so the checks can count organizations without the pairs
-- growing with the members.
WITH at_then AS (
    -- Organizations, categories and regions repeat: dictionary-encoded, the
    -- side of the join held in memory takes a fraction of the space.
    SELECT
        m.member_id, arrow_cast(m.org_id, 'Dictionary(Int32, Utf8)') AS org_id, arrow_cast(m.category, 'Dictionary(Int32, Utf8)') AS category,
        arrow_cast(o.region_code, 'Dictionary(Int32, Utf8)') AS region_code
    FROM members_then m
    JOIN organizations_then o ON o.org_id = m.org_id
    WHERE m.registered_on <= (SELECT then_date FROM comparison)
      AND (m.left_on IS NULL OR m.left_on > (SELECT then_date FROM comparison))
      AND ascii(right(m.member_id, 1)) % (SELECT buckets FROM comparison) = (SELECT bucket FROM comparison)
),
in_d AS (
    SELECT
        m.member_id, arrow_cast(m.org_id, 'Dictionary(Int32, Utf8)') AS org_id, arrow_cast(m.category, 'Dictionary(Int32, Utf8)') AS category,
        arrow_cast(o.region_code, 'Dictionary(Int32, Utf8)') AS region_code,
        m.registered_on <= (SELECT d FROM params)
            AND (m.left_on IS NULL OR m.left_on > (SELECT d FROM params)) AS on_record,
        m.registered_on > (SELECT then_date FROM comparison) AS after_then
    FROM members m
    JOIN organizations o ON o.org_id = m.org_id
    WHERE ascii(right(m.member_id, 1)) % (SELECT buckets FROM comparison) = (SELECT bucket FROM comparison)
),
paired AS (
    SELECT
        t.region_code AS region_then,
        CASE WHEN d.member_id IS NOT NULL THEN d.region_code END AS region_now,
        CASE
            WHEN t.member_id IS NULL THEN
                CASE WHEN d.after_then THEN 'joined' ELSE 'registered_late' END
            WHEN d.member_id IS NULL THEN 'gone_from_export'
            WHEN NOT d.on_record THEN 'left_record'
            WHEN t.org_id <> d.org_id THEN 'moved'
            ELSE 'stayed'
        END AS flow,
        t.category AS category_then,
        CASE WHEN d.on_record THEN d.category END AS category_now,
        coalesce(t.member_id IS NOT NULL AND d.on_record AND d.after_then, false) AS recycled,
        -- Plain text, not the join's dictionary: after the join a batch's
        -- dictionary is every organization of its side, and grouping by it
        -- would encode them all for every batch (quadratic in the members).
        CAST(CASE WHEN t.member_id IS NOT NULL AND d.member_id IS NULL THEN t.org_id END AS VARCHAR) AS org_then,
        CAST(CASE WHEN t.member_id IS NOT NULL AND d.on_record AND d.after_then THEN d.org_id END AS VARCHAR) AS org_now
    FROM at_then t
    FULL OUTER JOIN in_d d ON d.member_id = t.member_id
    WHERE t.member_id IS NOT NULL OR d.on_record
),
counted AS (
    SELECT
        region_then, region_now, flow,
        CAST(category_then AS VARCHAR) AS category_then, CAST(category_now AS VARCHAR) AS category_now,
        recycled, org_then, org_now, count(*) AS n
    FROM paired
    GROUP BY region_then, region_now, flow, category_then, category_now, recycled, org_then, org_now
)
SELECT
    CAST(k.compared_period AS VARCHAR) AS compared_period,
    k.then_date,
    CAST(x.region_then AS VARCHAR) AS region_then, CAST(x.region_now AS VARCHAR) AS region_now,
    gt.federal_district AS district_then, gn.federal_district AS district_now,
    x.flow, x.category_then, x.category_now, x.recycled, x.org_then, x.org_now, x.n
FROM counted x
CROSS JOIN comparison k
LEFT JOIN regions gt ON gt.region_code = x.region_then
LEFT JOIN regions gn ON gn.region_code = x.region_now;
