-- coverage_band_limits: the decree's coverage bands, highest first — the one
-- place their thresholds are written (regions, federal_districts and
-- coverage_bands read them; the pages word the bands from these limits).
-- A coverage percentage p is in a band when p >= lower_pct (no lower limit
-- when null) and p < upper_pct (no upper limit when null).
-- needs_attention: the bands wholly below attention_pct (70 %: the decree's
-- two lowest bands), the regions the district briefings name as needing
-- attention; attention_pct is also the limit between those bands and the
-- next, so it is written once.
CREATE VIEW coverage_band_limits AS
WITH attention AS (
    SELECT CAST(70 AS DOUBLE) AS attention_pct
),
bands AS (
    SELECT '100+' AS band, CAST(1 AS BIGINT) AS sort_order, CAST(100 AS DOUBLE) AS lower_pct, CAST(NULL AS DOUBLE) AS upper_pct
    UNION ALL SELECT '90-100', CAST(2 AS BIGINT), CAST(90 AS DOUBLE), CAST(100 AS DOUBLE)
    UNION ALL SELECT '70-90', CAST(3 AS BIGINT), a.attention_pct, CAST(90 AS DOUBLE) FROM attention a
    UNION ALL SELECT '50-70', CAST(4 AS BIGINT), CAST(50 AS DOUBLE), a.attention_pct FROM attention a
    UNION ALL SELECT '<50', CAST(5 AS BIGINT), CAST(NULL AS DOUBLE), CAST(50 AS DOUBLE)
)
SELECT b.band, b.sort_order, b.lower_pct, b.upper_pct, coalesce(b.upper_pct <= a.attention_pct, false) AS needs_attention
FROM bands b
CROSS JOIN attention a;
