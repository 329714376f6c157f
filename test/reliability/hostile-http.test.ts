// Requests refused before any route runs (issue #12, items 1, 3 and the Explorer part of 13): bad
// framing, headers too large, a malformed %-escape, Explorer paths the file server refuses. Each
// gets an envelope (JSON unless XML was asked for), and no token sent with them appears in any
// answer or any log line at any level — checked by decoding every logged field, byte arrays included.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createTies, type Ties } from '../../src/core/ties.js';
import { buildApp } from '../../src/http/app.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { TEST_APP_CONFIG } from '../support/harness.js';
import { assertEnvelope } from './support.js';

const HEADER_TOKEN = 'ties_headerSecretAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const QUERY_TOKEN = 'ties_querySecretBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
const SECRETS = [HEADER_TOKEN, QUERY_TOKEN, 'headerSecretAAAA', 'querySecretBBBB'];

let app: FastifyInstance;
let ties: Ties;
let port: number;
let explorerDir: string;
const logs: unknown[] = [];

before(async () => {
  explorerDir = mkdtempSync(join(tmpdir(), 'ties-hostile-explorer-'));
  writeFileSync(join(explorerDir, 'index.html'), '<!doctype html><title>Ties Explorer</title>');
  ties = createTies({ store: await openSqliteStore({ path: ':memory:' }) });
  const logStream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      done();
    },
  });
  app = await buildApp({ ties, config: { ...TEST_APP_CONFIG, logLevel: 'trace' }, logStream, explorerDir });
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as { port: number }).port;
});

after(async () => {
  await app.close();
  await ties.close();
  rmSync(explorerDir, { recursive: true, force: true });
});

/** Sends raw bytes and answers everything the server sent back before it closed. */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString('latin1');
    });
    socket.on('error', (err) =>
      (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(answer) : reject(err),
    );
    socket.on('close', () => resolve(answer));
    socket.write(request);
  });
}

/** The status, content type and body of a raw HTTP answer, checked to be an envelope. */
function envelopeOf(answer: string, what: string) {
  const split = answer.indexOf('\r\n\r\n');
  assert.ok(split > 0, `no HTTP answer to ${what}: ${JSON.stringify(answer.slice(0, 200))}`);
  const head = answer.slice(0, split);
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]);
  const contentType = /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '';
  const body = Buffer.from(answer.slice(split + 4), 'latin1').toString('utf8');
  const checked = assertEnvelope({ status, contentType, raw: body }, what, [408, 431]);
  return { status, ...checked };
}

/** Every string a log value holds, decoding byte arrays (Buffers serialized as numbers) on the way. */
function decodedStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    out.push(value);
    try {
      out.push(decodeURIComponent(value));
    } catch {
      // not %-encoded
    }
  } else if (Array.isArray(value)) {
    if (value.length > 0 && value.every((v) => typeof v === 'number' && v >= 0 && v < 256)) {
      out.push(Buffer.from(value as number[]).toString('latin1'));
    }
    for (const v of value) decodedStrings(v, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      decodedStrings(v, out);
    }
  }
  return out;
}

function assertNoSecret(texts: readonly string[], where: string): void {
  for (const text of texts)
    for (const secret of SECRETS)
      assert.ok(!text.includes(secret), `${where} holds a token: ${text.slice(0, 300)}`);
}

const AUTH = `Authorization: Bearer ${HEADER_TOKEN}\r\n`;
const TARGET = `/api/v1.1/relations/get?token=${QUERY_TOKEN}`;

const MALFORMED: readonly { name: string; request: string; status: number }[] = [
  {
    name: 'bad Content-Length',
    request: `POST ${TARGET} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${AUTH}Content-Length: abc\r\n\r\n{}`,
    status: 400,
  },
  {
    name: 'bad header line',
    request: `POST ${TARGET} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${AUTH}This is no header\r\nContent-Length: 2\r\n\r\n{}`,
    status: 400,
  },
  {
    name: 'Content-Length with Transfer-Encoding',
    request: `POST ${TARGET} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${AUTH}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: 'oversized header',
    request: `POST ${TARGET} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${AUTH}X-Filler: ${'f'.repeat(20_000)}\r\nContent-Length: 2\r\n\r\n{}`,
    status: 431,
  },
  {
    name: 'malformed %-escape in the path',
    request: `POST /api/v1.1/relations/%zz?token=${QUERY_TOKEN} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${AUTH}Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    status: 400,
  },
];

describe('requests refused before any route', () => {
  for (const { name, request, status } of MALFORMED) {
    test(`${name}: an envelope ${status}, no token in the answer`, async () => {
      const answer = await raw(request);
      const envelope = envelopeOf(answer, name);
      assert.equal(envelope.error, status);
      assert.equal(envelope.format, 'json');
      assertNoSecret([answer], `the answer to ${name}`);
    });
  }

  test('XML was asked for: the refusal is XML', async () => {
    const big = await raw(
      `POST ${TARGET} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept: application/xml\r\nX-Filler: ${'f'.repeat(20_000)}\r\n\r\n`,
    );
    assert.equal(envelopeOf(big, 'oversized header, Accept XML').format, 'xml');
    const badLength = await raw(
      `POST /api/v1.1/relations/get HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/xml\r\nContent-Length: x\r\n\r\n`,
    );
    assert.equal(envelopeOf(badLength, 'bad Content-Length, XML body').format, 'xml');
    const badUrl = await raw(`GET /api/v1.1/%zz?format=xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.equal(envelopeOf(badUrl, 'bad URL, format=xml').format, 'xml');
  });

  test('the Explorer: /explorer/%00, /explorer/.. and a missing file answer a 404 envelope, nothing logged as an error', async () => {
    const before = logs.length;
    for (const path of [
      '/explorer/%00',
      '/explorer/..',
      '/explorer/%2e%2e/package.json',
      '/explorer/missing.js',
    ]) {
      const envelope = envelopeOf(
        await raw(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
        path,
      );
      assert.equal(envelope.error, 404, path);
    }
    const lines = logs.slice(before) as { level: number }[];
    assert.deepEqual(
      lines.filter((l) => l.level >= 40 || JSON.stringify(l).includes('stack')),
      [],
      'no warning, error or stack in the log',
    );
  });

  test('no token in any log line at trace level, every field decoded', () => {
    assert.ok(logs.length > 0, 'trace level logged something');
    for (const line of logs) assertNoSecret(decodedStrings(line), 'a log line');
  });
});
