-- Schema version 1 of the PostgreSQL store: the tables and types of Ties 0.1.0's migration 1. Its
-- functions, created by that migration too, now live in ../functions/*.sql, re-applied whenever
-- their text changes; a schema made by 0.1.0 and one made by this file plus the functions end the same.
--
-- Tables are laid out for Citus (DESIGN §4, docs/scaling.md): every table holding per-profile data
-- is keyed first by the profile it belongs to, which is its distribution column, and no sequence
-- appears in those keys. Catalogue tables (databases, resources, relation_types, tokens) are small
-- and meant to become reference tables. match_keys, the matching index, is keyed by the looked-up
-- value so that a lookup reads one shard.
--
-- Every write call of the store is one server-side function, called in one statement: one round
-- trip, one transaction, and each step sees the previous one's writes (a data-modifying CTE would
-- not). Increments happen inside PostgreSQL on rows locked in a fixed order; nothing is read into
-- JavaScript, changed there and written back. The schema is the same whatever relation types
-- exist: no DDL at run time.
--
-- Locks, always taken in this order so that calls never wait on each other crosswise:
-- 1. per relation type, advisory (shared for relation writes, exclusive for type update/delete);
-- 2. per profile, advisory on hashtext(id) (shared for relation writes, exclusive for delete);
-- 3. relation rows, then aggregate rows in one order: by profile id, then type, side, the total
-- before the properties, properties in the type's order.

-- Catalogue -----------------------------------------------------------------------------------

CREATE TABLE databases (
  id serial PRIMARY KEY,
  name text NOT NULL,
  description text NOT NULL,
  custom_fields jsonb NOT NULL,
  created_at text NOT NULL
);

CREATE TABLE resources (
  id serial PRIMARY KEY,
  name text NOT NULL,
  channels jsonb NOT NULL,
  db_ids jsonb NOT NULL,
  created_at text NOT NULL
);

-- A sequence never hands a deleted type's rel_id to a new type that old clients would then reach.
CREATE TABLE relation_types (
  rel_id serial PRIMARY KEY,
  name text NOT NULL,
  db_a integer NOT NULL,
  db_b integer NOT NULL,
  properties jsonb NOT NULL,
  created_at text NOT NULL
);

CREATE TABLE tokens (
  id serial PRIMARY KEY,
  name text NOT NULL,
  rights jsonb NOT NULL,
  hash text COLLATE "C" NOT NULL UNIQUE,
  created_at text NOT NULL,
  last_used_at text
);
CREATE INDEX tokens_by_name ON tokens (name);

-- Profiles (distributed by id) ----------------------------------------------------------------

-- keys: the [kind, key] pairs this profile's fields put in match_keys, so that a change or a
-- deletion removes exactly those rows without searching match_keys by profile.
CREATE TABLE profiles (
  id text COLLATE "C" PRIMARY KEY,
  db_id integer NOT NULL,
  fields jsonb NOT NULL,
  keys jsonb NOT NULL,
  created_at text NOT NULL,
  updated_at text NOT NULL
);

CREATE TABLE subscriptions (
  profile_id text COLLATE "C" NOT NULL,
  resource_id integer NOT NULL,
  channel text COLLATE "C" NOT NULL,
  contact_key text COLLATE "C" NOT NULL,
  contact text NOT NULL,
  status text NOT NULL,
  PRIMARY KEY (profile_id, resource_id, channel, contact_key)
);

-- The matching index (distributed by key): kind 'e' the profile's email, 'p' each phone's digits,
-- 'f:<field>' each custom field key (one per tag), 'se' / 'ss' the contact of an email / sms
-- subscription (resource_id is 0 for the profile's own fields).
CREATE TABLE match_keys (
  key text COLLATE "C" NOT NULL,
  db_id integer NOT NULL,
  kind text COLLATE "C" NOT NULL,
  resource_id integer NOT NULL,
  profile_id text COLLATE "C" NOT NULL,
  PRIMARY KEY (key, db_id, kind, resource_id, profile_id)
);

-- Relations (distributed by A; the B side by B) -----------------------------------------------

CREATE TABLE relations (
  a text COLLATE "C" NOT NULL,
  rel_id integer NOT NULL,
  b text COLLATE "C" NOT NULL,
  weights jsonb NOT NULL,
  created_at text NOT NULL,
  updated_at text NOT NULL,
  PRIMARY KEY (a, rel_id, b)
);

-- The same relations keyed by B, written in the same transaction: relations/get side b and
-- profile deletion find a B's relations here without reading every shard of relations.
CREATE TABLE relations_by_b (
  b text COLLATE "C" NOT NULL,
  rel_id integer NOT NULL,
  a text COLLATE "C" NOT NULL,
  PRIMARY KEY (b, rel_id, a)
);

-- Aggregates, keyed by the profile they aggregate. side 'a', prop '': relations pointing at the
-- profile; side 'b', prop '': relations it initiated; side 'a', prop '<name>': relations having
-- the property. isum is the exact sum of an int property, fsum + fsum_c the Kahan-Neumaier sum of
-- a float property (float8 like SQLite's REAL, so both engines answer the same doubles); each is
-- read only when the property keeps a sum.
CREATE TABLE relation_stats (
  profile_id text COLLATE "C" NOT NULL,
  rel_id integer NOT NULL,
  side text COLLATE "C" NOT NULL,
  prop text COLLATE "C" NOT NULL,
  count bigint NOT NULL,
  isum numeric NOT NULL DEFAULT 0,
  fsum float8 NOT NULL DEFAULT 0,
  fsum_c float8 NOT NULL DEFAULT 0,
  PRIMARY KEY (profile_id, rel_id, side, prop)
);

-- One row per relation and numeric property that keeps a top, read in get_counter's order by
-- relation_tops_ranked (value descending, ties by B ascending), never sorted at read time.
CREATE TABLE relation_tops (
  a text COLLATE "C" NOT NULL,
  rel_id integer NOT NULL,
  prop text COLLATE "C" NOT NULL,
  b text COLLATE "C" NOT NULL,
  value float8 NOT NULL,
  PRIMARY KEY (a, rel_id, prop, b)
);
CREATE INDEX relation_tops_ranked ON relation_tops (a, rel_id, prop, value DESC, b);

-- Types -----------------------------------------------------------------------------------------

-- One change to one aggregate row, for profile deletion (ties_account does the same for one
-- relation without this type): count and int sum deltas, and up to two float steps (add x1, then
-- x2), applied as separate compensated additions like the SQLite store does: a replaced value is
-- taken away first (x1 = -old), then the new one added (x2 = +new).
CREATE TYPE ties_delta AS (
  profile_id text COLLATE "C",
  rel_id integer,
  side text COLLATE "C",
  -- 0 for the total, else the property's position in the type: rows are locked in this order.
  ord integer,
  prop text COLLATE "C",
  dcount bigint,
  disum numeric,
  x1 float8,
  x2 float8
);
