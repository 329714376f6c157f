// The change feed's part of the transfer port on PostgreSQL (../transfer/transfer-port.ts): the
// change log with its seqs, its pruned_through, webhooks with their ids and cursors with their
// positions, read inside the copy's snapshot and written with COPY, one chunk per transaction.
// Leases are dropped: they belong to the servers of the source. On Citus these tables are local
// to the coordinator (docs/decisions.md), so the same statements serve.
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

/** What the feed's transfer needs of the transfer's connection (postgres-transfer.ts). */
export interface PgTransferSql {
  rows<R extends object>(text: string, values?: unknown[]): Promise<R[]>;
  value(text: string, values?: unknown[]): Promise<number>;
  cursor<R extends object>(text: string, values: unknown[], chunk: number): AsyncIterable<R[]>;
  /** One transaction around `work`. */
  transaction(work: () => Promise<void>): Promise<void>;
  /** COPY rows of values into a table (inside the current transaction). */
  copyRows(table: string, columns: string, rows: readonly (string | number | null)[][]): Promise<void>;
}

export async function readFeed(sql: PgTransferSql): Promise<FeedRows> {
  const webhooks = (await sql.rows<WebhookRow>('SELECT * FROM webhooks ORDER BY id')).map(toWebhook);
  const cursors = (await sql.rows<CursorRow>('SELECT * FROM feed_cursors ORDER BY name')).map(toFeedCursor);
  return {
    webhooks,
    cursors,
    lastWebhookId: await sql.value(
      `SELECT greatest(pg_sequence_last_value(pg_get_serial_sequence('webhooks', 'id')::regclass),
                       (SELECT max(id) FROM webhooks), 0) AS v`,
    ),
    // A sequence is not part of the snapshot: its value now is at least every seq in it.
    lastSeq: await sql.value(
      `SELECT greatest(CASE WHEN s.is_called THEN s.last_value ELSE 0 END,
                       (SELECT max(seq) FROM change_log), 0) AS v FROM change_seq s`,
    ),
    prunedThrough: await sql.value('SELECT pruned_through AS v FROM change_state WHERE id = 1'),
  };
}

export async function* readChanges(
  sql: PgTransferSql,
  after: number,
  chunk: number,
): AsyncIterable<ChangeEvent[]> {
  for await (const rows of sql.cursor<EventRow<Weights>>(
    `SELECT seq, at, call, rel_id, profile_a, db_a, profile_b, db_b, before, after FROM change_log
     WHERE seq > $1 ORDER BY seq`,
    [after],
    chunk,
  )) {
    yield rows.map((r) => toChangeEvent(r, (weights) => weights));
  }
}

export async function feedCounts(
  sql: PgTransferSql,
): Promise<{ changes: number; webhooks: number; feedCursors: number }> {
  const count = (table: string) => sql.value(`SELECT count(*) AS v FROM ${table}`);
  return {
    changes: await count('change_log'),
    webhooks: await count('webhooks'),
    feedCursors: await count('feed_cursors'),
  };
}

export async function writeChanges(sql: PgTransferSql, rows: readonly ChangeEvent[]): Promise<void> {
  await sql.transaction(() =>
    sql.copyRows(
      'change_log',
      'seq, at, call, rel_id, profile_a, db_a, profile_b, db_b, before, after',
      rows.map((e) => [
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
      ]),
    ),
  );
}

export function lastChangeSeq(sql: PgTransferSql): Promise<number> {
  return sql.value('SELECT coalesce(max(seq), 0) AS v FROM change_log');
}

export async function writeFeed(sql: PgTransferSql, rows: FeedRows): Promise<void> {
  await sql.transaction(async () => {
    await sql.rows('DELETE FROM feed_cursors');
    await sql.rows('DELETE FROM webhooks');
    await sql.copyRows(
      'webhooks',
      'id, url, rel_id, profile_id, secret, created_at',
      rows.webhooks.map((w) => [w.id, w.url, w.relId, w.profileId, w.secret, w.createdAt]),
    );
    await sql.copyRows(
      'feed_cursors',
      'name, position, last_delivered_seq, delivered_at, failures, last_error, next_attempt_at',
      rows.cursors.map((c) => [
        c.name,
        c.position,
        c.lastDeliveredSeq,
        c.deliveredAt,
        c.failures,
        c.lastError,
        c.nextAttemptAt,
      ]),
    );
    // Past every id and seq the source handed out, so none is handed out twice.
    await sql.rows(
      `SELECT setval(pg_get_serial_sequence('webhooks', 'id'), v)
         FROM (SELECT greatest($1::bigint, (SELECT max(id) FROM webhooks)) AS v) x WHERE v > 0`,
      [rows.lastWebhookId],
    );
    await sql.rows(
      `SELECT setval('change_seq', v)
         FROM (SELECT greatest($1::bigint, (SELECT max(seq) FROM change_log)) AS v) x WHERE v > 0`,
      [rows.lastSeq],
    );
    await sql.rows('UPDATE change_state SET pruned_through = $1 WHERE id = 1', [rows.prunedThrough]);
  });
}

/** What clear() adds for the feed: an empty log never written, no webhook, no cursor. */
export async function clearFeed(sql: PgTransferSql): Promise<void> {
  await sql.rows('TRUNCATE change_log, webhooks, feed_cursors RESTART IDENTITY');
  await sql.rows(`SELECT setval('change_seq', 1, false)`);
  await sql.rows('UPDATE change_state SET pruned_through = 0 WHERE id = 1');
}
