// Schema version 1 of the SQLite store, kept as a TypeScript string so that `tsc` ships it in dist.

/**
 * Catalogue tables are small and cached in memory by the engine. Profiles, their match keys and
 * subscriptions make every matching mode an index lookup. Relations are keyed by (rel_id, A, B)
 * with a second index by B; relation_stats and relation_tops hold what get_counter and
 * total_count read, maintained in the same transaction as every relation write. The schema is
 * the same whatever relation types exist: no DDL at run time.
 */
export const INITIAL_SCHEMA = `
CREATE TABLE databases (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  custom_fields TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE resources (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  channels TEXT NOT NULL,
  db_ids TEXT NOT NULL,
  created_at TEXT NOT NULL
);

-- AUTOINCREMENT: a deleted type's rel_id is never handed to a new type that old clients would then reach.
CREATE TABLE relation_types (
  rel_id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  db_a INTEGER NOT NULL,
  db_b INTEGER NOT NULL,
  properties TEXT NOT NULL,
  created_at TEXT NOT NULL
);

-- AUTOINCREMENT: a revoked token's id is never reused (tokens/revoke takes an id).
CREATE TABLE tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  rights TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  last_used_at TEXT
);
CREATE INDEX tokens_by_name ON tokens (name);

CREATE TABLE profiles (
  id TEXT PRIMARY KEY,
  db_id INTEGER NOT NULL,
  fields TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- kind: 'e' the profile's email, 'p' each phone, 'f:<field>' each custom field key (one per tag).
CREATE TABLE profile_keys (
  db_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  PRIMARY KEY (db_id, kind, key, profile_id)
) WITHOUT ROWID;
CREATE INDEX profile_keys_by_profile ON profile_keys (profile_id);

CREATE TABLE subscriptions (
  profile_id TEXT NOT NULL,
  resource_id INTEGER NOT NULL,
  channel TEXT NOT NULL,
  contact TEXT NOT NULL,
  contact_key TEXT NOT NULL,
  status TEXT NOT NULL,
  db_id INTEGER NOT NULL,
  PRIMARY KEY (profile_id, resource_id, channel, contact_key)
) WITHOUT ROWID;
CREATE INDEX subscriptions_by_contact ON subscriptions (db_id, channel, contact_key, resource_id);

CREATE TABLE relations (
  rel_id INTEGER NOT NULL,
  a TEXT NOT NULL,
  b TEXT NOT NULL,
  weights TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (rel_id, a, b)
) WITHOUT ROWID;
CREATE INDEX relations_by_b ON relations (rel_id, b, a);

-- side 'a', prop '': relations pointing at the profile; side 'b', prop '': relations it initiated;
-- side 'a', prop '<name>': relations having the property, and their sum when the property keeps
-- one. sum has no declared type so that int sums stay INTEGER and float sums REAL; sum_c is the
-- Kahan-Neumaier compensation of float sums (the reported sum is sum + sum_c).
CREATE TABLE relation_stats (
  rel_id INTEGER NOT NULL,
  profile_id TEXT NOT NULL,
  side TEXT NOT NULL,
  prop TEXT NOT NULL,
  count INTEGER NOT NULL,
  sum,
  sum_c REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (rel_id, profile_id, side, prop)
) WITHOUT ROWID;

-- One row per relation and numeric property that keeps a top, ordered as get_counter answers
-- (value descending, ties by B ascending). A table rather than a partial index per property:
-- SQLite opens every index of a table on every write to it, so indexes on relations that grow
-- with the number of relation types would slow every relation write of every type.
CREATE TABLE relation_tops (
  rel_id INTEGER NOT NULL,
  a TEXT NOT NULL,
  prop TEXT NOT NULL,
  value NOT NULL,
  b TEXT NOT NULL,
  PRIMARY KEY (rel_id, a, prop, value DESC, b)
) WITHOUT ROWID;
`;
