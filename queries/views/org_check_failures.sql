-- org_check_failures: one row per organization and data-quality check it
-- fails at D, the common source of data_quality's counts and of the worklist.
-- The organization checks are the flags of org_flags (see its header for the
-- choices made), named <level>_<flag>; members_in_inactive_org has one row
-- per inactive organization that still has members on record.
-- `members` is the organization's count of members on record (with its active
-- subdivisions' for a primary org), shown in worklists; for the checks
-- against C (member_pairs, the year's comparison) the members concerned:
-- members_gone_from_export lists each organization at C whose members D's
-- export lacks (the organization may be gone from D's export too),
-- member_ids_recycled each organization at D holding a recycled id.
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
WHERE a.org_id IS NULL
UNION ALL
SELECT x.org_then, x.region_then, coalesce(o.level, op.level), 'members_gone_from_export', CAST(sum(x.n) AS BIGINT)
FROM member_pairs x
LEFT JOIN organizations o ON o.org_id = x.org_then
LEFT JOIN organizations_prev op ON op.org_id = x.org_then
WHERE x.compared_period = 'year' AND x.flow = 'gone_from_export'
GROUP BY x.org_then, x.region_then, coalesce(o.level, op.level)
UNION ALL
SELECT x.org_now, x.region_now, o.level, 'member_ids_recycled', CAST(sum(x.n) AS BIGINT)
FROM member_pairs x
JOIN organizations o ON o.org_id = x.org_now
WHERE x.compared_period = 'year' AND x.recycled
GROUP BY x.org_now, x.region_now, o.level;
