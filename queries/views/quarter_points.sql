-- quarter_points: the snapshot date that represents each quarter, for the
-- quarterly marts. A quarter ends on 1 January, 1 April, 1 July or 1 October
-- (quarter_end) and holds the dates after the previous end up to its own; the
-- latest of them — the snapshot nearest before the end — represents it, so
-- quarters compare like with like. D represents the quarter it falls in (the
-- quarter still running, unless D is its end). The dates are D and those
-- with marts before it (past_history_kpis, past_data_quality: registered by
-- compute with the latest date of each quarter, held dates left out).
CREATE VIEW quarter_points AS
WITH dates AS (
    SELECT as_of FROM past_history_kpis
    UNION
    SELECT as_of FROM past_data_quality
    UNION
    SELECT d AS as_of FROM params
),
dated AS (
    SELECT
        d.as_of,
        -- The first quarter start on or after the date.
        CAST(date_trunc('quarter', d.as_of - INTERVAL '1 day') + INTERVAL '3 months' AS DATE) AS quarter_end
    FROM dates d
    CROSS JOIN params p
    WHERE d.as_of <= p.d
)
SELECT quarter_end, max(as_of) AS as_of
FROM dated
GROUP BY quarter_end;
