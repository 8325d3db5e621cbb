-- coverage_bands: the decree's coverage bands at D, highest first, one row per
-- band of coverage_band_limits (also a band no region is in): its limits, how
-- many regional organizations of the regions mart are in it, and their share
-- of the regional organizations that have a band (a baseline row); the share
-- is null when none has. needs_attention marks the bands below 70 %
-- (coverage_band_limits), those the district briefings name.
WITH counted AS (
    SELECT coverage_band AS band, count(*) AS regions
    FROM mart_regions
    WHERE coverage_band IS NOT NULL
    GROUP BY coverage_band
),
banded AS (
    SELECT count(*) AS regions
    FROM mart_regions
    WHERE coverage_band IS NOT NULL
)
SELECT
    p.d AS as_of,
    b.band,
    b.sort_order,
    b.lower_pct,
    b.upper_pct,
    coalesce(c.regions, 0) AS regions,
    CASE WHEN t.regions > 0 THEN 100.0 * coalesce(c.regions, 0) / t.regions END AS regions_pct,
    b.needs_attention
FROM coverage_band_limits b
CROSS JOIN params p
CROSS JOIN banded t
LEFT JOIN counted c ON c.band = b.band
ORDER BY b.sort_order;
