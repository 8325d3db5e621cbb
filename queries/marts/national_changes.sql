-- national_changes: one row per headline indicator of the overview's «Главные
-- показатели» table, in its order: the value at D (mart_national), at C
-- (prev_national: C's own national mart, as C's compute wrote it) and the
-- change since C, so the pages subtract nothing.
-- prev_national is registered by compute: C's national mart, or no row
-- without C or when C's marts were never computed; the aggregate below then
-- gives one row of nulls, so value_prev, change and change_pct are null.
-- change_pct is the growth over the earlier value, 100 · change / value_prev,
-- null when value_prev is null or 0.
WITH n AS (
    SELECT * FROM mart_national
),
b AS (
    SELECT
        max(members) AS members,
        max(working) AS working,
        max(students) AS students,
        max(pensioners) AS pensioners,
        max(category_missing) AS category_missing,
        max(primary_orgs) AS primary_orgs,
        max(territorial_orgs) AS territorial_orgs,
        max(primary_auto_reports) AS primary_auto_reports,
        max(territorial_reports) AS territorial_reports,
        max(joined_online) AS joined_online,
        max(profcards) AS profcards,
        max(profcards_app) AS profcards_app,
        max(cards_issued) AS cards_issued,
        max(cards_refused) AS cards_refused
    FROM prev_national
),
pairs AS (
    SELECT 'members' AS code, 1 AS pos, n.members AS now_value, b.members AS prev_value FROM n CROSS JOIN b
    UNION ALL
    SELECT 'working', 2, n.working, b.working FROM n CROSS JOIN b
    UNION ALL
    SELECT 'students', 3, n.students, b.students FROM n CROSS JOIN b
    UNION ALL
    SELECT 'pensioners', 4, n.pensioners, b.pensioners FROM n CROSS JOIN b
    UNION ALL
    SELECT 'category_missing', 5, n.category_missing, b.category_missing FROM n CROSS JOIN b
    UNION ALL
    SELECT 'primary_orgs', 6, n.primary_orgs, b.primary_orgs FROM n CROSS JOIN b
    UNION ALL
    SELECT 'territorial_orgs', 7, n.territorial_orgs, b.territorial_orgs FROM n CROSS JOIN b
    UNION ALL
    SELECT 'primary_auto_reports', 8, n.primary_auto_reports, b.primary_auto_reports FROM n CROSS JOIN b
    UNION ALL
    SELECT 'territorial_reports', 9, n.territorial_reports, b.territorial_reports FROM n CROSS JOIN b
    UNION ALL
    SELECT 'joined_online', 10, n.joined_online, b.joined_online FROM n CROSS JOIN b
    UNION ALL
    SELECT 'profcards', 11, n.profcards, b.profcards FROM n CROSS JOIN b
    UNION ALL
    SELECT 'profcards_app', 12, n.profcards_app, b.profcards_app FROM n CROSS JOIN b
    UNION ALL
    SELECT 'cards_issued', 13, n.cards_issued, b.cards_issued FROM n CROSS JOIN b
    UNION ALL
    SELECT 'cards_refused', 14, n.cards_refused, b.cards_refused FROM n CROSS JOIN b
)
SELECT
    p.d AS as_of,
    CAST(pairs.code AS VARCHAR) AS indicator,
    CAST(pairs.pos AS BIGINT) AS sort_order,
    CAST(pairs.now_value AS BIGINT) AS value,
    CAST(pairs.prev_value AS BIGINT) AS value_prev,
    CAST(pairs.now_value - pairs.prev_value AS BIGINT) AS change,
    CASE WHEN pairs.prev_value <> 0
         THEN 100.0 * (pairs.now_value - pairs.prev_value) / pairs.prev_value END AS change_pct
FROM pairs
CROSS JOIN params p
ORDER BY pairs.pos;
