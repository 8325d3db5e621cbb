-- members_on_record: members on record at D (org_members adds each
-- organization's region and primary organization after counting them, so the
-- join is made once per organization, not once per member).
-- snapshot.md: on record at D when registered_on <= D and (left_on is null or
-- left_on > D): one who left on D is off the record. A member whose
-- organization is itself inactive at D is still on record (data_quality
-- counts such members as members_in_inactive_org).
CREATE VIEW members_on_record AS
SELECT m.*
FROM members m
CROSS JOIN params p
WHERE m.registered_on <= p.d
  AND (m.left_on IS NULL OR m.left_on > p.d);
