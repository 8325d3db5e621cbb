-- baseline: B, the latest official_stats.as_of on or before D (marts.md,
-- "Dates a run works with"); null when the snapshot has no such report.
SELECT max(s.stats_as_of) AS b
FROM official_stats s
CROSS JOIN params p
WHERE s.stats_as_of <= p.d;
