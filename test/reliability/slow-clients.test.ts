// Slow clients (issue #12, item 6): headers or a body that trickle in get a 408 envelope and their
// connection closed (TIES_HEADERS_TIMEOUT_MS, TIES_REQUEST_TIMEOUT_MS), and a stop (SIGTERM) ends
// even while a client keeps sending, closing what is left after the bounded drain.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { assertEnvelope } from './support.js';

function serve(env: Record<string, string>): Promise<RunningServer> {
  return startServer(
    loadConfig({ TIES_DB: ':memory:', TIES_LOG_LEVEL: 'silent', TIES_PORT: '0', ...env }, []),
  );
}

/**
 * Opens a connection, writes `head`, then one byte of `trickle` every 100 ms for as long as the
 * server keeps the connection; answers what the server sent before it closed.
 */
function trickle(url: string, head: string, byte = 'x'): { answer: Promise<string>; socket: Socket } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let answer = '';
  socket.on('data', (d) => {
    answer += d.toString('latin1');
  });
  const timer = setInterval(() => {
    if (!socket.destroyed && socket.writable) socket.write(byte);
  }, 100);
  socket.write(head);
  return {
    socket,
    answer: new Promise((resolve) => {
      const end = () => {
        clearInterval(timer);
        resolve(answer);
      };
      socket.on('close', end);
      socket.on('error', end);
    }),
  };
}

function envelope408(answer: string, what: string): void {
  const split = answer.indexOf('\r\n\r\n');
  assert.ok(split > 0, `${what}: no answer before the close: ${JSON.stringify(answer.slice(0, 200))}`);
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(answer)?.[1]);
  const contentType = /content-type: ([^\r\n]+)/i.exec(answer.slice(0, split))?.[1] ?? '';
  const { error } = assertEnvelope({ status, contentType, raw: answer.slice(split + 4) }, what, [408]);
  assert.equal(error, 408, what);
}

describe('slow clients', () => {
  test('headers that trickle in: a 408 envelope, then the connection closes', {
    timeout: 60_000,
  }, async () => {
    const server = await serve({ TIES_HEADERS_TIMEOUT_MS: '500', TIES_REQUEST_TIMEOUT_MS: '1000' });
    try {
      const { answer } = trickle(server.url, 'POST /api/v1.1/relations/get HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      envelope408(await answer, 'slow headers');
    } finally {
      await server.close();
    }
  });

  test('a body that trickles in: a 408 envelope, then the connection closes', {
    timeout: 60_000,
  }, async () => {
    const server = await serve({ TIES_HEADERS_TIMEOUT_MS: '500', TIES_REQUEST_TIMEOUT_MS: '1000' });
    try {
      const { answer } = trickle(
        server.url,
        'POST /api/v1.1/relations/get HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"a":"',
      );
      envelope408(await answer, 'slow body');
    } finally {
      await server.close();
    }
  });

  test('a stop ends while a client keeps sending a body', { timeout: 60_000 }, async () => {
    // Timeouts far away: only the bounded drain can end this connection.
    const server = await serve({ TIES_HEADERS_TIMEOUT_MS: '600000', TIES_REQUEST_TIMEOUT_MS: '600000' });
    const { answer, socket } = trickle(
      server.url,
      'POST /api/v1.1/relations/get HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{"a":"',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await server.close();
    await answer;
    assert.ok(socket.destroyed, 'the slow connection was closed');
  });
});
