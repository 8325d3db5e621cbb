-- gate: what changed suspiciously between the last good date ("before") and
-- the date about to be published ("now"); one row per rule that fired, the
-- worst first. Nothing here is published: the nightly job holds the date when
-- any row comes back, and formats these figures into its message.
--
-- Inputs (registered by compute::gate):
-- - national_now, national_before, regions_now, regions_before: the two
--   dates' national and regions marts, as their compute wrote them;
-- - tables_now, tables_before: per contract table, rows_read, rows_loaded
--   and rows_rejected from each date's run manifest;
-- - gate_thresholds: one row, each limit in percent (reestr.toml [gate]).
--
-- Rules, in the order they are reported:
-- 1. members_drop: the union's members on record fell by more than
--    members_drop_pct of the earlier figure;
-- 2. region_members_drop: a region that had members fell to zero or by more
--    than region_members_drop_pct;
-- 3. table_rows_drop: a table's loaded rows fell by more than
--    table_rows_drop_pct;
-- 4. rejected_rows: the snapshot (all its tables) rejected more than
--    rejected_rows_pct of the rows it read — the new date alone. Counted over
--    the whole snapshot: a small table's few bad rows are no alarm, and a
--    table that lost most of its rows to rejects fires table_rows_drop;
-- 5. official_report_vanished: the official report (official_stats) the
--    earlier date was measured against is gone — no report, or only an older
--    one (scope national); or the report is there but a region's line of it
--    is not (scope the region).
-- change_pct is the growth over the earlier figure (negative for a fall);
-- for rejected_rows it is the share rejected (after: rows rejected, total:
-- rows read). A drop of exactly the limit
-- passes.
WITH t AS (
    SELECT * FROM gate_thresholds
),
national AS (
    SELECT
        b.members AS members_before,
        n.members AS members_now,
        b.members_official AS official_before,
        n.members_official AS official_now,
        b.baseline_as_of AS report_before,
        n.baseline_as_of AS report_now
    FROM national_before b
    CROSS JOIN national_now n
),
report_gone AS (
    -- The earlier report is missing altogether (not just a region's line).
    SELECT official_before, official_now, report_before
    FROM national
    WHERE report_before IS NOT NULL AND (report_now IS NULL OR report_now < report_before)
),
regions AS (
    SELECT
        b.region_code,
        b.region_name,
        b.members AS members_before,
        COALESCE(n.members, 0) AS members_now,
        b.members_official AS official_before,
        n.members_official AS official_now
    FROM regions_before b
    LEFT JOIN regions_now n ON n.region_code = b.region_code
),
tables AS (
    SELECT
        n.table_name,
        b.rows_loaded AS rows_before,
        n.rows_loaded AS rows_now,
        n.rows_read,
        n.rows_rejected
    FROM tables_now n
    LEFT JOIN tables_before b ON b.table_name = n.table_name
),
snapshot AS (
    SELECT sum(rows_read) AS rows_read, sum(rows_rejected) AS rows_rejected
    FROM tables_now
),
fired AS (
    SELECT
        1 AS sort_order,
        'members_drop' AS rule,
        'national' AS scope,
        CAST(NULL AS VARCHAR) AS scope_name,
        members_before AS before,
        members_now AS after,
        CAST(NULL AS BIGINT) AS total,
        100.0 * (members_now - members_before) / members_before AS change_pct,
        t.members_drop_pct AS limit_pct,
        CAST(NULL AS DATE) AS report_date
    FROM national
    CROSS JOIN t
    WHERE members_before > 0
      AND 100.0 * (members_now - members_before) / members_before < -t.members_drop_pct

    UNION ALL
    SELECT
        2 AS sort_order,
        'region_members_drop' AS rule,
        region_code AS scope,
        region_name AS scope_name,
        members_before AS before,
        members_now AS after,
        CAST(NULL AS BIGINT) AS total,
        100.0 * (members_now - members_before) / members_before AS change_pct,
        t.region_members_drop_pct AS limit_pct,
        CAST(NULL AS DATE) AS report_date
    FROM regions
    CROSS JOIN t
    WHERE members_before > 0
      AND (members_now = 0 OR 100.0 * (members_now - members_before) / members_before < -t.region_members_drop_pct)

    UNION ALL
    SELECT
        3 AS sort_order,
        'table_rows_drop' AS rule,
        table_name AS scope,
        table_name AS scope_name,
        rows_before AS before,
        rows_now AS after,
        CAST(NULL AS BIGINT) AS total,
        100.0 * (rows_now - rows_before) / rows_before AS change_pct,
        t.table_rows_drop_pct AS limit_pct,
        CAST(NULL AS DATE) AS report_date
    FROM tables
    CROSS JOIN t
    WHERE rows_before > 0
      AND 100.0 * (rows_now - rows_before) / rows_before < -t.table_rows_drop_pct

    UNION ALL
    SELECT
        4 AS sort_order,
        'rejected_rows' AS rule,
        'snapshot' AS scope,
        CAST(NULL AS VARCHAR) AS scope_name,
        CAST(NULL AS BIGINT) AS before,
        rows_rejected AS after,
        rows_read AS total,
        100.0 * rows_rejected / rows_read AS change_pct,
        t.rejected_rows_pct AS limit_pct,
        CAST(NULL AS DATE) AS report_date
    FROM snapshot
    CROSS JOIN t
    WHERE rows_read > 0
      AND 100.0 * rows_rejected / rows_read > t.rejected_rows_pct

    UNION ALL
    SELECT
        5 AS sort_order,
        'official_report_vanished' AS rule,
        'national' AS scope,
        CAST(NULL AS VARCHAR) AS scope_name,
        official_before AS before,
        official_now AS after,
        CAST(NULL AS BIGINT) AS total,
        CAST(NULL AS DOUBLE) AS change_pct,
        CAST(NULL AS DOUBLE) AS limit_pct,
        report_before AS report_date
    FROM report_gone

    UNION ALL
    SELECT
        5 AS sort_order,
        'official_report_vanished' AS rule,
        r.region_code AS scope,
        r.region_name AS scope_name,
        r.official_before AS before,
        r.official_now AS after,
        CAST(NULL AS BIGINT) AS total,
        CAST(NULL AS DOUBLE) AS change_pct,
        CAST(NULL AS DOUBLE) AS limit_pct,
        n.report_before AS report_date
    FROM regions r
    CROSS JOIN national n
    WHERE r.official_before IS NOT NULL
      AND r.official_now IS NULL
      AND NOT EXISTS (SELECT 1 FROM report_gone)
)
SELECT rule, scope, scope_name, before, after, total, change_pct, limit_pct, report_date
FROM fired
-- Worst first: the steepest fall.
ORDER BY sort_order, change_pct, scope;
