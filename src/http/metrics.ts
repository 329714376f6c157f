// GET /metrics in the Prometheus text format: calls and their latency by call and error code, the
// store's group commits (batch sizes, commit time), and process metrics. One Registry per app (never
// prom-client's global one), labels only from the call catalogue and the error codes: no token, no
// raw path ever becomes a label.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { CALLS_BY_NAME } from '../api/calls.js';
import { isCommitObservable } from '../core/store-stats.js';
import type { Ties } from '../core/ties.js';
import { CallMetrics } from './call-metrics.js';

const API_PREFIX = '/api/v1.1/';
/** Latency buckets in seconds: group commit answers in milliseconds, a slow store in seconds. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/** The catalogue name of the call a request named, or "unknown"; never the path as sent. */
function callOf(request: FastifyRequest): string {
  if (request.tiesCall) return request.tiesCall;
  const route = request.routeOptions.url;
  if (route?.startsWith(API_PREFIX)) {
    const name = route.slice(API_PREFIX.length);
    if (CALLS_BY_NAME.has(name)) return name;
  }
  return 'unknown';
}

/** What /metrics reads of this server's outbound senders (src/outbound/outbound-service.ts). */
export interface OutboundCounters {
  runners(): ReadonlyMap<
    string,
    { readonly counters: { readonly delivered: number; readonly failures: number } }
  >;
}

/**
 * Webhook delivery state from the store (the same on every server: lag and failures of each
 * webhook, whoever sends it), and this server's own counts of events sent and failed attempts.
 */
function registerOutboundMetrics(
  registry: Registry,
  ties: Ties,
  outbound: OutboundCounters | undefined,
): void {
  const states = () => ties.webhooks.states();
  new Gauge({
    name: 'ties_webhook_lag_events',
    help: "Events of the change log after the webhook's delivered position (0: caught up)",
    labelNames: ['webhook'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const w of await states().catch(() => [])) this.set({ webhook: String(w.id) }, w.lag);
    },
  });
  new Gauge({
    name: 'ties_webhook_failures',
    help: 'Failed delivery attempts of the webhook since its last success',
    labelNames: ['webhook'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const w of await states().catch(() => [])) this.set({ webhook: String(w.id) }, w.failures);
    },
  });
  if (!outbound) return;
  new Counter({
    name: 'ties_outbound_events_total',
    help: 'Events this server delivered, by destination (webhook:<id>, amqp:<exchange>)',
    labelNames: ['destination'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [name, runner] of outbound.runners())
        this.inc({ destination: name }, runner.counters.delivered);
    },
  });
  new Counter({
    name: 'ties_outbound_failures_total',
    help: 'Failed delivery attempts of this server, by destination',
    labelNames: ['destination'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [name, runner] of outbound.runners())
        this.inc({ destination: name }, runner.counters.failures);
    },
  });
}

export function registerMetrics(app: FastifyInstance, ties: Ties, outbound?: OutboundCounters): Registry {
  const registry = new Registry();
  const calls = new CallMetrics(registry, { buckets: LATENCY_BUCKETS });

  const store = ties.store;
  if (isCommitObservable(store)) {
    const batchOps = new Histogram({
      name: 'ties_store_batch_ops',
      help: 'Writes per group commit (one transaction, one fsync)',
      buckets: BATCH_BUCKETS,
      registers: [registry],
    });
    const commitSeconds = new Histogram({
      name: 'ties_store_commit_seconds',
      help: 'Time of a group commit batch, its writes and the commit (fsync) included',
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    const failed = new Counter({
      name: 'ties_store_failed_batches_total',
      help: 'Group commit batches that failed as a whole (nothing of them was written)',
      registers: [registry],
    });
    const stop = store.onCommit((info) => {
      batchOps.observe(info.ops);
      commitSeconds.observe(info.ms / 1000);
      if (!info.ok) failed.inc();
    });
    app.addHook('onClose', (_instance, done) => {
      stop();
      done();
    });
  }
  const stats = (store as { stats?: () => { queued?: number } }).stats;
  if (typeof stats === 'function') {
    new Gauge({
      name: 'ties_store_queued_writes',
      help: 'Writes waiting for the next group commit',
      registers: [registry],
      collect() {
        this.set(stats.call(store).queued ?? 0);
      },
    });
  }
  new Gauge({
    name: 'ties_store_up',
    help: '1 while the store answers a ping, 0 otherwise',
    registers: [registry],
    async collect() {
      try {
        await store.ping();
        this.set(1);
      } catch {
        this.set(0);
      }
    },
  });

  registerOutboundMetrics(registry, ties, outbound);

  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    const error = request.tiesError;
    // Only API calls are counted: /health, /metrics and the documentation are not calls.
    if (error !== undefined) calls.observe(callOf(request), error, reply.elapsedTime / 1000);
    done();
  });

  // Process metrics (CPU, memory, event loop lag, GC) start with the first scrape, so that apps
  // nobody scrapes (tests build hundreds) install no observers.
  let defaults = false;
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    if (!defaults) {
      collectDefaultMetrics({ register: registry });
      defaults = true;
    }
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  return registry;
}
