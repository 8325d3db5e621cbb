-- reports_for_period: statistical reports made for the reporting period P
-- (any mode; marts choose auto or manual). A report for another period never
-- counts.
CREATE VIEW reports_for_period AS
SELECT r.*
FROM stat_reports r
CROSS JOIN params p
WHERE r.period = p.p;
