// The change feed's part of the transfer port on SQLite (../transfer/transfer-port.ts): the change
// log with its seqs, its pruned_through, webhooks with their ids and cursors with their positions,
// read inside the copy's snapshot and written one chunk per transaction. Leases are dropped: they
// belong to the servers of the source.
import type { ChangeEvent } from '../../core/change-feed.js';
import type { Weights } from '../../core/model.js';
import {
  type CursorRow,
  type EventRow,
  toChangeEvent,
  toFeedCursor,
  toWebhook,
  type WebhookRow,
  weightsColumn,
} from '../feed-rows.js';
import type { FeedRows } from '../transfer/transfer-port.js';
import type { Db } from './sqlite-statements.js';

const sequenceOf = (db: Db, name: string): number =>
  (db.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').pluck().get(name) as number | undefined) ?? 0;

export function readFeed(db: Db): FeedRows {
  const webhooks = db.prepare<[], WebhookRow>('SELECT * FROM webhooks ORDER BY id').all().map(toWebhook);
  const cursors = db
    .prepare<[], CursorRow>('SELECT * FROM feed_cursors ORDER BY name')
    .all()
    .map(toFeedCursor);
  const maxHook = (db.prepare('SELECT max(id) FROM webhooks').pluck().get() as number | null) ?? 0;
  return {
    webhooks,
    cursors,
    lastWebhookId: Math.max(maxHook, sequenceOf(db, 'webhooks')),
    lastSeq: Math.max(lastChangeSeq(db), sequenceOf(db, 'change_log')),
    prunedThrough: db.prepare('SELECT pruned_through FROM change_state WHERE id = 1').pluck().get() as number,
  };
}

export function* readChanges(db: Db, after: number, chunk: number): Generator<ChangeEvent[]> {
  const page = db.prepare<[number, number], EventRow<string>>(
    `SELECT seq, at, call, rel_id, profile_a, db_a, profile_b, db_b, before, after FROM change_log
     WHERE seq > ? ORDER BY seq LIMIT ?`,
  );
  let last = after;
  for (;;) {
    const rows = page.all(last, chunk);
    if (rows.length === 0) return;
    yield rows.map((r) => toChangeEvent(r, (json) => JSON.parse(json) as Weights));
    last = Number(rows.at(-1)!.seq);
    if (rows.length < chunk) return;
  }
}

export function feedCounts(db: Db): { changes: number; webhooks: number; feedCursors: number } {
  const count = (table: string) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  return { changes: count('change_log'), webhooks: count('webhooks'), feedCursors: count('feed_cursors') };
}

export function writeChanges(db: Db, rows: readonly ChangeEvent[]): void {
  const insert = db.prepare(
    `INSERT INTO change_log (seq, at, call, rel_id, profile_a, db_a, profile_b, db_b, before, after)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    for (const e of rows)
      insert.run(
        e.seq,
        e.at,
        e.call,
        e.relId,
        e.profileA,
        e.dbA,
        e.profileB,
        e.dbB,
        weightsColumn(e.before),
        weightsColumn(e.after),
      );
  }).immediate();
}

export function lastChangeSeq(db: Db): number {
  return (db.prepare('SELECT max(seq) FROM change_log').pluck().get() as number | null) ?? 0;
}

export function writeFeed(db: Db, rows: FeedRows): void {
  db.transaction(() => {
    db.exec('DELETE FROM webhooks; DELETE FROM feed_cursors');
    const hook = db.prepare(
      'INSERT INTO webhooks (id, url, rel_id, profile_id, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (const w of rows.webhooks) hook.run(w.id, w.url, w.relId, w.profileId, w.secret, w.createdAt);
    const cursor = db.prepare(
      `INSERT INTO feed_cursors (name, position, last_delivered_seq, delivered_at, failures, last_error, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const c of rows.cursors)
      cursor.run(
        c.name,
        c.position,
        c.lastDeliveredSeq,
        c.deliveredAt,
        c.failures,
        c.lastError,
        c.nextAttemptAt,
      );
    // AUTOINCREMENT keeps the highest id in sqlite_sequence: ids and seqs of the source stay used.
    const raise = db.prepare('UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?');
    const add = db.prepare('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)');
    for (const [name, last] of [
      ['webhooks', rows.lastWebhookId],
      ['change_log', rows.lastSeq],
    ] as const) {
      if (last > 0 && raise.run(last, name).changes === 0) add.run(name, last);
    }
    db.prepare('UPDATE change_state SET pruned_through = ? WHERE id = 1').run(rows.prunedThrough);
  }).immediate();
}

/** What clear() adds for the feed: an empty log never written, no webhook, no cursor. */
export function clearFeed(db: Db): void {
  db.exec(`DELETE FROM change_log; DELETE FROM webhooks; DELETE FROM feed_cursors;
    UPDATE change_state SET pruned_through = 0;
    DELETE FROM sqlite_sequence WHERE name IN ('change_log', 'webhooks')`);
}
