-- member_counts: members on record at D per region, every category and flag
-- the marts report (org_members summed). national sums it; regions and
-- data_quality join it.
CREATE VIEW member_counts AS
SELECT
    region_code,
    sum(members) AS members,
    sum(working) AS working,
    sum(students) AS students,
    sum(pensioners) AS pensioners,
    sum(category_missing) AS category_missing,
    sum(joined_online) AS joined_online,
    sum(profcards) AS profcards,
    sum(profcards_app) AS profcards_app,
    sum(cards_issued) AS cards_issued,
    sum(cards_refused) AS cards_refused,
    sum(no_consent) AS no_consent
FROM org_members
GROUP BY region_code;
