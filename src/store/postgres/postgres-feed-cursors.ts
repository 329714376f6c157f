// Webhooks and feed cursors on PostgreSQL (src/core/outbound-store.ts; the SQL is in
// sql/functions/11-feed-outbound.sql). Leases use the PostgreSQL server's clock, so servers on
// different machines agree on when one has expired.
import type {
  CursorClaim,
  CursorUpdate,
  FeedCursor,
  NewWebhook,
  Webhook,
  WebhookState,
} from '../../core/outbound-store.js';
import { type CursorRow, toFeedCursor, toWebhook, type WebhookRow } from '../feed-rows.js';
import type { PgStatements } from './postgres-statements.js';

export class PostgresFeedCursors {
  constructor(private readonly db: PgStatements) {}

  async createWebhook(input: NewWebhook): Promise<Webhook> {
    const rows = await this.db.run<{ id: number }>({
      text: 'SELECT ties_create_webhook($1, $2, $3, $4, $5) AS id',
      values: [input.url, input.relId, input.profileId, input.secret, input.now],
    });
    return {
      id: rows[0]!.id,
      url: input.url,
      relId: input.relId,
      profileId: input.profileId,
      secret: input.secret,
      createdAt: input.now,
    };
  }

  async listWebhooks(): Promise<{ webhooks: WebhookState[]; head: number }> {
    // One statement (one snapshot): the head and every webhook with its cursor.
    const rows = await this.db.run<{ head: string; items: { w: WebhookRow; c: CursorRow }[] }>({
      text: `SELECT ties_feed_head()::text AS head,
          coalesce(jsonb_agg(jsonb_build_object('w', to_jsonb(w), 'c', to_jsonb(c)) ORDER BY w.id), '[]') AS items
        FROM webhooks w JOIN feed_cursors c ON c.name = 'webhook:' || w.id`,
      values: [],
    });
    const row = rows[0]!;
    return {
      head: Number(row.head),
      webhooks: row.items.map((item) => ({ webhook: toWebhook(item.w), cursor: toFeedCursor(item.c) })),
    };
  }

  async deleteWebhook(id: number): Promise<boolean> {
    const rows = await this.db.run<{ deleted: boolean }>({
      text: 'SELECT ties_delete_webhook($1) AS deleted',
      values: [id],
    });
    return rows[0]!.deleted;
  }

  async claimFeedCursor(claim: CursorClaim): Promise<FeedCursor | null> {
    const rows = await this.db.run<{ cursor: CursorRow | null }>({
      text: 'SELECT ties_claim_feed_cursor($1, $2, $3, $4) AS cursor',
      values: [claim.name, claim.owner, claim.leaseMs, claim.create],
    });
    const cursor = rows[0]?.cursor;
    return cursor ? toFeedCursor(cursor) : null;
  }

  async updateFeedCursor(update: CursorUpdate): Promise<boolean> {
    const rows = await this.db.run<{ held: boolean }>({
      text: 'SELECT ties_update_feed_cursor($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) AS held',
      values: [
        update.name,
        update.owner,
        update.leaseMs,
        update.advance !== undefined,
        update.advance?.position ?? 0,
        update.advance?.lastSeq ?? null,
        update.advance?.at ?? null,
        update.failure !== undefined,
        update.failure?.error ?? null,
        update.failure?.nextAttemptAt ?? null,
      ],
    });
    return rows[0]!.held;
  }

  async releaseFeedCursor(name: string, owner: string): Promise<void> {
    await this.db.run({
      text: 'UPDATE feed_cursors SET lease_owner = NULL, lease_until = NULL WHERE name = $1 AND lease_owner = $2',
      values: [name, owner],
    });
  }
}
