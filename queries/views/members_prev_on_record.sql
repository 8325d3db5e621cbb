-- members_prev_on_record: members on record at the comparison date C, read
-- from the snapshot of C (empty when the warehouse has none).
CREATE VIEW members_prev_on_record AS
SELECT m.*, o.region_code
FROM members_prev m
JOIN organizations_prev o ON o.org_id = m.org_id
CROSS JOIN params p
WHERE m.registered_on <= p.c
  AND (m.left_on IS NULL OR m.left_on > p.c);
