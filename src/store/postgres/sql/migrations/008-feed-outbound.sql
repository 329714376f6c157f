-- Schema version 8: webhooks and feed cursors (issue #16: webhooks and the AMQP publisher;
-- src/core/outbound-store.ts, sql/functions/11-feed-outbound.sql). New tables only: existing
-- stores start with no webhook and no cursor. A cursor is a durable position in change_log with a
-- lease (owner and expiry in unix ms of the PostgreSQL server's clock, shared by every Ties
-- server). On Citus both stay on the coordinator, beside change_log (citus-layout.ts).
CREATE TABLE webhooks (
  id serial PRIMARY KEY,
  url text NOT NULL,
  rel_id integer,
  profile_id text,
  secret text NOT NULL,
  created_at text NOT NULL
);
CREATE TABLE feed_cursors (
  name text PRIMARY KEY,
  position bigint NOT NULL,
  last_delivered_seq bigint,
  delivered_at text,
  failures integer NOT NULL DEFAULT 0,
  last_error text,
  next_attempt_at text,
  lease_owner text,
  lease_until bigint
);
