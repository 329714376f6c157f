// Composes a running server: config → store → core → app → listen.
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { createTies, type Ties } from './core/ties.js';
import { loadDemo, rotateDemoToken } from './demo.js';
import { buildApp } from './http/app.js';
import { enableGracefulClose } from './http/graceful-close.js';
import { createLogger } from './http/logger.js';
import { OutboundService } from './outbound/outbound-service.js';
import { openConfiguredStore } from './store/configured-store.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly ties: Ties;
  /** Base URL, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  /** Set when the demo is on: the fresh demo token, and whether the workspace was loaded now. */
  readonly demo?: { readonly token: string; readonly loaded: boolean };
  /** The webhook senders and the AMQP publisher of this server. */
  readonly outbound: OutboundService;
  /** Stops accepting, finishes the calls in flight, flushes and closes the store. */
  close(): Promise<void>;
}

/** After the drain, how long calls in flight may take before their connections are closed. */
const CLOSE_GRACE_MS = 2_000;

export interface StartOptions {
  /** Where the server's log lines go (standard output by default); tests read them. */
  readonly logStream?: NodeJS.WritableStream | undefined;
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  // One logger for the whole server: Fastify logs through it, the store through a child of it
  // (disk full, corruption, lost PostgreSQL connections must reach the operator).
  const logger = createLogger(config.logLevel, options.logStream);
  const store = await openConfiguredStore(config, logger.child({ component: 'store' }));
  const ties = createTies({
    store,
    limits: { maxStringLength: config.maxStringLength, maxArrayLength: config.maxArrayLength },
    maxGetRows: config.maxGetRows,
    feed: {
      enabled: config.feed === 'on',
      retention: {
        maxAgeMs: config.feedRetainDays > 0 ? config.feedRetainDays * 86_400_000 : null,
        maxCount: config.feedRetainCount > 0 ? config.feedRetainCount : null,
      },
      onPruneError: (err) => logger.warn({ err }, 'change feed: pruning failed; the next round tries again'),
    },
  });
  ties.feed.startPruning();
  let app: FastifyInstance | undefined;
  const outbound = new OutboundService({
    ties,
    logger: logger.child({ component: 'outbound' }),
    backoff: { baseMs: config.outboundRetryBaseMs, capMs: config.outboundRetryMaxMs },
    leaseMs: config.outboundLeaseMs,
    publishUrl: config.publishUrl,
    publishExchange: config.publishExchange,
  });
  try {
    await ties.access.applyEnvironmentToken(config.adminToken);
    let demo: RunningServer['demo'];
    if (config.demo) {
      const loaded = await loadDemo(ties);
      demo = { loaded, token: await rotateDemoToken(ties) };
    }
    app = await buildApp({ ties, config, logger, outbound });
    const graceful = enableGracefulClose(app);
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const running = app;
    await outbound.start();
    return {
      app: running,
      ties,
      outbound,
      url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
      ...(demo ? { demo } : {}),
      async close() {
        // Calls already sent on open connections are read and answered before Fastify closes.
        await graceful.drain();
        // Long-polls and streams of the change feed answer what they have now, not at their timeout.
        await ties.feed.close();
        // Calls in flight get a little longer; what is left then (a client still sending a body,
        // say) is closed, so a stop is bounded whatever clients do.
        const force = setTimeout(() => running.server.closeAllConnections(), CLOSE_GRACE_MS);
        try {
          await running.close();
        } finally {
          clearTimeout(force);
        }
        await outbound.stop();
        await ties.close();
      },
    };
  } catch (err) {
    await outbound.stop();
    await app?.close();
    await ties.close();
    throw err;
  }
}
