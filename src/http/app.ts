// buildApp: the Fastify application of Ties (never listens; server.ts does). One route per call of
// the catalogue, all served by the same handler: decode → negotiate → token → parameters → core.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { CALLS, type CallDef } from '../api/calls.js';
import { coerceParams } from '../api/coerce.js';
import { type Config, DEFAULT_CONFIG } from '../config.js';
import { isTiesError, TiesError } from '../core/errors.js';
import type { Ties } from '../core/ties.js';
import { VERSION } from '../version.js';
import { registerChangeStream } from './change-stream.js';
import { type BodyFormat, decodeBody, sniffFormat } from './codecs/body-decoder.js';
import { errorEnvelope, fromFrameworkError, sendEnvelope } from './envelope.js';
import { explorerRoutes } from './explorer-routes.js';
import { clientErrorHandler } from './framing-errors.js';
import { createLogger, type Logger } from './logger.js';
import { type OutboundCounters, registerMetrics } from './metrics.js';
import { answerFormat } from './negotiate.js';
import { buildOpenApi } from './openapi.js';
import { RateLimiter } from './rate-limit.js';
import { extractToken } from './token.js';

export const API_PREFIX = '/api/v1.1/';

/** Most of an oversized body read and discarded so that its client gets the 413 answer. */
const DISCARD_MAX_BYTES = 64 * 1024 * 1024;

export type AppConfig = Pick<Config, 'bodyLimit' | 'maxDepth' | 'httpStatus' | 'rateLimit' | 'logLevel'> &
  Partial<Pick<Config, 'headersTimeoutMs' | 'requestTimeoutMs'>>;

export interface AppDeps {
  readonly ties: Ties;
  readonly config: AppConfig;
  /** The server's logger (server.ts creates it); without it, one at config.logLevel. */
  readonly logger?: Logger | undefined;
  /** The built Explorer's folder (default dist/explorer); tests give one of their own. */
  readonly explorerDir?: string | undefined;
  /** Where logs go when no logger is given (standard output by default); tests read them. */
  readonly logStream?: NodeJS.WritableStream | undefined;
  /** The server's webhook senders and AMQP publisher, for /metrics (server.ts gives it). */
  readonly outbound?: OutboundCounters | undefined;
  /** Comment lines on an idle change stream every this many ms (default 15 000); tests shorten it. */
  readonly streamHeartbeatMs?: number | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The call this request names, once routing found it (for logs and metrics). */
    tiesCall?: string;
    tiesError?: number;
  }
}

type Query = Record<string, unknown>;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { ties, config } = deps;
  const headersTimeout = config.headersTimeoutMs ?? DEFAULT_CONFIG.headersTimeoutMs;
  const requestTimeout = Math.max(headersTimeout, config.requestTimeoutMs ?? DEFAULT_CONFIG.requestTimeoutMs);
  const app = Fastify({
    bodyLimit: config.bodyLimit,
    // A client that sends its headers or body too slowly gets a 408 envelope (framing-errors.ts)
    // and its connection closes; Node checks the clocks every connectionsCheckingInterval.
    requestTimeout,
    http: {
      headersTimeout,
      // Node checks headersTimeout against this at creation; Fastify then sets the same value.
      requestTimeout,
      connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(headersTimeout / 4))),
    },
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    // One debug line per call (onResponse below) replaces Fastify's two info lines per request.
    logController: new LogController({ disableRequestLogging: true }),
    loggerInstance: (deps.logger ?? createLogger(config.logLevel, deps.logStream)) as FastifyBaseLogger,
    // Requests carry their id into 500 answers and logs; a client-chosen id is not trusted.
    requestIdHeader: false,
    // A call reaching a live connection during the SIGTERM drain is served and answered with an
    // envelope, not refused with Fastify's own 503 body (SPEC §2: every answer is an envelope).
    return503OnClosing: false,
    // Requests the HTTP parser refuses (bad framing, headers too large, too slow) get envelopes.
    clientErrorHandler: clientErrorHandler(config.httpStatus),
    // So does a path with a malformed %-escape, without echoing the URL (it may hold ?token=).
    frameworkErrors: (err, request, reply): void => {
      const error =
        err.code === 'FST_ERR_BAD_URL'
          ? new TiesError('BAD_REQUEST', { reason: 'malformed %-escape in the path' })
          : err;
      fail(request, reply, error, headerFormat(request));
    },
  });
  // Every answer names its request id (docs/decisions.md); a 500's error_text quotes the same id.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  const limiter = config.rateLimit > 0 ? new RateLimiter(config.rateLimit) : undefined;

  // Ties decodes every body itself (JSON, XML, sniffing), so Fastify only collects the bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  // Schemas on routes are for the documentation; validation is coerceParams, after the token check.
  app.setValidatorCompiler(() => () => true);

  // 503s are logged at warn, at most one line per 10 s with how many were not (an outage answers
  // hundreds a second); the store logs the cause itself.
  let unavailableLoggedAt = Number.NEGATIVE_INFINITY;
  let unavailableUnlogged = 0;
  const unavailable = (request: FastifyRequest, error: TiesError) => {
    const now = performance.now();
    if (now - unavailableLoggedAt < 10_000) {
      unavailableUnlogged++;
      return;
    }
    request.log.warn(
      { call: request.tiesCall, reason: error.message, notLoggedSinceLast: unavailableUnlogged },
      'call answered 503: store unavailable',
    );
    unavailableLoggedAt = now;
    unavailableUnlogged = 0;
  };

  /**
   * A body over the limit is read and thrown away (up to a bound) instead of closing at once: a
   * client still sending would see the connection reset and never read the 413 envelope (as
   * nginx's lingering close). Past the bound, or with a larger declared length, it closes.
   */
  const discardRest = (request: FastifyRequest, reply: FastifyReply) => {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > DISCARD_MAX_BYTES) return;
    reply.removeHeader('connection');
    let discarded = 0;
    request.raw.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > DISCARD_MAX_BYTES) request.raw.socket.destroy();
    });
    request.raw.resume();
  };

  const fail = (request: FastifyRequest, reply: FastifyReply, err: unknown, format: BodyFormat) => {
    let error = fromFrameworkError(err, config.bodyLimit);
    if (!error) {
      request.log.error({ err, call: request.tiesCall }, 'internal error');
      error = new TiesError('INTERNAL', { request_id: request.id });
    }
    request.tiesError = error.status;
    if (error.status === 503) unavailable(request, error);
    if (error.code === 'BODY_TOO_LARGE') discardRest(request, reply);
    return sendEnvelope(reply, format, errorEnvelope(error), config.httpStatus);
  };

  /** The answer format from the headers and query alone (no body was read). */
  const headerFormat = (request: FastifyRequest): BodyFormat => {
    // The raw query: Fastify's parsed one is not there when routing failed. URLSearchParams
    // tolerates malformed escapes.
    const url = request.raw.url ?? '';
    const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
    return answerFormat({
      requestFormat: sniffFormat(undefined, request.headers['content-type']),
      bodyFormat: undefined,
      queryFormat: query.get('format') ?? undefined,
      accept: request.headers.accept,
    });
  };

  /** The answer format when the body could not be used: sniffed, then format/Accept. */
  const fallbackFormat = (request: FastifyRequest): BodyFormat =>
    answerFormat({
      requestFormat: sniffFormat(request.body as Buffer | undefined, request.headers['content-type']),
      bodyFormat: undefined,
      queryFormat: (request.query as Query).format,
      accept: request.headers.accept,
    });

  const handle = async (call: CallDef, request: FastifyRequest, reply: FastifyReply) => {
    request.tiesCall = call.name;
    const query = request.query as Query;
    let decoded: { format: BodyFormat; value: unknown };
    try {
      decoded = decodeBody(request.body as Buffer | undefined, request.headers['content-type'], {
        maxDepth: config.maxDepth,
      });
    } catch (err) {
      return fail(request, reply, err, fallbackFormat(request));
    }
    const body = decoded.value as Record<string, unknown>;
    const format = answerFormat({
      requestFormat: decoded.format,
      bodyFormat: body.format,
      queryFormat: query.format,
      accept: request.headers.accept,
    });
    try {
      const token = await ties.access.authorize(
        extractToken(body, request.headers.authorization, query),
        call.right,
        call.name,
      );
      if (limiter && !limiter.take(token.id))
        throw new TiesError('RATE_LIMITED', { limit: config.rateLimit });
      const encoding = decoded.format === 'xml' ? 'text' : 'typed';
      const params = coerceParams(call.params, body, encoding);
      // A long-poll (relations/changes with wait_ms) stops waiting when its client goes away;
      // other calls get no signal (see CallDef.waits).
      let signal: AbortSignal | undefined;
      if (call.waits) {
        const gone = new AbortController();
        reply.raw.once('close', () => gone.abort());
        signal = gone.signal;
      }
      const result = await call.run(ties, params as never, { encoding, signal });
      request.tiesError = 0;
      return sendEnvelope(
        reply,
        format,
        { error: 0, error_text: call.successText, ...result },
        config.httpStatus,
      );
    } catch (err) {
      return fail(request, reply, err, format);
    }
  };

  await app.register(swagger, {
    mode: 'static',
    specification: { document: buildOpenApi(CALLS, VERSION) as never },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  for (const call of CALLS) {
    app.post(`${API_PREFIX}${call.name}`, { schema: { hide: true } }, (request, reply) =>
      handle(call, request, reply),
    );
  }

  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  // GET relations/changes/stream: the change feed as Server-Sent Events (change-stream.ts).
  registerChangeStream(
    app,
    ties,
    API_PREFIX,
    (request, reply, err) => fail(request, reply, err, headerFormat(request)),
    {
      heartbeatMs: deps.streamHeartbeatMs,
    },
  );

  // GET /metrics (Prometheus): calls by name and error code, group commits, process metrics.
  registerMetrics(app, ties, deps.outbound);

  app.get('/health', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await ties.store.ping();
      return { status: 'ok', engine: ties.store.engine, version: VERSION };
    } catch (err) {
      const reason = isTiesError(err) ? err.message : 'store unavailable';
      return reply.code(503).send({ status: 'unavailable', engine: ties.store.engine, reason });
    }
  });

  // The Explorer web page (src/explorer); the API's own docs stay at /docs.
  explorerRoutes(app, deps.explorerDir ? { dir: deps.explorerDir } : {});

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!.slice(0, 200);
    const name = path.startsWith(API_PREFIX) ? path.slice(API_PREFIX.length).replace(/\/+$/, '') : '';
    const known = CALLS.some((c) => c.name === name);
    const err = new TiesError('UNKNOWN_CALL', {
      path: known ? `${request.method} ${path} (calls use POST)` : `${request.method} ${path}`,
    });
    // SPEC §1 order: a body that does not parse is reported before the unknown call.
    if (request.body !== undefined) {
      try {
        decodeBody(request.body as Buffer, request.headers['content-type'], { maxDepth: config.maxDepth });
      } catch (parseErr) {
        return fail(request, reply, parseErr, fallbackFormat(request));
      }
    }
    return fail(request, reply, err, fallbackFormat(request));
  });

  app.setErrorHandler((err, request, reply) => fail(request, reply, err, fallbackFormat(request)));

  // Only when it logs: a hook costs every request its turn even when it does nothing.
  if (config.logLevel === 'debug' || config.logLevel === 'trace') {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.debug(
        { call: request.tiesCall, error: request.tiesError, status: reply.statusCode, ms: reply.elapsedTime },
        'call',
      );
      done();
    });
  }

  return app;
}
