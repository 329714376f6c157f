// Change-log events, webhooks and feed cursors as both engines store them, turned into core's
// objects. The engines differ only in how a column arrives: bigint as text from pg (as a number
// from jsonb or SQLite), weights as JSON text in SQLite and already parsed jsonb from pg.
import type { ChangeCall, ChangeEvent } from '../core/change-feed.js';
import type { Weights } from '../core/model.js';
import type { FeedCursor, Webhook } from '../core/outbound-store.js';

/** A bigint column: a number (SQLite, jsonb) or its text (a pg row). */
type Big = number | string;

/** W: how the engine hands over the weights columns (JSON text for SQLite, parsed for pg). */
export interface EventRow<W> {
  seq: Big;
  at: string;
  call: ChangeCall;
  rel_id: number;
  profile_a: string;
  db_a: number;
  profile_b: string;
  db_b: number;
  before: W | null;
  after: W | null;
}

/** An event's weights (before or after) as the log stores them: JSON text, or NULL for none. */
export const weightsColumn = (w: Weights | null): string | null => (w === null ? null : JSON.stringify(w));

export function toChangeEvent<W>(row: EventRow<W>, weights: (column: W) => Weights): ChangeEvent {
  return {
    seq: Number(row.seq),
    at: row.at,
    call: row.call,
    relId: row.rel_id,
    profileA: row.profile_a,
    dbA: row.db_a,
    profileB: row.profile_b,
    dbB: row.db_b,
    before: row.before === null ? null : weights(row.before),
    after: row.after === null ? null : weights(row.after),
  };
}

export interface WebhookRow {
  id: number;
  url: string;
  rel_id: number | null;
  profile_id: string | null;
  secret: string;
  created_at: string;
}

export function toWebhook(row: WebhookRow): Webhook {
  return {
    id: row.id,
    url: row.url,
    relId: row.rel_id,
    profileId: row.profile_id,
    secret: row.secret,
    createdAt: row.created_at,
  };
}

export interface CursorRow {
  name: string;
  position: Big;
  last_delivered_seq: Big | null;
  delivered_at: string | null;
  failures: number;
  last_error: string | null;
  next_attempt_at: string | null;
  lease_owner: string | null;
  lease_until: Big | null;
}

export function toFeedCursor(row: CursorRow): FeedCursor {
  return {
    name: row.name,
    position: Number(row.position),
    lastDeliveredSeq: row.last_delivered_seq === null ? null : Number(row.last_delivered_seq),
    deliveredAt: row.delivered_at,
    failures: row.failures,
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until === null ? null : Number(row.lease_until),
  };
}
