// The first half of a graceful stop (SIGTERM): keep serving until clients go quiet, then stop
// accepting connections, then let Fastify's close finish the calls in flight.
//
// Fastify's close alone is not enough: Node's server.close() drops every connection that has no
// request *parsed yet*, which includes calls still in a socket buffer or the accept backlog (the
// client sees a reset and cannot tell whether its write happened), and it leaves keep-alive
// connections that were active at that moment open until they time out (72 s) after their answer.
import { Server as NetServer } from 'node:net';
import type { FastifyInstance } from 'fastify';

export interface GracefulCloseOptions {
  /** Connections are accepted until no call has started for this long (default 100 ms)… */
  readonly quietMs?: number;
  /** …or for this long at most, whatever clients keep sending (default 5 s). */
  readonly maxMs?: number;
}

export interface GracefulClose {
  /**
   * Answers every call that arrives, each with Connection: close, until clients have gone quiet;
   * then stops accepting connections and gives the open ones one more quiet period to deliver what
   * they hold. Call it, then app.close() (which waits for the calls in flight).
   */
  drain(): Promise<void>;
}

/** Adds the hooks a drain needs; call before the app is ready. */
export function enableGracefulClose(app: FastifyInstance, options: GracefulCloseOptions = {}): GracefulClose {
  const quietMs = options.quietMs ?? 100;
  const maxMs = options.maxMs ?? 5_000;
  let draining = false;
  let lastCallAt = 0;

  app.addHook('onRequest', (_request, _reply, done) => {
    if (draining) lastCallAt = performance.now();
    done();
  });
  // A connection accepted during the drain is about to carry a call.
  app.server.on('connection', () => {
    if (draining) lastCallAt = performance.now();
  });
  // Each connection then carries at most one more call, so the drain ends.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) reply.header('connection', 'close');
    done(null, payload);
  });

  return {
    async drain() {
      if (draining || !app.server.listening) return;
      draining = true;
      const tick = quietMs / 4;
      // Quiet means no call started while the thread was free to read sockets. Time the thread
      // spent elsewhere (a commit's fsync, a long call, a loaded machine) does not count: calls
      // sent meanwhile wait unread in socket buffers and the accept backlog, and closing the
      // listening socket then would reset them (the client cannot tell whether its call was
      // applied). So a late tick restarts the quiet period, and each tick ends after a poll
      // phase (setImmediate), so what arrived while the timer waited has been read.
      const quiet = async (maxWait: number) => {
        const start = performance.now();
        lastCallAt = start;
        for (;;) {
          const before = performance.now();
          await new Promise((resolve) => setTimeout(resolve, tick));
          await new Promise((resolve) => setImmediate(resolve));
          const now = performance.now();
          if (now - before > tick + quietMs / 2) lastCallAt = Math.max(lastCallAt, now);
          if (now - lastCallAt >= quietMs || now - start >= maxWait) return;
        }
      };
      await quiet(maxMs);
      // net.Server's close, not http.Server's: the listening socket closes, open connections stay.
      NetServer.prototype.close.call(app.server);
      await quiet(quietMs * 5);
    },
  };
}
