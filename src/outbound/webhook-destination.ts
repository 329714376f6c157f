// Delivers change events to a webhook: one POST per batch of up to WEBHOOK_BATCH events, in order,
// signed with the webhook's secret (src/client/webhook-signature.ts: `Ties-Signature: t=…,v1=…`).
// Any 2xx answer acknowledges the whole batch; anything else (another status, a redirect, a
// timeout, a refused connection) is a failure the runner retries with backoff. The body:
// {"webhook_id": 3, "events": [ …events as relations/changes answers them… ]}.
import { changeEventToWire } from '../api/change-wire.js';
import { signWebhookBody } from '../client/webhook-signature.js';
import type { ChangeEvent } from '../core/change-feed.js';
import { type Webhook, webhookCursorName } from '../core/outbound-store.js';
import { VERSION } from '../version.js';
import type { Destination } from './cursor-runner.js';

/** Events per request: large enough to catch up quickly after an outage, small enough to post in well under a second. */
export const WEBHOOK_BATCH = 100;
/** A receiver has this long to answer (the lease outlasts it several times). */
export const WEBHOOK_TIMEOUT_MS = 10_000;

export function webhookBody(webhookId: number, events: readonly ChangeEvent[]): string {
  return JSON.stringify({ webhook_id: webhookId, events: events.map(changeEventToWire) });
}

export function webhookDestination(webhook: Webhook, timeoutMs = WEBHOOK_TIMEOUT_MS): Destination {
  return {
    cursorName: webhookCursorName(webhook.id),
    filter: {
      ...(webhook.relId !== null ? { relId: webhook.relId } : {}),
      ...(webhook.profileId !== null ? { profileId: webhook.profileId } : {}),
    },
    batchSize: WEBHOOK_BATCH,
    createCursor: false,
    async deliver(events, signal) {
      const body = webhookBody(webhook.id, events);
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await fetch(webhook.url, {
        method: 'POST',
        body,
        redirect: 'manual',
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
        headers: {
          'content-type': 'application/json',
          'user-agent': `ties/${VERSION}`,
          'ties-signature': await signWebhookBody(webhook.secret, body, timestamp),
          'ties-webhook-id': String(webhook.id),
          'ties-event-seqs': `${events[0]!.seq}-${events[events.length - 1]!.seq}`,
        },
      });
      // The answer's body is not read; drop it so the connection can be reused.
      await response.body?.cancel().catch(() => {});
      if (response.status < 200 || response.status > 299)
        throw new Error(`receiver answered HTTP ${response.status}`);
    },
  };
}
