-- member_counts: members on record at D counted per region, every category
-- and flag the marts report. national sums it; regions joins it.
CREATE VIEW member_counts AS
SELECT
    region_code,
    count(*) AS members,
    count(*) FILTER (WHERE category = 'working') AS working,
    count(*) FILTER (WHERE category = 'student') AS students,
    count(*) FILTER (WHERE category = 'pensioner') AS pensioners,
    count(*) FILTER (WHERE category IS NULL) AS category_missing,
    count(*) FILTER (WHERE joined_online) AS joined_online,
    count(*) FILTER (WHERE profcards) AS profcards,
    count(*) FILTER (WHERE profcards_app) AS profcards_app,
    count(*) FILTER (WHERE card_status = 'issued') AS cards_issued,
    count(*) FILTER (WHERE card_status = 'refused') AS cards_refused
FROM members_on_record
GROUP BY region_code;
