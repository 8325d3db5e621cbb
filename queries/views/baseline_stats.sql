-- baseline_stats: the union's statistical report at the baseline B, one row
-- per regional organization (empty when no report is dated on or before D).
CREATE VIEW baseline_stats AS
SELECT s.*
FROM official_stats s
CROSS JOIN params p
WHERE s.stats_as_of = p.b;
