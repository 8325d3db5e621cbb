-- org_flags: every active primary and territorial organization at D with its
-- count of members on record and one flag per organization-level
-- data-quality check (marts.md "data_quality"); org_check_failures lists the
-- flags that are set.
--
-- Choices where the contract leaves a case open:
-- - members: those on record in the organization and, for a primary org, in
--   its active subdivisions; members of an excluded subdivision do not count
--   (they are members_in_inactive_org).
-- - chair_expired: chair_term_until < D, so a term ending on D itself has not
--   expired; an unknown term is no_chair_term, not expired.
-- - no_inn: null, or anything but exactly 10 digits (9 or 12 digits,
--   letters, spaces) fails.
-- A table: org_check_failures reads it once per check.
CREATE TABLE org_flags AS
WITH primary_members AS (
    SELECT om.primary_org_id AS org_id, sum(om.members) AS members
    FROM org_members om
    JOIN active_orgs a ON a.org_id = om.org_id
    WHERE om.org_level IN ('primary', 'subdivision')
    GROUP BY om.primary_org_id
)
SELECT
    a.org_id,
    a.region_code,
    a.level,
    CAST(coalesce(pm.members, 0) AS BIGINT) AS members,
    a.level = 'primary' AND coalesce(pm.members, 0) = 0 AS without_members,
    a.level = 'primary' AND coalesce(pm.members, 0) BETWEEN 1 AND 2 AS under_3_members,
    NOT a.chair_filled AS no_chair,
    a.chair_filled AND a.chair_term_until IS NULL AS no_chair_term,
    coalesce(a.chair_term_until < p.d, false) AS chair_expired,
    NOT a.chair_access AS no_access,
    a.level = 'primary' AND (a.inn IS NULL OR NOT (a.inn ~ '^[0-9]{10}$')) AS no_inn
FROM active_orgs a
CROSS JOIN params p
LEFT JOIN primary_members pm ON pm.org_id = a.org_id
WHERE a.level IN ('primary', 'territorial');
