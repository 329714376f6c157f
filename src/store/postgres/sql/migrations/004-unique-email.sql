-- Schema version 4: an email is unique within a database (issue #13).
--
-- 0.1.0 let two profiles of a database share an email, and from then on every call matching that
-- email answered 409. Where such duplicates exist, the oldest profile (earliest created_at, then
-- smallest id) keeps the address as its matching key; the others keep the email in their fields
-- but are no longer found by it (their keys list loses the pair too, so that nothing refers to the
-- removed rows). Then a unique index makes the rule hold for every later write, whatever the
-- concurrency: two writes of one new email cannot both commit. The index leads with key, the
-- distribution column of match_keys, so Citus can enforce it on each shard.

CREATE TEMPORARY TABLE ties_email_losers ON COMMIT DROP AS
SELECT m.key, m.db_id, m.profile_id
  FROM match_keys m JOIN profiles p ON p.id = m.profile_id
 WHERE m.kind = 'e'
   AND EXISTS (SELECT 1 FROM match_keys o JOIN profiles op ON op.id = o.profile_id
                WHERE o.key = m.key AND o.db_id = m.db_id AND o.kind = 'e'
                  AND (op.created_at, op.id) < (p.created_at, p.id));

DELETE FROM match_keys m USING ties_email_losers l
 WHERE m.key = l.key AND m.db_id = l.db_id AND m.kind = 'e' AND m.resource_id = 0
   AND m.profile_id = l.profile_id;

UPDATE profiles p SET keys = coalesce(
    (SELECT jsonb_agg(k) FROM jsonb_array_elements(p.keys) k WHERE k->>0 <> 'e'), '[]')
  FROM ties_email_losers l WHERE p.id = l.profile_id;

CREATE UNIQUE INDEX match_keys_email ON match_keys (key, db_id) WHERE kind = 'e';
