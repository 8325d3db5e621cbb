-- org_members: members on record at D counted per organization, with the
-- organization's region, level and primary organization (a subdivision's
-- parent), and every category and flag the marts count.
-- A table, not a view: it is the one pass over the members at D, and
-- member_counts, org_check_failures and the marts all read it (about one row
-- per organization instead of one per member). Counts only: no mart ever
-- lists members.
CREATE TABLE org_members AS
WITH per_org AS (
    SELECT
        org_id,
        count(*) AS members,
        count(*) FILTER (WHERE category = 'working') AS working,
        count(*) FILTER (WHERE category = 'student') AS students,
        count(*) FILTER (WHERE category = 'pensioner') AS pensioners,
        count(*) FILTER (WHERE category IS NULL) AS category_missing,
        count(*) FILTER (WHERE joined_online) AS joined_online,
        count(*) FILTER (WHERE profcards) AS profcards,
        count(*) FILTER (WHERE profcards_app) AS profcards_app,
        count(*) FILTER (WHERE card_status = 'issued') AS cards_issued,
        count(*) FILTER (WHERE card_status = 'refused') AS cards_refused,
        count(*) FILTER (WHERE NOT pd_consent) AS no_consent
    FROM members_on_record
    GROUP BY org_id
)
SELECT
    c.org_id,
    o.region_code,
    o.level AS org_level,
    CASE WHEN o.level = 'subdivision' THEN o.parent_id ELSE o.org_id END AS primary_org_id,
    c.members, c.working, c.students, c.pensioners, c.category_missing, c.joined_online,
    c.profcards, c.profcards_app, c.cards_issued, c.cards_refused, c.no_consent
FROM per_org c
JOIN organizations o ON o.org_id = c.org_id;
