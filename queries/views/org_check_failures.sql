-- org_check_failures: one row per organization and data-quality check it
-- fails at D, the common source of data_quality's counts and of the worklist.
-- The organization checks are the flags of org_flags (see its header for the
-- choices made), named <level>_<flag>; members_in_inactive_org has one row
-- per inactive organization that still has members on record.
-- `members` is the organization's count of members on record (with its active
-- subdivisions' for a primary org), shown in worklists.
-- A table, not a view: data_quality and the worklist both read it.
CREATE TABLE org_check_failures AS
SELECT org_id, region_code, level, 'primary_without_members' AS "check", members FROM org_flags WHERE without_members
UNION ALL
SELECT org_id, region_code, level, 'primary_under_3_members', members FROM org_flags WHERE under_3_members
UNION ALL
SELECT org_id, region_code, level, level || '_no_chair', members FROM org_flags WHERE no_chair
UNION ALL
SELECT org_id, region_code, level, level || '_no_chair_term', members FROM org_flags WHERE no_chair_term
UNION ALL
SELECT org_id, region_code, level, level || '_chair_expired', members FROM org_flags WHERE chair_expired
UNION ALL
SELECT org_id, region_code, level, level || '_no_access', members FROM org_flags WHERE no_access
UNION ALL
SELECT org_id, region_code, level, 'primary_no_inn', members FROM org_flags WHERE no_inn
UNION ALL
SELECT om.org_id, om.region_code, om.org_level, 'members_in_inactive_org', CAST(om.members AS BIGINT)
FROM org_members om
LEFT JOIN active_orgs a ON a.org_id = om.org_id
WHERE a.org_id IS NULL;
