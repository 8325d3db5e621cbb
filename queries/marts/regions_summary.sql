-- regions_summary: one row, how many regional organizations of the regions
-- mart are in each list the pages and the briefing name: all of them, those
-- with a baseline (a coverage band) and without, those where every
-- organization reported for P, those whose coverage did not change since C
-- (null without C), those above the online-joining threshold, those using
-- the online service actively (item 3: more than 1000 joined), those with
-- more than 95 % of their members on the registry (item 3's first list), and
-- those with nothing in their worklist (worklist_regions).
SELECT
    p.d AS as_of,
    count(*) AS regions,
    count(*) FILTER (WHERE r.coverage_band IS NOT NULL) AS regions_with_baseline,
    count(*) FILTER (WHERE r.coverage_band IS NULL) AS regions_without_baseline,
    count(*) FILTER (WHERE r.all_reported) AS regions_all_reported,
    CASE WHEN p.c IS NOT NULL THEN count(*) FILTER (WHERE r.coverage_unchanged) END AS regions_coverage_unchanged,
    count(*) FILTER (WHERE r.joined_online_above_threshold) AS regions_joined_online_above_threshold,
    count(*) FILTER (WHERE r.joined_online_active) AS regions_joined_online_active,
    count(*) FILTER (WHERE r.coverage_above_threshold) AS regions_coverage_above_threshold,
    count(*) FILTER (WHERE w.orgs_to_fix = 0) AS regions_without_worklist
FROM mart_regions r
CROSS JOIN params p
JOIN mart_worklist_regions w ON w.region_code = r.region_code
GROUP BY p.d, p.c;
