-- members_on_record: members on record at D, with the region of their
-- organization and their primary organization (a subdivision's member counts
-- for the subdivision's parent).
-- snapshot.md: on record at D when registered_on <= D and (left_on is null or
-- left_on > D): one who left on D is off the record. A member whose
-- organization is itself inactive at D is still on record (data_quality
-- counts such members as members_in_inactive_org).
CREATE VIEW members_on_record AS
SELECT
    m.*,
    o.region_code,
    o.level AS org_level,
    CASE WHEN o.level = 'subdivision' THEN o.parent_id ELSE o.org_id END AS primary_org_id
FROM members m
JOIN organizations o ON o.org_id = m.org_id
CROSS JOIN params p
WHERE m.registered_on <= p.d
  AND (m.left_on IS NULL OR m.left_on > p.d);
