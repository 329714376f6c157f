// The store's failures reach the operator (issue #12, items 8 and 9): the server's one logger is
// handed to the store, which logs a failure once per episode with what and where; 503s are logged
// too. A corrupt SQLite file is reported at error level once, makes /health answer 503, and stops
// every write; reads that can still be served are.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { loadConfig } from '../../src/config.js';
import { type RunningServer, startServer } from '../../src/server.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { assertEnvelope, type CallFn } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'ties-store-health-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ADMIN = 'store-health-admin-token-0123456789';

interface LogLine {
  level: number;
  msg: string;
  component?: string;
  path?: string;
  [key: string]: unknown;
}

async function serve(db: string): Promise<{ server: RunningServer; logs: LogLine[]; call: CallFn }> {
  const logs: LogLine[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const server = await startServer(
    loadConfig({ TIES_ADMIN_TOKEN: ADMIN, TIES_DB: db, TIES_LOG_LEVEL: 'info' }, ['--port', '0']),
    { logStream },
  );
  const call: CallFn = async (name, params) => {
    const res = await fetch(`${server.url}/api/v1.1/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: ADMIN, ...params }),
    });
    const raw = await res.text();
    return assertEnvelope(
      { status: res.status, contentType: res.headers.get('content-type') ?? '', raw },
      name,
      [503],
    ).body as Record<string, any>;
  };
  return { server, logs, call };
}

async function workspace(call: CallFn): Promise<{ dbId: number; relId: number; a: string; b: string }> {
  const dbId = (await call('databases/create', { name: 'people', fields: [{ name: 'meta', type: 'json' }] }))
    .data.id as number;
  const relId = (
    await call('relations/types/create', {
      name: 'likes',
      db_a: dbId,
      db_b: dbId,
      properties: [{ name: 'hits', type: 'int', top: 2, sum: true }],
    })
  ).data.rel_id as number;
  const a = (await call('profiles/add', { db_id: dbId, data: { email: 'a@example.com' } })).profile_id;
  const b = (await call('profiles/add', { db_id: dbId, data: { email: 'b@example.com' } })).profile_id;
  const attached = await call('relations/attach', {
    rel_id: relId,
    profile_a: { profile_id: a },
    profile_b: { profile_id: b },
    weights: { hits: 1 },
  });
  assert.equal(attached.error, 0, attached.error_text);
  return { dbId, relId, a, b };
}

const ERROR = 50;
const WARN = 40;

describe('the store logs through the server logger', () => {
  test('disk full: logged once by the store (what and where), the 503s logged, recovery logged', async () => {
    const db = join(dir, 'full.db');
    const { server, logs, call } = await serve(db);
    try {
      const { dbId } = await workspace(call);
      const engine = (server.ties.store as SqliteStore).sqlite;
      const pages = engine.pragma('page_count', true) as number;
      engine.pragma(`max_page_count = ${pages}`);
      const big = 'x'.repeat(200_000);
      for (let i = 0; i < 5; i++) {
        const answer = await call('profiles/add', {
          db_id: dbId,
          data: { email: `big${i}@example.com`, meta: { text: big } },
        });
        assert.equal(answer.error, 503, JSON.stringify(answer).slice(0, 300));
      }
      const fromStore = logs.filter((l) => l.component === 'store' && /disk full/.test(l.msg));
      assert.equal(fromStore.length, 1, `one store line per episode: ${JSON.stringify(fromStore)}`);
      assert.equal(fromStore[0]!.level, WARN);
      assert.equal(fromStore[0]!.path, db);
      const answered = logs.filter((l) => /answered 503/.test(l.msg));
      assert.equal(answered.length, 1, 'the 503s are logged, at most one line per 10 s');
      engine.pragma('max_page_count = 1073741823');
      const after = await call('profiles/add', { db_id: dbId, data: { email: 'after@example.com' } });
      assert.equal(after.error, 0, after.error_text);
      assert.ok(
        logs.some((l) => l.component === 'store' && /writing again/.test(l.msg)),
        'recovery logged',
      );
    } finally {
      await server.close();
    }
  });
});

describe('a corrupt SQLite file', () => {
  test('is logged at error once, /health answers 503, and writes stop', async () => {
    const db = join(dir, 'corrupt.db');
    let ids: { dbId: number; relId: number; a: string; b: string };
    {
      const { server, call } = await serve(db);
      try {
        ids = await workspace(call);
      } finally {
        await server.close();
      }
    }
    // Overwrite the pages of the relation tables (the catalogue, tokens and profiles stay sound).
    const raw = new BetterSqlite3(db, { readonly: true });
    const pageSize = raw.pragma('page_size', { simple: true }) as number;
    const roots = raw
      .prepare("SELECT rootpage FROM sqlite_schema WHERE name LIKE 'relations%' AND rootpage > 0")
      .pluck()
      .all() as number[];
    raw.close();
    assert.ok(roots.length > 0);
    const fd = openSync(db, 'r+');
    for (const root of roots) writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (root - 1) * pageSize);
    closeSync(fd);

    const { server, logs, call } = await serve(db);
    try {
      const health = await fetch(`${server.url}/health`);
      assert.equal(health.status, 200, 'nothing is known to be wrong before a call meets the damage');
      const pair = { rel_id: ids.relId, profile_a: { profile_id: ids.a }, profile_b: { profile_id: ids.b } };
      for (let i = 0; i < 3; i++) {
        const read = await call('relations/get', { rel_id: ids.relId, profile_id: ids.a });
        assert.equal(read.error, 503, JSON.stringify(read));
        assert.match(read.error_text, /corrupt|not a database/);
      }
      const errors = logs.filter((l) => l.level >= ERROR);
      assert.equal(errors.length, 1, `one error line per episode: ${JSON.stringify(errors)}`);
      assert.equal(errors[0]!.component, 'store');
      assert.equal(errors[0]!.path, db);
      assert.match(errors[0]!.msg, /corrupt.*ties check/);

      const unhealthy = await fetch(`${server.url}/health`);
      assert.equal(unhealthy.status, 503);
      assert.match(await unhealthy.text(), /corrupt/);

      // Writes stop, even those that would touch only sound pages.
      const write = await call('profiles/add', { db_id: ids.dbId, data: { email: 'new@example.com' } });
      assert.equal(write.error, 503, JSON.stringify(write));
      const strengthen = await call('relations/strengthen', { ...pair, weights: { hits: 1 } });
      assert.equal(strengthen.error, 503);
      // Reads the damage does not reach are still served.
      const types = await call('relations/types/list', {});
      assert.equal(types.error, 0);
      assert.equal(logs.filter((l) => l.level >= ERROR).length, 1, 'still one error line');
    } finally {
      await server.close();
    }
  });
});
