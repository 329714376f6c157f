// Access control beyond the rights table: tokens at rest are SHA-256 hashes only (the database
// files are searched byte by byte), wrong tokens are refused alike, tokens never reach the logs at
// debug level nor in the error log of a 500, and the per-token rate limit answers 429 envelopes
// with Retry-After over real HTTP.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { TiesError } from '../../src/core/errors.js';
import { redactUrl } from '../../src/http/token.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { addProfile, byId, createWorkspace } from '../http/helpers.js';
import { ADMIN_TOKEN, startHarness, toXml } from '../support/harness.js';
import { dropSchema, freshSchemaName, PG_SKIPPED, PG_URL } from '../support/pg-engine.js';
import { assertEnvelope } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'ties-access-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ADMIN = 'access-test-admin-token-0123456789';
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

async function serve(env: Record<string, string>): Promise<RunningServer> {
  const config = loadConfig(
    { TIES_ADMIN_TOKEN: ADMIN, TIES_LOG_LEVEL: 'silent', TIES_PORT: '0', ...env },
    [],
  );
  return startServer(config);
}

async function post(
  url: string,
  name: string,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) {
  const res = await fetch(`${url}/api/v1.1/${name}`, { method: 'POST', headers, body });
  const raw = await res.text();
  const answer = assertEnvelope(
    { status: res.status, contentType: res.headers.get('content-type') ?? '', raw },
    `${name} ${body.slice(0, 200)}`,
  );
  return { ...answer, headers: res.headers, raw };
}

/**
 * Mints three tokens over the API, uses three of the four (the admin's included), revokes the last;
 * answers every token seen, the live ones first. The server is closed on return (touches flushed).
 */
async function mintAndUse(db: string): Promise<string[]> {
  const server = await serve({ TIES_DB: db });
  const tokens: string[] = [ADMIN];
  try {
    let revokedId = 0;
    for (const [name, rights] of [
      ['crm', ['read', 'write']],
      ['reporting', ['read']],
      ['ops', ['admin', 'delete']],
    ] as const) {
      const created = await post(server.url, 'tokens/create', JSON.stringify({ token: ADMIN, name, rights }));
      assert.equal(created.error, 0);
      tokens.push((created.body.data as { token: string }).token);
      revokedId = (created.body.data as { id: number }).id;
    }
    for (const token of tokens.slice(0, 3)) {
      assert.equal((await post(server.url, 'relations/types/list', JSON.stringify({ token }))).error, 0);
    }
    const revoked = await post(server.url, 'tokens/revoke', JSON.stringify({ token: ADMIN, id: revokedId }));
    assert.equal(revoked.error, 0);
    const listed = await post(server.url, 'tokens/list', JSON.stringify({ token: ADMIN }));
    for (const token of tokens) assert.ok(!listed.raw.includes(token), 'tokens/list shows a token');
  } finally {
    await server.close();
  }
  return tokens;
}

/** The stored token rows: only SHA-256 hashes of the live tokens, and their use recorded. */
function assertTokenRows(rows: readonly Record<string, unknown>[], tokens: readonly string[]): void {
  assert.equal(rows.length, 3, 'the admin token and two minted ones; the revoked one is gone');
  for (const row of rows) {
    assert.match(String(row.hash), /^[0-9a-f]{64}$/);
    for (const token of tokens) assert.ok(!JSON.stringify(row).includes(token));
  }
  assert.deepEqual(
    rows.map((r) => r.hash),
    tokens.slice(0, 3).map(sha256),
    'each stored hash is the SHA-256 of its token',
  );
  assert.ok(
    rows.every((r) => typeof r.last_used_at === 'string'),
    'use was recorded',
  );
}

describe('tokens at rest', () => {
  test('sqlite: the database files hold no token in plain text, only its SHA-256 hash', async () => {
    const db = join(dir, 'tokens.db');
    const tokens = await mintAndUse(db);
    // Inspection, not a fixture: every byte of the database, its WAL and shared memory.
    const files = ['', '-wal', '-shm'].map((s) => db + s).filter((f) => existsSync(f));
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const token of tokens) {
        assert.ok(!bytes.includes(token), `${file} holds a token in plain text`);
        assert.ok(!bytes.includes(token.slice(5)), `${file} holds a token's secret part`);
      }
    }
    const raw = new BetterSqlite3(db, { readonly: true });
    try {
      assertTokenRows(
        raw.prepare('SELECT * FROM tokens ORDER BY id').all() as Record<string, unknown>[],
        tokens,
      );
    } finally {
      raw.close();
    }
  });

  test('postgres: no table of the schema holds a token in plain text, only its SHA-256 hash', {
    skip: PG_URL ? false : PG_SKIPPED,
  }, async () => {
    const url = PG_URL!;
    const schema = freshSchemaName();
    const tokens = await mintAndUse(`${url}${url.includes('?') ? '&' : '?'}schema=${schema}`);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // Inspection, not a fixture: every row of every table of the store's schema, as text.
      const tables = await client.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
        [schema],
      );
      assert.ok(tables.rows.length > 5);
      for (const { table_name } of tables.rows) {
        const qualified = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table_name)}`;
        const dump = await client.query<{ row: string }>(
          `SELECT row_to_json(t)::text AS row FROM ${qualified} t`,
        );
        const text = dump.rows.map((r) => r.row).join('\n');
        for (const token of tokens) assert.ok(!text.includes(token.slice(5)), `${table_name} holds a token`);
      }
      const rows = await client.query(`SELECT * FROM ${pg.escapeIdentifier(schema)}.tokens ORDER BY id`);
      assertTokenRows(rows.rows, tokens);
    } finally {
      await client.end();
      await dropSchema(schema, url);
    }
  });

  test('a wrong token is refused with the same answer whatever it shares with a real one', async () => {
    const h = await startHarness();
    try {
      const near = [
        `${ADMIN_TOKEN.slice(0, -1)}X`,
        `X${ADMIN_TOKEN.slice(1)}`,
        ADMIN_TOKEN.slice(0, -1),
        `${ADMIN_TOKEN}0`,
        ADMIN_TOKEN.toUpperCase(),
        ` ${ADMIN_TOKEN}`,
        sha256(ADMIN_TOKEN),
        'x'.repeat(600),
        `${ADMIN_TOKEN}\u0000`,
        'ties_\uD800',
      ];
      for (const token of near) {
        // XML cannot carry U+0000 at all (a 400 before any token check).
        for (const format of token.includes('\u0000') ? (['json'] as const) : (['json', 'xml'] as const)) {
          const answer = await h.call('relations/types/list', {}, { token, format });
          assert.equal(String(answer.body.error), '401', `${JSON.stringify(token)}: ${answer.raw}`);
          assert.equal(answer.body.error_text, 'token: unknown or revoked');
        }
      }
    } finally {
      await h.close();
    }
  });
});

describe('tokens never reach the logs', () => {
  test('debug-level call logs and the error log of a 500, with tokens in body, header and query', async () => {
    const lines: string[] = [];
    const logStream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const h = await startHarness({ logStream, config: { logLevel: 'debug', bodyLimit: 4096 } });
    try {
      const w = await createWorkspace(h);
      const a = await addProfile(h, w.dbA);
      const b = await addProfile(h, w.dbB);
      const reader = (await h.call('tokens/create', { name: 'reader', rights: ['read'] })).body.data.token;
      const wrong = 'ties_this-token-does-not-exist-0123456789abcdef';
      const secrets = [ADMIN_TOKEN, reader, wrong];
      const attach = { rel_id: w.relId, profile_a: byId(a), profile_b: byId(b), weights: { count: 1 } };

      /** Sends a call with the token in the body, the Authorization header or the query. */
      const send = async (
        name: string,
        params: Record<string, unknown>,
        token: string,
        where: 'json' | 'xml' | 'header' | 'query' | 'encoded-query',
      ) => {
        const inBody = where === 'json' || where === 'xml';
        const body = inBody ? { token, ...params } : params;
        const headers: Record<string, string> = {
          'content-type': where === 'xml' ? 'application/xml' : 'application/json',
        };
        if (where === 'header') headers.authorization = `Bearer ${token}`;
        const query =
          where === 'query' ? `?token=${token}` : where === 'encoded-query' ? `?to%6Ben=${token}` : '';
        return h.app.inject({
          method: 'POST',
          url: `/api/v1.1/${name}${query}`,
          payload: where === 'xml' ? toXml(body) : JSON.stringify(body),
          headers,
        });
      };

      const store = h.ties.store as any;
      const original = store.counter;
      const statuses = new Set<number>();
      for (const where of ['json', 'xml', 'header', 'query', 'encoded-query'] as const) {
        statuses.add((await send('relations/types/list', {}, ADMIN_TOKEN, where)).statusCode);
        statuses.add((await send('relations/attach', attach, ADMIN_TOKEN, where)).statusCode);
        statuses.add((await send('relations/attach', attach, reader, where)).statusCode);
        statuses.add((await send('relations/get', { rel_id: 'x' }, ADMIN_TOKEN, where)).statusCode);
        statuses.add((await send('relations/types/list', {}, wrong, where)).statusCode);
        statuses.add((await send('relations/no_such_call', {}, ADMIN_TOKEN, where)).statusCode);
        statuses.add(
          (await send('relations/types/list', { pad: 'p'.repeat(5000) }, ADMIN_TOKEN, where)).statusCode,
        );
        store.counter = async () => {
          throw new Error('driver failure while reading aggregates');
        };
        statuses.add(
          (await send('relations/get_counter', { rel_id: w.relId, profile_id: a }, ADMIN_TOKEN, where))
            .statusCode,
        );
        store.counter = async () => {
          throw new TiesError('STORE_UNAVAILABLE', { reason: 'connection refused' });
        };
        statuses.add(
          (await send('relations/get_counter', { rel_id: w.relId, profile_id: a }, ADMIN_TOKEN, where))
            .statusCode,
        );
        store.counter = original;
      }
      assert.deepEqual(
        [...statuses].sort(),
        [200, 400, 401, 403, 404, 409, 413, 500, 503],
        'every kind of outcome was logged',
      );
      const log = lines.join('');
      const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.ok(
        parsed.filter((l) => l.msg === 'call').length >= 40,
        'one debug line per call (so the check below reads real logs)',
      );
      const errors = parsed.filter((l) => l.level === 50);
      assert.equal(errors.length, 5, 'each 500 is in the error log');
      assert.ok(errors.every((l) => JSON.stringify(l).includes('driver failure')));
      for (const secret of secrets) {
        assert.ok(!log.includes(secret), `a token reached the log: ${secret.slice(0, 12)}…`);
        assert.ok(!log.includes(secret.slice(5)), 'the secret part of a token reached the log');
      }
    } finally {
      await h.close();
    }
  });

  test('URLs are masked for logs however the token parameter is spelled', () => {
    for (const [url, masked] of [
      ['/api/v1.1/x?token=s3cret&format=xml', '/api/v1.1/x?token=[redacted]&format=xml'],
      ['/x?a=1&TOKEN=s3cret', '/x?a=1&TOKEN=[redacted]'],
      ['/x?to%6Ben=s3cret', '/x?to%6Ben=[redacted]'],
      ['/x?%74%6F%6B%65%6E=s3cret&b=2', '/x?%74%6F%6B%65%6E=[redacted]&b=2'],
      ['/x?token=a&token=s3cret', '/x?token=[redacted]&token=[redacted]'],
      ['/x?token', '/x?token'],
      ['/x?tokens=1', '/x?tokens=1'],
      ['/x', '/x'],
    ]) {
      assert.equal(redactUrl(url!), masked);
    }
  });
});

describe('rate limit over real HTTP', () => {
  test('a token over TIES_RATE_LIMIT gets 429 envelopes with Retry-After; other tokens do not; it refills', async () => {
    const server = await serve({ TIES_DB: join(dir, 'rate.db'), TIES_RATE_LIMIT: '3' });
    try {
      const minted = await post(
        server.url,
        'tokens/create',
        JSON.stringify({ token: ADMIN, name: 'other', rights: ['read'] }),
      );
      const other = (minted.body.data as { token: string }).token;
      const list = (token: string, format: 'json' | 'xml' | 'header' = 'json') =>
        format === 'xml'
          ? post(server.url, 'relations/types/list', toXml({ token }), { 'content-type': 'application/xml' })
          : format === 'header'
            ? post(server.url, 'relations/types/list', '{}', {
                'content-type': 'application/json',
                authorization: `Bearer ${token}`,
              })
            : post(server.url, 'relations/types/list', JSON.stringify({ token }));

      // The admin token spent one call on tokens/create; its bucket refills while other calls run,
      // so drain it until refused rather than count exactly.
      let refused: Awaited<ReturnType<typeof list>> | undefined;
      for (let i = 0; i < 20 && !refused; i++) {
        const answer = await list(ADMIN, i % 2 ? 'header' : 'json');
        if (answer.error === 429) refused = answer;
        else assert.equal(answer.error, 0);
      }
      assert.ok(refused, 'the limit was reached');
      assert.equal(refused.format, 'json');
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.equal(refused.body.error_text, 'token: more than 3 calls per second; retry later');

      const xml = await list(ADMIN, 'xml');
      assert.equal(xml.error, 429, 'the same token in an XML body shares the bucket');
      assert.equal(xml.format, 'xml');
      assert.equal(xml.headers.get('retry-after'), '1');

      assert.equal((await list(other)).error, 0, 'another token has its own bucket');
      // A refused call spends nothing: after a second the token works again.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      assert.equal((await list(ADMIN)).error, 0);
    } finally {
      await server.close();
    }
  });
});
