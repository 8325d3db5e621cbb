-- worklist_regions: per regional organization of the regions mart, how many
-- distinct organizations its worklist lists (at least one check failed), and
-- their share of its active primary and territorial organizations — what the
-- data-quality page ranks the regions by (null when it has none).
WITH listed AS (
    SELECT region_code, count(DISTINCT org_id) AS orgs_to_fix
    FROM mart_worklist
    GROUP BY region_code
)
SELECT
    p.d AS as_of,
    r.region_code,
    r.primary_orgs + r.territorial_orgs AS orgs,
    coalesce(l.orgs_to_fix, 0) AS orgs_to_fix,
    CASE WHEN r.primary_orgs + r.territorial_orgs > 0
         THEN 100.0 * coalesce(l.orgs_to_fix, 0) / (r.primary_orgs + r.territorial_orgs) END AS orgs_to_fix_pct
FROM mart_regions r
CROSS JOIN params p
LEFT JOIN listed l ON l.region_code = r.region_code
ORDER BY r.region_code;
