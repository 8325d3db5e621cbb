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
    o.name,
    f.level,
    o.parent_id,
    parent.name AS parent_name,
    f.members
FROM org_check_failures f
JOIN organizations o ON o.org_id = f.org_id
LEFT JOIN organizations parent ON parent.org_id = o.parent_id
CROSS JOIN params p
ORDER BY f.region_code, f."check", o.name, f.org_id;
