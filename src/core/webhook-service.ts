// Webhooks (issue #16): the admin calls webhooks/create, webhooks/list and webhooks/delete. A
// webhook is a URL, optional filters and a secret; its cursor (outbound-store.ts) holds where its
// delivery stands, which webhooks/list shows beside it. Delivery itself is src/outbound/.
import { randomBytes } from 'node:crypto';
import type { Clock } from './catalog-service.js';
import { badParameter, TiesError } from './errors.js';
import type { FeedCursor, Webhook } from './outbound-store.js';
import type { Store } from './store.js';

export const MAX_WEBHOOK_URL_LENGTH = 2048;
export const MIN_SECRET_LENGTH = 16;
export const MAX_SECRET_LENGTH = 256;
/** Webhooks per store: each one is a sender loop on the server that holds its lease. */
export const MAX_WEBHOOKS = 100;

/** 32 random bytes, URL-safe, with a prefix so a leaked secret is recognisable in a scan. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** An http(s) URL a sender can POST to, or a 400 naming `url`. */
export function parseWebhookUrl(raw: string): string {
  const text = raw.trim();
  if (text.length === 0 || text.length > MAX_WEBHOOK_URL_LENGTH)
    throw badParameter(
      'url',
      `expected an http or https URL of at most ${MAX_WEBHOOK_URL_LENGTH} characters`,
    );
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badParameter('url', 'expected an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw badParameter('url', `expected an http or https URL, got ${url.protocol}`);
  url.hash = '';
  return url.toString();
}

function webhookSummary(w: Webhook) {
  return {
    id: w.id,
    url: w.url,
    rel_id: w.relId,
    profile_id: w.profileId,
    created_at: w.createdAt,
  };
}

function deliveryState(cursor: FeedCursor, head: number, nowMs: number) {
  return {
    position: cursor.position,
    last_delivered_seq: cursor.lastDeliveredSeq,
    last_delivered_at: cursor.deliveredAt,
    /** Events of the log after the position (filtered-out ones included): 0 when caught up. */
    lag: Math.max(0, head - cursor.position),
    failures: cursor.failures,
    last_error: cursor.lastError,
    next_attempt_at: cursor.nextAttemptAt,
    sender: cursor.leaseOwner !== null && (cursor.leaseUntil ?? 0) > nowMs ? cursor.leaseOwner : null,
  };
}

export type WebhookListEntry = ReturnType<typeof webhookSummary> & ReturnType<typeof deliveryState>;

export class WebhookService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** Whether the store logs changes: without the log there is nothing to deliver. */
    private readonly feedEnabled: () => boolean,
  ) {}

  async create(p: {
    url: string;
    rel_id?: number | undefined;
    profile_id?: string | undefined;
    secret?: string | undefined;
  }) {
    if (!this.feedEnabled()) throw new TiesError('FEED_DISABLED', { call: 'webhooks/create' });
    const url = parseWebhookUrl(p.url);
    if (p.rel_id !== undefined && (await this.store.getRelationType(p.rel_id)) === null)
      throw new TiesError('RELATION_TYPE_NOT_FOUND', { rel_id: p.rel_id });
    const profileId = p.profile_id?.trim();
    if (profileId !== undefined && profileId === '')
      throw badParameter('profile_id', 'expected a profile id (or leave it out for every profile)');
    const secret = p.secret ?? generateWebhookSecret();
    if (secret.length < MIN_SECRET_LENGTH || secret.length > MAX_SECRET_LENGTH || /\s/.test(secret))
      throw badParameter(
        'secret',
        `expected ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters without spaces (or leave it out and one is made)`,
      );
    const { webhooks } = await this.store.listWebhooks();
    if (webhooks.length >= MAX_WEBHOOKS)
      throw badParameter('url', `at most ${MAX_WEBHOOKS} webhooks; delete one first`);
    const webhook = await this.store.createWebhook({
      url,
      relId: p.rel_id ?? null,
      profileId: profileId ?? null,
      secret,
      now: this.clock.now().toISOString(),
    });
    return { data: { ...webhookSummary(webhook), secret } };
  }

  /** Every webhook with its delivery state. */
  async states(): Promise<WebhookListEntry[]> {
    const { webhooks, head } = await this.store.listWebhooks();
    const now = this.clock.now().getTime();
    return webhooks.map((s) => ({ ...webhookSummary(s.webhook), ...deliveryState(s.cursor, head, now) }));
  }

  async list() {
    return { data: await this.states() };
  }

  async delete(p: { id: number }) {
    if (!(await this.store.deleteWebhook(p.id))) throw new TiesError('WEBHOOK_NOT_FOUND', { id: p.id });
    return { data: { id: p.id } };
  }
}
