// SQLite schema version 3: an email is unique within a database (issue #13).
//
// 0.1.0 let two profiles of a database share an email, and from then on every call matching that
// email answered 409. Where such duplicates exist, the oldest profile (earliest created_at, then
// smallest id) keeps the address as its matching key; the others keep the email in their fields
// but are no longer found by it (they stay reachable by id, phone or custom fields, and a write
// that sets the same email on them again is refused with EMAIL_TAKEN). Then a unique index makes
// the rule hold for every later write.
export const UNIQUE_EMAIL_SCHEMA = `
DELETE FROM profile_keys
 WHERE kind = 'e'
   AND profile_id <> (
     SELECT k.profile_id FROM profile_keys k JOIN profiles p ON p.id = k.profile_id
      WHERE k.db_id = profile_keys.db_id AND k.kind = 'e' AND k.key = profile_keys.key
      ORDER BY p.created_at, p.id LIMIT 1);
CREATE UNIQUE INDEX profile_keys_email ON profile_keys (db_id, key) WHERE kind = 'e';
`;
