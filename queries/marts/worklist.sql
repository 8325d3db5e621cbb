-- worklist: every organization failing an organization-level data-quality
-- check at D, one row per organization and check, so each region can fix its
-- own records (marts.md "data_quality", the worklist). Never a member: only
-- the organization, its parent and its count of members on record.
-- Columns beyond the contract's (org_id, name, region_code, level, check):
-- as_of, parent_id and parent_name (where the organization sits), members.
-- Ordered by region, check, organization name, org_id.
SELECT
    p.d AS as_of,
    f.region_code,
    f."check",
    f.org_id,
    coalesce(o.name, op.name) AS name,
    f.level,
    coalesce(o.parent_id, op.parent_id) AS parent_id,
    coalesce(parent.name, parent_prev.name) AS parent_name,
    f.members
FROM org_check_failures f
-- An organization whose members are gone from D's export may be gone from
-- it too: then it is named as C's export had it.
LEFT JOIN organizations o ON o.org_id = f.org_id
LEFT JOIN organizations_prev op ON op.org_id = f.org_id AND o.org_id IS NULL
LEFT JOIN organizations parent ON parent.org_id = coalesce(o.parent_id, op.parent_id)
LEFT JOIN organizations_prev parent_prev
    ON parent_prev.org_id = coalesce(o.parent_id, op.parent_id) AND parent.org_id IS NULL
CROSS JOIN params p
ORDER BY f.region_code, f."check", coalesce(o.name, op.name), f.org_id;
