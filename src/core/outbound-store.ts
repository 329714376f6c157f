// What the outbound side of the change feed (webhooks, the AMQP publisher) needs from a store:
// webhook definitions and feed cursors. A cursor is a durable position in the change log with a
// lease (owner + expiry), so that of several servers on one store only the lease holder sends a
// cursor's events, and a restart resumes after the last event a receiver acknowledged.

/** A webhook as created: where events go, which ones, and the secret that signs them. */
export interface Webhook {
  readonly id: number;
  readonly url: string;
  /** Only events of this relation type (null: every type). */
  readonly relId: number | null;
  /** Only events where this profile is A or B (null: every profile). */
  readonly profileId: string | null;
  /** Signs each request (HMAC-SHA256); kept in clear because the sender needs it. */
  readonly secret: string;
  readonly createdAt: string;
}

export interface NewWebhook {
  readonly url: string;
  readonly relId: number | null;
  readonly profileId: string | null;
  readonly secret: string;
  readonly now: string;
}

/** A durable position in the change log and its delivery state. */
export interface FeedCursor {
  /** `webhook:<id>` or `amqp:<exchange>`. */
  readonly name: string;
  /** Every event with seq ≤ position was delivered (or did not match the filter). */
  readonly position: number;
  /** The last event actually delivered (null: none yet). */
  readonly lastDeliveredSeq: number | null;
  readonly deliveredAt: string | null;
  /** Failed attempts since the last success. */
  readonly failures: number;
  readonly lastError: string | null;
  /** When the sender tries again after a failure (ISO time); null when not waiting. */
  readonly nextAttemptAt: string | null;
  readonly leaseOwner: string | null;
  /** Unix ms until which leaseOwner holds the cursor. */
  readonly leaseUntil: number | null;
}

export interface WebhookState {
  readonly webhook: Webhook;
  readonly cursor: FeedCursor;
}

export interface CursorClaim {
  readonly name: string;
  /** The id of this server process (random per start). */
  readonly owner: string;
  readonly leaseMs: number;
  /** Unix ms now (SQLite; PostgreSQL uses its own clock, shared by every server). */
  readonly nowMs: number;
  /** Create the cursor at the head of the log when it does not exist (AMQP); webhooks get theirs at creation. */
  readonly create: boolean;
}

/** What one step of a sender records; the update happens only while `owner` holds the lease. */
export interface CursorUpdate {
  readonly name: string;
  readonly owner: string;
  readonly leaseMs: number;
  readonly nowMs: number;
  /** Events up to `position` are done; `lastSeq` is the last one actually sent (null: only skipped). */
  readonly advance?:
    | { readonly position: number; readonly lastSeq: number | null; readonly at: string }
    | undefined;
  readonly failure?: { readonly error: string; readonly nextAttemptAt: string } | undefined;
}

export interface OutboundStore {
  /** Creates the webhook and its cursor at the head of the log, in one transaction. */
  createWebhook(input: NewWebhook): Promise<Webhook>;
  /** Every webhook with its cursor, by id, and the head of the log (the newest seq handed out). */
  listWebhooks(): Promise<{ readonly webhooks: readonly WebhookState[]; readonly head: number }>;
  /** Deletes the webhook and its cursor; false when it does not exist. */
  deleteWebhook(id: number): Promise<boolean>;
  /**
   * Takes or renews the cursor's lease for `owner` when it is free, expired or already its own;
   * answers the cursor, or null when another owner holds it (or it does not exist and `create` is false).
   */
  claimFeedCursor(claim: CursorClaim): Promise<FeedCursor | null>;
  /** Records progress or a failure and renews the lease; false when `owner` no longer holds it. */
  updateFeedCursor(update: CursorUpdate): Promise<boolean>;
  /** Gives the lease up (a stopping server), so another server takes over at once. */
  releaseFeedCursor(name: string, owner: string): Promise<void>;
}

export const webhookCursorName = (id: number): string => `webhook:${id}`;
