// One sender loop of the change feed's outbound side: follows the log from a durable cursor and
// hands events, in order, to a destination (a webhook, the AMQP exchange). It holds the cursor's
// lease while it works (outbound-store.ts), so of several servers on one store exactly one sends
// a cursor's events at a time; the others stand by and take over when the lease expires or is
// released. The position moves only after the destination acknowledged (at least once, in order);
// failures are retried with exponential backoff and full jitter, the state kept in the cursor.
import type { ChangeEvent, ChangeFilter } from '../core/change-feed.js';
import { isTiesError } from '../core/errors.js';
import type { FeedCursor } from '../core/outbound-store.js';
import type { Ties } from '../core/ties.js';
import { type BackoffPolicy, backoffDelay } from './backoff.js';

export interface Destination {
  /** The cursor's name (webhook:<id>, amqp:<exchange>). */
  readonly cursorName: string;
  readonly filter: ChangeFilter;
  /** Events handed over at most at once. */
  readonly batchSize: number;
  /** Make the cursor at the head of the log when it does not exist (webhooks get theirs at creation). */
  readonly createCursor: boolean;
  /** Sends the events, in order; resolves once the destination acknowledged all of them, else throws. */
  deliver(events: readonly ChangeEvent[], signal: AbortSignal): Promise<void>;
  /** Releases what the destination holds (a connection) when the runner stops or loses its lease. */
  idle?(): Promise<void>;
}

export interface OutboundLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RunnerOptions {
  readonly ties: Ties;
  /** This server process's id (random per start). */
  readonly owner: string;
  readonly backoff: BackoffPolicy;
  readonly logger: OutboundLogger;
  /** How long a lease lasts unless renewed (ms); longer than any one delivery may take. */
  readonly leaseMs?: number | undefined;
  readonly now?: (() => number) | undefined;
}

/** Leases last 30 s and are renewed every 5 s of work; a delivery times out well before (10 s). */
export const DEFAULT_LEASE_MS = 30_000;
const RENEW_EVERY_MS = 5_000;
/** A server without the lease looks again this often (the holder may have stopped). */
const STANDBY_POLL_MS = 2_000;

/** What the runner reports (tests, logs): deliveries, failures, takeovers. */
export interface RunnerCounters {
  delivered: number;
  batches: number;
  failures: number;
}

export class CursorRunner {
  readonly counters: RunnerCounters = { delivered: 0, batches: 0, failures: 0 };
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly leaseMs: number;
  private readonly now: () => number;
  private renewedAt = 0;

  constructor(
    private readonly options: RunnerOptions,
    readonly destination: Destination,
  ) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops after the step in flight, and gives the lease up so another server takes over at once. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await this.destination.idle?.().catch(() => {});
    await this.options.ties.store
      .releaseFeedCursor(this.destination.cursorName, this.options.owner)
      .catch(() => {});
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    let storeFailures = 0;
    while (!this.stopped) {
      try {
        const cursor = await this.claim();
        storeFailures = 0;
        if (!cursor) {
          await this.sleep(STANDBY_POLL_MS);
          continue;
        }
        await this.follow(cursor);
        await this.destination.idle?.().catch(() => {});
      } catch (err) {
        // The store failed (unavailable, closed): try again later; the position is safe in it.
        if (this.stopped) break;
        storeFailures++;
        this.options.logger.warn({ err, cursor: this.destination.cursorName }, 'outbound: store step failed');
        await this.sleep(backoffDelay(this.options.backoff, storeFailures) + 100);
      }
    }
  }

  private claim(): Promise<FeedCursor | null> {
    this.renewedAt = this.now();
    return this.options.ties.store.claimFeedCursor({
      name: this.destination.cursorName,
      owner: this.options.owner,
      leaseMs: this.leaseMs,
      nowMs: this.renewedAt,
      create: this.destination.createCursor,
    });
  }

  /** Records a step (or only renews); false when the lease was lost. */
  private update(step: {
    advance?: { position: number; lastSeq: number | null; at: string };
    failure?: { error: string; nextAttemptAt: string };
  }): Promise<boolean> {
    this.renewedAt = this.now();
    return this.options.ties.store.updateFeedCursor({
      name: this.destination.cursorName,
      owner: this.options.owner,
      leaseMs: this.leaseMs,
      nowMs: this.renewedAt,
      ...step,
    });
  }

  private async renewIfDue(): Promise<boolean> {
    if (this.now() - this.renewedAt < RENEW_EVERY_MS) return true;
    return this.update({});
  }

  /** Waits until `untilMs`, renewing the lease; false when it was lost. */
  private async waitHolding(untilMs: number): Promise<boolean> {
    for (;;) {
      const left = untilMs - this.now();
      if (left <= 0 || this.stopped) return true;
      await this.sleep(Math.min(left, RENEW_EVERY_MS));
      if (!(await this.renewIfDue())) return false;
    }
  }

  /** Sends from the cursor's position while this server holds the lease. */
  private async follow(cursor: FeedCursor): Promise<void> {
    const { ties, logger } = this.options;
    const { destination } = this;
    let position = cursor.position;
    let failures = cursor.failures;
    if (cursor.nextAttemptAt !== null && !(await this.waitHolding(Date.parse(cursor.nextAttemptAt)))) return;
    while (!this.stopped) {
      let page: Awaited<ReturnType<Ties['feed']['read']>>;
      try {
        page = await ties.feed.read(position, destination.batchSize, destination.filter);
      } catch (err) {
        if (!isTiesError(err) || err.code !== 'CURSOR_EXPIRED') throw err;
        // Retention removed events this destination never got: say so in its state and go on from
        // the oldest event kept, rather than stalling for ever.
        const oldest = Number(err.details.oldest);
        logger.warn(
          { cursor: destination.cursorName, from: position, to: oldest },
          'outbound: events pruned before delivery',
        );
        if (
          !(await this.update({
            advance: { position: oldest, lastSeq: null, at: new Date(this.now()).toISOString() },
          }))
        )
          return;
        if (
          !(await this.update({
            failure: {
              error: `events ${position + 1} to ${oldest} were pruned before delivery`,
              nextAttemptAt: new Date(this.now()).toISOString(),
            },
          }))
        )
          return;
        position = oldest;
        continue;
      }
      if (page.events.length === 0) {
        if (page.lastSeq > position) {
          // Only filtered-out events: move on without sending anything.
          if (
            !(await this.update({
              advance: { position: page.lastSeq, lastSeq: null, at: new Date(this.now()).toISOString() },
            }))
          )
            return;
          position = page.lastSeq;
          continue;
        }
        await ties.feed.waitForChanges(position, RENEW_EVERY_MS, this.abort.signal);
        if (!(await this.renewIfDue())) return;
        continue;
      }
      if (!(await this.renewIfDue())) return;
      const last = page.events[page.events.length - 1]!;
      const next = Math.max(page.lastSeq, last.seq);
      try {
        await destination.deliver(page.events, this.abort.signal);
      } catch (err) {
        if (this.stopped) return;
        failures++;
        this.counters.failures++;
        const delay = backoffDelay(this.options.backoff, failures);
        const nextAttemptAt = new Date(this.now() + delay).toISOString();
        const error = describe(err);
        logger.warn(
          { cursor: destination.cursorName, failures, retryInMs: delay, error },
          'outbound: delivery failed',
        );
        if (!(await this.update({ failure: { error, nextAttemptAt } }))) return;
        if (!(await this.waitHolding(this.now() + delay))) return;
        continue;
      }
      this.counters.delivered += page.events.length;
      this.counters.batches++;
      if (failures > 0)
        logger.info({ cursor: destination.cursorName, after: failures }, 'outbound: delivering again');
      failures = 0;
      if (
        !(await this.update({
          advance: { position: next, lastSeq: last.seq, at: new Date(this.now()).toISOString() },
        }))
      )
        return;
      position = next;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const signal = this.abort.signal;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** A short, single-line reason for a failed delivery (kept in the cursor, shown by webhooks/list). */
export function describe(err: unknown): string {
  const e = err as { message?: unknown; cause?: { message?: unknown; code?: unknown } };
  let text = typeof e?.message === 'string' ? e.message : String(err);
  if (e?.cause && typeof e.cause.message === 'string') text += `: ${e.cause.message}`;
  return text.replace(/\s+/g, ' ').slice(0, 500);
}
