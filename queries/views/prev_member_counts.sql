-- prev_member_counts: members on record at the comparison date C per region,
-- read from the snapshot of C (empty when the warehouse has none). Counted per
-- organization first, then joined to C's organizations, as org_members does.
-- A table: national and regions both read it.
CREATE TABLE prev_member_counts AS
WITH per_org AS (
    SELECT m.org_id, count(*) AS members
    FROM members_prev m
    CROSS JOIN params p
    WHERE m.registered_on <= p.c
      AND (m.left_on IS NULL OR m.left_on > p.c)
    GROUP BY m.org_id
)
SELECT o.region_code, sum(c.members) AS members
FROM per_org c
JOIN organizations_prev o ON o.org_id = c.org_id
GROUP BY o.region_code;
