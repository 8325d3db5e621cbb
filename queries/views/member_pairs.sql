-- member_pairs: members on record at C or D, counted per pair of regions
-- (at C, at D), flow and whether the category changed — a few thousand rows
-- however many members, so member_flows sums them per scope without
-- joining the two snapshots again. A table: the join of the two snapshots'
-- members runs once. The definitions are member_flows'.
CREATE TABLE member_pairs AS
WITH at_c AS (
    -- Organizations, categories and regions repeat: dictionary-encoded, the
    -- side of the join held in memory takes a fraction of the space.
    SELECT
        m.member_id, arrow_cast(m.org_id, 'Dictionary(Int32, Utf8)') AS org_id, arrow_cast(m.category, 'Dictionary(Int32, Utf8)') AS category,
        arrow_cast(o.region_code, 'Dictionary(Int32, Utf8)') AS region_code
    FROM members_prev m
    JOIN organizations_prev o ON o.org_id = m.org_id
    WHERE m.registered_on <= (SELECT c FROM params)
      AND (m.left_on IS NULL OR m.left_on > (SELECT c FROM params))
),
in_d AS (
    SELECT
        m.member_id, arrow_cast(m.org_id, 'Dictionary(Int32, Utf8)') AS org_id, arrow_cast(m.category, 'Dictionary(Int32, Utf8)') AS category,
        arrow_cast(o.region_code, 'Dictionary(Int32, Utf8)') AS region_code,
        m.registered_on <= (SELECT d FROM params)
            AND (m.left_on IS NULL OR m.left_on > (SELECT d FROM params)) AS on_record,
        m.registered_on > (SELECT c FROM params) AS after_c
    FROM members m
    JOIN organizations o ON o.org_id = m.org_id
),
paired AS (
    SELECT
        c.region_code AS region_c,
        CASE WHEN d.member_id IS NOT NULL THEN d.region_code END AS region_d,
        CASE
            WHEN c.member_id IS NULL THEN
                CASE WHEN d.after_c THEN 'joined' ELSE 'registered_late' END
            WHEN d.member_id IS NULL THEN 'gone_from_export'
            WHEN NOT d.on_record THEN 'left_record'
            WHEN c.org_id <> d.org_id THEN 'moved'
            ELSE 'stayed'
        END AS flow,
        coalesce(
            c.member_id IS NOT NULL AND d.on_record
                AND (c.category <> d.category OR (c.category IS NULL) <> (d.category IS NULL)),
            false
        ) AS category_changed
    FROM at_c c
    FULL OUTER JOIN in_d d ON d.member_id = c.member_id
    WHERE c.member_id IS NOT NULL OR d.on_record
),
-- Counted once per pair of regions and flow.
counted AS (
    SELECT
        x.region_c, x.region_d, gc.federal_district AS district_c, gd.federal_district AS district_d,
        x.flow, x.category_changed, x.n
    FROM (
        SELECT region_c, region_d, flow, category_changed, count(*) AS n
        FROM paired
        GROUP BY region_c, region_d, flow, category_changed
    ) x
    LEFT JOIN regions gc ON gc.region_code = x.region_c
    LEFT JOIN regions gd ON gd.region_code = x.region_d
)
SELECT * FROM counted;
