-- Schema version 7: the change log of the change feed (issue #16; src/core/change-feed.ts and
-- sql/functions/10-change-log.sql). Existing stores start with an empty log: the first event gets
-- seq 1. Every relation write appends its event in its own transaction; seq comes from change_seq,
-- taken under an exclusive transaction lock held until commit, so that events become visible in
-- seq order (docs/decisions.md, "Change feed: ordering"). On Citus both tables stay on the
-- coordinator (citus-layout.ts), where the functions run.
CREATE SEQUENCE change_seq AS bigint;
CREATE TABLE change_log (
  seq bigint PRIMARY KEY,
  at text NOT NULL,
  call text NOT NULL,
  rel_id integer NOT NULL,
  profile_a text NOT NULL,
  db_a integer NOT NULL,
  profile_b text NOT NULL,
  db_b integer NOT NULL,
  before jsonb,
  after jsonb
);
-- Events up to pruned_through may have been pruned: a cursor below it has expired.
CREATE TABLE change_state (
  id integer PRIMARY KEY CHECK (id = 1),
  pruned_through bigint NOT NULL
);
INSERT INTO change_state (id, pruned_through) VALUES (1, 0);
