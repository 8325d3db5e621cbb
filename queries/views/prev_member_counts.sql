-- prev_member_counts: members on record at the comparison date C per region,
-- in all and by category as org_members counts them at D, read from the
-- snapshot of C (empty when the warehouse has none). Counted per organization
-- first, then joined to C's organizations, as org_members does.
-- A table: national and regions both read it.
CREATE TABLE prev_member_counts AS
WITH per_org AS (
    SELECT
        m.org_id,
        count(*) AS members,
        count(*) FILTER (WHERE m.category = 'working') AS working,
        count(*) FILTER (WHERE m.category = 'student') AS students,
        count(*) FILTER (WHERE m.category = 'pensioner') AS pensioners,
        count(*) FILTER (WHERE m.category IS NULL) AS category_missing
    FROM members_prev m
    CROSS JOIN params p
    WHERE m.registered_on <= p.c
      AND (m.left_on IS NULL OR m.left_on > p.c)
    GROUP BY m.org_id
)
SELECT
    o.region_code,
    sum(c.members) AS members,
    sum(c.working) AS working,
    sum(c.students) AS students,
    sum(c.pensioners) AS pensioners,
    sum(c.category_missing) AS category_missing
FROM per_org c
JOIN organizations_prev o ON o.org_id = c.org_id
GROUP BY o.region_code;
