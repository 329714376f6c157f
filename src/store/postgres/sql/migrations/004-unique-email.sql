-- Schema version 4: an email is unique within a database (issue #13).
--
-- 0.1.0 let two profiles of a database share an email, and from then on every call matching that
-- email answered 409. Where such duplicates exist, the oldest profile (earliest created_at, then
-- smallest id) keeps the address as its matching key; the others keep the email in their fields
-- but are no longer found by it (their keys list loses the pair too, so that nothing refers to the
-- removed rows). Then a unique index makes the rule hold for every later write, whatever the
-- concurrency: two writes of one new email cannot both commit. The index leads with key, the
-- distribution column of match_keys, so Citus can enforce it on each shard.

-- In steps that Citus can plan too (docs/scaling.md): match_keys (by key) and profiles (by id)
-- are never joined in one statement; the few shared emails go through temporary tables.
CREATE TEMPORARY TABLE ties_email_shared ON COMMIT DROP AS
SELECT m.key, m.db_id, m.profile_id
  FROM match_keys m
 WHERE m.kind = 'e'
   AND (m.key, m.db_id) IN (SELECT o.key, o.db_id FROM match_keys o WHERE o.kind = 'e'
                             GROUP BY o.key, o.db_id HAVING count(*) > 1);

CREATE TEMPORARY TABLE ties_email_owners ON COMMIT DROP AS
SELECT p.id, p.created_at FROM profiles p
 WHERE p.id = ANY (ARRAY(SELECT DISTINCT s.profile_id FROM ties_email_shared s));

CREATE TEMPORARY TABLE ties_email_losers ON COMMIT DROP AS
SELECT x.key, x.db_id, x.profile_id
  FROM (SELECT s.key, s.db_id, s.profile_id,
               row_number() OVER (PARTITION BY s.key, s.db_id ORDER BY o.created_at, o.id) AS n
          FROM ties_email_shared s JOIN ties_email_owners o ON o.id = s.profile_id) x
 WHERE x.n > 1;

DELETE FROM match_keys m USING ties_email_losers l
 WHERE m.key = l.key AND m.db_id = l.db_id AND m.kind = 'e' AND m.resource_id = 0
   AND m.profile_id = l.profile_id;

-- One profile at a time: Citus refuses an UPDATE of a distributed table whose new value comes from
-- a subquery inside coalesce().
DO $$
DECLARE
  v_id text;
  v_keys jsonb;
BEGIN
  FOR v_id IN SELECT DISTINCT l.profile_id FROM ties_email_losers l LOOP
    SELECT coalesce(jsonb_agg(k), '[]') INTO v_keys
      FROM profiles p CROSS JOIN LATERAL jsonb_array_elements(p.keys) k
     WHERE p.id = v_id AND k->>0 <> 'e';
    UPDATE profiles SET keys = v_keys WHERE id = v_id;
  END LOOP;
END
$$;

CREATE UNIQUE INDEX match_keys_email ON match_keys (key, db_id) WHERE kind = 'e';
