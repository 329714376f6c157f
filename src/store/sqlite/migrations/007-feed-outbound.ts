// SQLite schema version 7: webhooks and feed cursors (issue #16: webhooks and the AMQP publisher;
// src/core/outbound-store.ts). New tables only: existing stores start with no webhook and no cursor.
// A cursor is a durable position in change_log with a lease (owner and expiry in unix ms).
export const FEED_OUTBOUND_SCHEMA = `
CREATE TABLE webhooks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  url TEXT NOT NULL,
  rel_id INTEGER,
  profile_id TEXT,
  secret TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE feed_cursors (
  name TEXT PRIMARY KEY,
  position INTEGER NOT NULL,
  last_delivered_seq INTEGER,
  delivered_at TEXT,
  failures INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  next_attempt_at TEXT,
  lease_owner TEXT,
  lease_until INTEGER
);
`;
