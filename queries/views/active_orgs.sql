-- active_orgs: organizations active at D.
-- snapshot.md: active at D when registered_on <= D and (excluded_on is null
-- or excluded_on > D): one excluded exactly on D is inactive, one registered
-- exactly on D is active.
-- A table (tens of thousands of rows): nearly every mart and check reads it.
CREATE TABLE active_orgs AS
SELECT o.*
FROM organizations o
CROSS JOIN params p
WHERE o.registered_on <= p.d
  AND (o.excluded_on IS NULL OR o.excluded_on > p.d);
