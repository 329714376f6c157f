// The outbound side of the change feed on one server: a CursorRunner per webhook (started and
// stopped as webhooks are created and deleted, by this server or another on the same store) and
// one for the AMQP publisher when --publish is set. Each runner holds its cursor's lease while it
// sends, so with several servers on one PostgreSQL each webhook is served by one of them at a time.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Webhook } from '../core/outbound-store.js';
import type { Ties } from '../core/ties.js';
import { AmqpDestination } from './amqp-destination.js';
import type { BackoffPolicy } from './backoff.js';
import { CursorRunner, type OutboundLogger } from './cursor-runner.js';
import { webhookDestination } from './webhook-destination.js';

export interface OutboundOptions {
  readonly ties: Ties;
  readonly logger: OutboundLogger;
  readonly backoff: BackoffPolicy;
  /** amqp:// URL to publish every event to (none: no publisher). */
  readonly publishUrl?: string | undefined;
  readonly publishExchange: string;
  /** How often the list of webhooks is read again (ms); other servers' creations show up then. */
  readonly refreshMs?: number | undefined;
  readonly leaseMs?: number | undefined;
}

const DEFAULT_REFRESH_MS = 2_000;

export class OutboundService {
  /** This process's lease owner id: host, pid and a random part (a restarted process is a new owner). */
  readonly owner = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  private readonly webhooks = new Map<number, { readonly webhook: Webhook; readonly runner: CursorRunner }>();
  private publisher: CursorRunner | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: OutboundOptions) {}

  /** The runners by cursor name (metrics, tests). */
  runners(): ReadonlyMap<string, CursorRunner> {
    const out = new Map<string, CursorRunner>();
    for (const { runner } of this.webhooks.values()) out.set(runner.destination.cursorName, runner);
    if (this.publisher) out.set(this.publisher.destination.cursorName, this.publisher);
    return out;
  }

  async start(): Promise<void> {
    const { logger, ties } = this.options;
    if (
      !ties.feed.enabled &&
      (this.options.publishUrl || (await ties.store.listWebhooks()).webhooks.length > 0)
    )
      logger.warn({}, 'outbound: the change feed is off, so webhooks and --publish have nothing to send');
    if (this.options.publishUrl) {
      this.publisher = new CursorRunner(
        this.runnerOptions(),
        new AmqpDestination(this.options.publishUrl, this.options.publishExchange, logger),
      );
      this.publisher.start();
    }
    await this.refresh().catch((err) => logger.warn({ err }, 'outbound: cannot read webhooks'));
    this.timer = setInterval(() => void this.refreshNow(), this.options.refreshMs ?? DEFAULT_REFRESH_MS);
    this.timer.unref();
  }

  /** Reads the webhooks again now (after a local create or delete, tests). */
  refreshNow(): Promise<void> {
    this.refreshing ??= this.refresh()
      .catch((err) => this.options.logger.warn({ err }, 'outbound: cannot read webhooks'))
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  private runnerOptions() {
    return {
      ties: this.options.ties,
      owner: this.owner,
      backoff: this.options.backoff,
      logger: this.options.logger,
      leaseMs: this.options.leaseMs,
    };
  }

  private async refresh(): Promise<void> {
    if (this.stopped) return;
    const { webhooks } = await this.options.ties.store.listWebhooks();
    const current = new Map(webhooks.map((s) => [s.webhook.id, s.webhook]));
    for (const [id, entry] of this.webhooks) {
      if (!current.has(id)) {
        this.webhooks.delete(id);
        await entry.runner.stop();
      }
    }
    for (const [id, webhook] of current) {
      if (this.stopped || this.webhooks.has(id)) continue;
      const runner = new CursorRunner(this.runnerOptions(), webhookDestination(webhook));
      this.webhooks.set(id, { webhook, runner });
      runner.start();
    }
  }

  /** Stops every runner after its step in flight and releases their leases. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.refreshing;
    const runners = [...this.webhooks.values()].map((e) => e.runner);
    if (this.publisher) runners.push(this.publisher);
    this.webhooks.clear();
    await Promise.all(runners.map((r) => r.stop()));
  }
}
