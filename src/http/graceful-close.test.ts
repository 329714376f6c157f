// The drain of a graceful stop must not take time the thread spent elsewhere for quiet: calls sent
// while the event loop was busy (a commit's fsync, a long call) wait unread in the accept backlog,
// and closing the listening socket then resets them. This was the 1-in-6 ECONNRESET of
// test/reliability/crash.test.ts "close answers every call already sent": a 140 ms stall of the
// loop counted as 100 ms of quiet. Here the stall is made on purpose.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import Fastify from 'fastify';
import { enableGracefulClose } from './graceful-close.js';

/** Sends one request on a new connection; answers its status line, or the error the client saw. */
function rawCall(port: number): Promise<string> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        'POST /call HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}',
      );
    });
    socket.on('data', (d) => {
      answer += d;
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    socket.on('close', () => resolve(answer.split('\r\n')[0] || 'closed without an answer'));
  });
}

function stallThread(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // the thread is busy, as during a long fsync
  }
}

test('a drain answers calls sent while the thread was busy, not taking the stall for quiet', async () => {
  const app = Fastify();
  app.post('/call', async () => ({ ok: true }));
  const graceful = enableGracefulClose(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const drained = graceful.drain();
  const calls = Array.from({ length: 20 }, () => rawCall(port));
  // Longer than the quiet period (100 ms), before the server could accept any of them.
  stallThread(300);
  await drained;
  await app.close();
  assert.deepEqual(await Promise.all(calls), Array(20).fill('HTTP/1.1 200 OK'));
});
