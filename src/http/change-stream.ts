// GET /api/v1.1/relations/changes/stream: the change feed as Server-Sent Events. Each event is
// `id: <seq>` and `data: <the event as relations/changes answers it>`, so a browser's EventSource
// resumes by itself from Last-Event-ID after a reconnect. Read right; the token as every call takes
// it (Authorization: Bearer, or ?token= — EventSource cannot set headers). Comment lines every
// heartbeat keep proxies from closing an idle stream; a server stop ends every stream at once.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { changeEventToWire } from '../api/change-wire.js';
import { type ChangeFilter, LATEST, MAX_CHANGES_LIMIT } from '../core/change-feed.js';
import { badParameter, isTiesError, TiesError } from '../core/errors.js';
import { PROFILE_ID_PATTERN } from '../core/ids.js';
import type { Ties } from '../core/ties.js';
import { extractToken } from './token.js';

export const STREAM_PATH = 'relations/changes/stream';
const DEFAULT_HEARTBEAT_MS = 15_000;

export interface ChangeStreamOptions {
  /** Time between comment lines on an idle stream (default 15 s). */
  readonly heartbeatMs?: number | undefined;
}

/** A cursor or id from the query or Last-Event-ID: a whole number ≥ 0, or a 400 naming it. */
function cursorOf(raw: unknown, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const text = String(raw).trim();
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw badParameter(
      name,
      name === 'after'
        ? 'expected a whole number ≥ 0 (an event id, seq) or latest'
        : 'expected a whole number ≥ 0 (an event id, seq)',
    );
  }
  return Number(text);
}

function filterOf(query: Record<string, unknown>): ChangeFilter {
  const relId = cursorOf(query.rel_id, 'rel_id');
  if (relId === 0) throw badParameter('rel_id', 'expected a relation type id ≥ 1');
  const profile = query.profile_id === undefined ? undefined : String(query.profile_id).toLowerCase();
  if (profile !== undefined && !PROFILE_ID_PATTERN.test(profile)) {
    throw badParameter('profile_id', 'expected a profile id (24 hexadecimal characters)');
  }
  return { relId, profileId: profile };
}

export function registerChangeStream(
  app: FastifyInstance,
  ties: Ties,
  prefix: string,
  fail: (request: FastifyRequest, reply: FastifyReply, err: unknown) => unknown,
  options: ChangeStreamOptions = {},
): void {
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  app.get(`${prefix}${STREAM_PATH}`, { schema: { hide: true } }, async (request, reply) => {
    request.tiesCall = STREAM_PATH;
    const query = request.query as Record<string, unknown>;
    let after: number;
    let filter: ChangeFilter;
    try {
      await ties.access.authorize(
        extractToken({}, request.headers.authorization, query),
        'read',
        STREAM_PATH,
      );
      ties.feed.requireEnabled(STREAM_PATH);
      // A reconnecting EventSource sends the last id it received: that wins over the query's after,
      // so a stream opened with after=latest resumes where it was, not at the head again.
      after =
        cursorOf(request.headers['last-event-id'], 'Last-Event-ID') ??
        (query.after === LATEST ? await ties.feed.head() : cursorOf(query.after, 'after')) ??
        0;
      filter = filterOf(query);
      // An expired cursor is refused before the stream starts, as relations/changes refuses it.
      await ties.feed.read(after, 1, filter);
    } catch (err) {
      return fail(request, reply, err);
    }
    request.tiesError = 0;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx buffers answers by default; a stream must pass through as written.
      'x-accel-buffering': 'no',
      'x-request-id': String(request.id),
    });
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const write = async (text: string) => {
      if (gone.signal.aborted) return;
      if (!res.write(text)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            gone.signal.removeEventListener('abort', done);
            resolve();
          };
          res.once('drain', done);
          gone.signal.addEventListener('abort', done, { once: true });
        });
      }
    };
    try {
      // How long EventSource waits before reconnecting after the stream ends, and the starting cursor
      // as the last event id: an EventSource opened with after=latest that is cut before its first
      // event then resumes from here rather than from a later head (an id without data is no event).
      await write(`retry: 2000\nid: ${after}\n\n`);
      let cursor = after;
      let sentId = after;
      while (!gone.signal.aborted && !ties.feed.closed) {
        const page = await ties.feed.read(cursor, MAX_CHANGES_LIMIT, filter);
        for (const event of page.events) {
          await write(`id: ${event.seq}\ndata: ${JSON.stringify(changeEventToWire(event))}\n\n`);
          sentId = event.seq;
        }
        cursor = page.lastSeq;
        if (page.events.length > 0) continue;
        await ties.feed.waitForChanges(cursor, heartbeatMs, gone.signal);
        if (gone.signal.aborted || ties.feed.closed) break;
        // A filter passes over events it does not send: the heartbeat moves the resume point past them.
        await write(cursor > sentId ? `: heartbeat\nid: ${cursor}\n\n` : ': heartbeat\n\n');
        sentId = Math.max(sentId, cursor);
      }
    } catch (err) {
      // The stream has started: the failure goes as an event the client can read, then it ends.
      const error = isTiesError(err)
        ? err
        : new TiesError('STORE_UNAVAILABLE', { reason: 'the feed failed' });
      if (!isTiesError(err)) request.log.error({ err, call: STREAM_PATH }, 'change stream failed');
      await write(
        `event: ties-error\ndata: ${JSON.stringify({ error: error.status, error_text: error.message })}\n\n`,
      );
    }
    res.end();
  });
}
