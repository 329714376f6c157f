// SQLite schema version 6: the change log of the change feed (issue #16; src/core/change-feed.ts,
// sqlite-change-log.ts). Existing stores start with an empty log: the first event gets seq 1.
// AUTOINCREMENT so that a seq is never handed out twice, even once every event was pruned (a
// cursor a client kept must never name a different event). Profile ids as text, as answered.
export const CHANGE_LOG_SCHEMA = `
CREATE TABLE change_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  call TEXT NOT NULL,
  rel_id INTEGER NOT NULL,
  profile_a TEXT NOT NULL,
  db_a INTEGER NOT NULL,
  profile_b TEXT NOT NULL,
  db_b INTEGER NOT NULL,
  before TEXT,
  after TEXT
);
CREATE TABLE change_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  pruned_through INTEGER NOT NULL
);
INSERT INTO change_state (id, pruned_through) VALUES (1, 0);
`;
