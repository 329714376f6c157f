// Webhooks and feed cursors on SQLite (src/core/outbound-store.ts). Never cached: the sender of
// another process (a second server on the same file) claims and advances the same rows. Lease
// times are unix ms from the caller's clock (one machine shares one file).
import type {
  CursorClaim,
  CursorUpdate,
  FeedCursor,
  NewWebhook,
  Webhook,
  WebhookState,
} from '../../core/outbound-store.js';
import { webhookCursorName } from '../../core/outbound-store.js';
import { type CursorRow, toFeedCursor, toWebhook, type WebhookRow } from '../feed-rows.js';
import type { Statements, Stmt } from './sqlite-statements.js';
import type { SqliteTransactions } from './sqlite-transactions.js';

/** The newest seq the log has handed out (pruned events included), 0 for a log never written. */
const HEAD_SQL = `SELECT max(coalesce((SELECT max(seq) FROM change_log), 0),
  coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'change_log'), 0),
  (SELECT pruned_through FROM change_state WHERE id = 1)) AS head`;

export class SqliteFeedCursors {
  private readonly insertWebhook: Stmt<WebhookRow>;
  private readonly insertCursor: Stmt;
  private readonly allWebhooks: Stmt<WebhookRow & { [K in keyof CursorRow as `c_${K}`]: CursorRow[K] }>;
  private readonly head: Stmt<{ head: number }>;
  private readonly deleteHook: Stmt;
  private readonly deleteCursor: Stmt;
  private readonly claim: Stmt<CursorRow>;
  private readonly update: Stmt;
  private readonly release: Stmt;

  constructor(
    statements: Statements,
    private readonly tx: SqliteTransactions,
  ) {
    const s = statements;
    this.insertWebhook = s.cold<WebhookRow>(
      `INSERT INTO webhooks (url, rel_id, profile_id, secret, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *`,
    );
    this.insertCursor = s.cold(
      `INSERT INTO feed_cursors (name, position) VALUES (?, (${HEAD_SQL}))
       ON CONFLICT (name) DO NOTHING`,
    );
    this.allWebhooks = s.cold(
      `SELECT w.*, c.name AS c_name, c.position AS c_position, c.last_delivered_seq AS c_last_delivered_seq,
         c.delivered_at AS c_delivered_at, c.failures AS c_failures, c.last_error AS c_last_error,
         c.next_attempt_at AS c_next_attempt_at, c.lease_owner AS c_lease_owner, c.lease_until AS c_lease_until
       FROM webhooks w JOIN feed_cursors c ON c.name = 'webhook:' || w.id ORDER BY w.id`,
    );
    this.head = s.cold<{ head: number }>(HEAD_SQL);
    this.deleteHook = s.cold('DELETE FROM webhooks WHERE id = ?');
    this.deleteCursor = s.cold('DELETE FROM feed_cursors WHERE name = ?');
    // Free, expired or already ours: take it (one statement, so two processes cannot both win).
    this.claim = s.cold<CursorRow>(
      `UPDATE feed_cursors SET lease_owner = :owner, lease_until = :until
       WHERE name = :name AND (lease_owner IS NULL OR lease_owner = :owner OR lease_until < :now)
       RETURNING *`,
    );
    this.update = s.cold(
      `UPDATE feed_cursors SET lease_until = :until,
         position = CASE WHEN :advance THEN max(position, :position) ELSE position END,
         last_delivered_seq = CASE WHEN :advance AND :last_seq IS NOT NULL THEN :last_seq ELSE last_delivered_seq END,
         delivered_at = CASE WHEN :advance AND :last_seq IS NOT NULL THEN :at ELSE delivered_at END,
         failures = CASE WHEN :failed THEN failures + 1 WHEN :advance THEN 0 ELSE failures END,
         last_error = CASE WHEN :failed THEN :error WHEN :advance THEN NULL ELSE last_error END,
         next_attempt_at = CASE WHEN :failed THEN :next_attempt_at WHEN :advance THEN NULL ELSE next_attempt_at END
       WHERE name = :name AND lease_owner = :owner`,
    );
    this.release = s.cold(
      'UPDATE feed_cursors SET lease_owner = NULL, lease_until = NULL WHERE name = ? AND lease_owner = ?',
    );
  }

  createWebhook(input: NewWebhook): Webhook {
    return this.tx.write(() => {
      const row = this.insertWebhook.get(input.url, input.relId, input.profileId, input.secret, input.now)!;
      this.insertCursor.run(webhookCursorName(row.id));
      return toWebhook(row);
    });
  }

  listWebhooks(): { webhooks: WebhookState[]; head: number } {
    return this.tx.read(() => {
      const webhooks = this.allWebhooks.all().map((row) => ({
        webhook: toWebhook(row),
        cursor: toFeedCursor({
          name: row.c_name,
          position: row.c_position,
          last_delivered_seq: row.c_last_delivered_seq,
          delivered_at: row.c_delivered_at,
          failures: row.c_failures,
          last_error: row.c_last_error,
          next_attempt_at: row.c_next_attempt_at,
          lease_owner: row.c_lease_owner,
          lease_until: row.c_lease_until,
        }),
      }));
      return { webhooks, head: Number(this.head.get()!.head) };
    });
  }

  deleteWebhook(id: number): boolean {
    return this.tx.write(() => {
      this.deleteCursor.run(webhookCursorName(id));
      return this.deleteHook.run(id).changes > 0;
    });
  }

  claimFeedCursor(claim: CursorClaim): FeedCursor | null {
    return this.tx.write(() => {
      if (claim.create) this.insertCursor.run(claim.name);
      const row = this.claim.get({
        name: claim.name,
        owner: claim.owner,
        until: claim.nowMs + claim.leaseMs,
        now: claim.nowMs,
      });
      return row ? toFeedCursor(row) : null;
    });
  }

  updateFeedCursor(update: CursorUpdate): boolean {
    return this.tx.write(
      () =>
        this.update.run({
          name: update.name,
          owner: update.owner,
          until: update.nowMs + update.leaseMs,
          advance: update.advance ? 1 : 0,
          position: update.advance?.position ?? 0,
          last_seq: update.advance?.lastSeq ?? null,
          at: update.advance?.at ?? null,
          failed: update.failure ? 1 : 0,
          error: update.failure?.error ?? null,
          next_attempt_at: update.failure?.nextAttemptAt ?? null,
        }).changes > 0,
    );
  }

  releaseFeedCursor(name: string, owner: string): void {
    this.tx.write(() => {
      this.release.run(name, owner);
    });
  }
}
