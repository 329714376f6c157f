// Store faults over HTTP. SQLite: a full disk (SQLite's max_page_count, and a real full tmpfs when
// this machine lets the test mount one) and a read-only file answer STORE_UNAVAILABLE (503)
// envelopes with Retry-After, never a 500; reads keep being served; no acknowledged write is lost,
// no refused one is applied, and the file passes PRAGMA integrity_check afterwards. PostgreSQL
// (with TIES_TEST_PG_URL and a private cluster): stopped and started again under load from many
// connections against a `ties serve` process: 503 envelopes while it is away, recovery without a
// restart of Ties, no acknowledged write lost.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { createTies } from '../../src/core/ties.js';
import { buildApp } from '../../src/http/app.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { TEST_APP_CONFIG, toXml } from '../support/harness.js';
import { createPgCluster, type PgCluster, pgClusterUnavailable } from '../support/pg-cluster.js';
import { PG_REQUIRED, PG_SKIPPED, PG_URL } from '../support/pg-engine.js';
import {
  assertAggregatesMatchRows,
  assertEnvelope,
  httpCaller,
  startTiesProcess,
  type TiesProcess,
} from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'ties-faults-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ADMIN = 'faults-test-admin-token-0123456789';
type Format = 'json' | 'xml';

/** Sends a call to a base URL or an in-process app; answers the checked envelope and Retry-After. */
type Send = (
  name: string,
  params: Record<string, unknown>,
  format?: Format,
) => Promise<{ error: number; text: string; body: Record<string, any>; retryAfter: string | undefined }>;

function checked(
  status: number,
  contentType: string,
  raw: string,
  retryAfter: string | undefined,
  what: string,
) {
  const answer = assertEnvelope({ status, contentType, raw }, what, [503]);
  if (answer.error === 503) assert.equal(retryAfter, '1', `503 without Retry-After: ${what}`);
  return { error: answer.error, text: String(answer.body.error_text), body: answer.body as any, retryAfter };
}

function encode(params: Record<string, unknown>, format: Format): string {
  return format === 'xml' ? toXml({ token: ADMIN, ...params }) : JSON.stringify({ token: ADMIN, ...params });
}

function overHttp(url: string): Send {
  return async (name, params, format = 'json') => {
    const res = await fetch(`${url}/api/v1.1/${name}`, {
      method: 'POST',
      headers: { 'content-type': `application/${format}` },
      body: encode(params, format),
    });
    const raw = await res.text();
    return checked(
      res.status,
      res.headers.get('content-type') ?? '',
      raw,
      res.headers.get('retry-after') ?? undefined,
      `${name} (${format})`,
    );
  };
}

async function serve(db: string, env: Record<string, string> = {}): Promise<RunningServer> {
  return startServer(
    loadConfig({ TIES_ADMIN_TOKEN: ADMIN, TIES_DB: db, TIES_LOG_LEVEL: 'silent', ...env }, ['--port', '0']),
  );
}

interface Fixture {
  readonly dbId: number;
  readonly relId: number;
  readonly a: string;
  readonly bs: readonly string[];
}

async function makeFixture(send: Send): Promise<Fixture> {
  const ok = async (name: string, params: Record<string, unknown>) => {
    const answer = await send(name, params);
    assert.equal(answer.error, 0, `${name}: ${answer.text}`);
    return answer.body;
  };
  const dbId = (await ok('databases/create', { name: 'people', fields: [{ name: 'meta', type: 'json' }] }))
    .data.id;
  const relId = (
    await ok('relations/types/create', {
      name: 'likes',
      db_a: dbId,
      db_b: dbId,
      properties: [
        { name: 'hits', type: 'int', top: 2, sum: true },
        { name: 'note', type: 'string' },
      ],
    })
  ).data.rel_id;
  const a = (await ok('profiles/add', { db_id: dbId, data: { email: 'a@example.com' } })).profile_id;
  const bs: string[] = [];
  for (let i = 0; i < 4; i++) bs.push((await ok('profiles/add', { db_id: dbId, data: {} })).profile_id);
  await ok('relations/attach', {
    rel_id: relId,
    profile_a: { profile_id: a },
    profile_b: { profile_id: bs[0] },
    weights: { hits: 10, note: 'kept' },
  });
  return { dbId, relId, a, bs };
}

const pairOf = (f: Fixture, b: string) => ({
  rel_id: f.relId,
  profile_a: { profile_id: f.a },
  profile_b: { profile_id: b },
});

async function hitsOf(send: Send, f: Fixture): Promise<Record<string, unknown>> {
  const rows = await send('relations/get', { rel_id: f.relId, profile_id: f.a });
  assert.equal(rows.error, 0, rows.text);
  return Object.fromEntries(
    (rows.body.data as any[]).map((r) => [
      r.profile_id_b,
      { hits: r.props.hits?.value, note: r.props.note?.value },
    ]),
  );
}

/**
 * While the store cannot grow: a burst of small strengthens (which may fit) and large profile
 * writes (which cannot), in JSON and XML. Every answer is success or 503; answers the number of
 * acknowledged strengthens and of 503s.
 */
async function burstWhileFull(
  send: Send,
  f: Fixture,
  reason: RegExp,
): Promise<{ acked: number; refused: number }> {
  const big = { blob: 'z'.repeat(600_000) };
  const calls: Promise<{ kind: 'small' | 'big'; answer: Awaited<ReturnType<Send>> }>[] = [];
  for (let i = 0; i < 60; i++) {
    const format: Format = i % 2 ? 'xml' : 'json';
    calls.push(
      send('relations/strengthen', { ...pairOf(f, f.bs[0]!), weights: { hits: 1 } }, format).then(
        (answer) => ({
          kind: 'small' as const,
          answer,
        }),
      ),
    );
    if (i % 20 === 0) {
      calls.push(
        send('profiles/add', { db_id: f.dbId, data: { meta: big } }, format).then((answer) => ({
          kind: 'big' as const,
          answer,
        })),
      );
    }
  }
  let acked = 0;
  let refused = 0;
  for (const { kind, answer } of await Promise.all(calls)) {
    assert.ok([0, 503].includes(answer.error), `${kind}: ${answer.error} ${answer.text}`);
    if (answer.error === 503) {
      refused++;
      assert.match(answer.text, /^store unavailable: .*; retry later$/);
      assert.match(answer.text, reason);
    }
    if (kind === 'big') assert.equal(answer.error, 503, 'a write that cannot fit is refused');
    else if (answer.error === 0) acked++;
  }
  return { acked, refused };
}

/** Reads that must keep working while writes cannot. */
async function assertReadsServed(send: Send, f: Fixture, url?: string): Promise<void> {
  for (const format of ['json', 'xml'] as const) {
    assert.equal((await send('relations/get', { rel_id: f.relId, profile_id: f.a }, format)).error, 0);
    assert.equal(
      (await send('relations/get_counter', { rel_id: f.relId, profile_id: f.a }, format)).error,
      0,
    );
    assert.equal((await send('profiles/get', { db_id: f.dbId, email: 'a@example.com' }, format)).error, 0);
    assert.equal((await send('relations/types/list', {}, format)).error, 0);
  }
  if (url) assert.equal((await fetch(`${url}/health`)).status, 200, 'the store still answers reads');
}

describe('SQLite faults over HTTP', () => {
  test('disk full (max_page_count): 503 envelopes, reads served, nothing lost or half-written, recovery', async () => {
    const db = join(dir, 'full.db');
    // The page limit is set on the connection that writes: the inline writer's, the default (the
    // real full file system below covers the worker-thread writer).
    const server = await serve(db, { TIES_SQLITE_WRITER: 'inline' });
    try {
      const send = overHttp(server.url);
      const f = await makeFixture(send);
      const store = server.ties.store as SqliteStore;
      const before = await hitsOf(send, f);
      store.sqlite.pragma(`max_page_count = ${store.sqlite.pragma('page_count', true) as number}`);

      const { acked, refused } = await burstWhileFull(send, f, /disk full/);
      assert.ok(refused >= 3);
      await assertReadsServed(send, f, server.url);

      store.sqlite.pragma('max_page_count = 1073741823');
      const afterFull = await hitsOf(send, f);
      assert.deepEqual(afterFull, { ...before, [f.bs[0]!]: { hits: 10 + acked, note: 'kept' } });
      // Space is back: the same writes succeed, without restarting anything.
      assert.equal(
        (await send('profiles/add', { db_id: f.dbId, data: { meta: { blob: 'z'.repeat(600_000) } } })).error,
        0,
      );
      assert.equal(
        (await send('relations/strengthen', { ...pairOf(f, f.bs[1]!), weights: { hits: 1 } })).error,
        0,
      );
      assert.equal(store.sqlite.pragma('integrity_check', true), 'ok');
    } finally {
      await server.close();
    }
  });

  test('disk full (a real full tmpfs): 503 envelopes, reads served, recovery once space is freed', async (t) => {
    const mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      t.skip('mounting a tmpfs needs root and a kernel that allows it; max_page_count covers disk full');
      return;
    }
    const db = join(mnt, 'ties.db');
    let server: RunningServer | undefined;
    try {
      // The worker-thread writer: the page-limit test above covers the inline one.
      server = await serve(db, { TIES_SQLITE_WRITER: 'worker' });
      const send = overHttp(server.url);
      const f = await makeFixture(send);
      const before = await hitsOf(send, f);
      // Fill what is left of the file system, as another process on the host would.
      const ballast = join(mnt, 'ballast');
      const fd = openSync(ballast, 'w');
      const chunk = Buffer.alloc(16 * 1024);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
      } finally {
        closeSync(fd);
      }

      const { acked, refused } = await burstWhileFull(send, f, /disk full|I\/O error/);
      assert.ok(refused >= 3);
      await assertReadsServed(send, f, server.url);

      rmSync(ballast);
      assert.equal(
        (await send('profiles/add', { db_id: f.dbId, data: { meta: { blob: 'z'.repeat(600_000) } } })).error,
        0,
      );
      assert.deepEqual(await hitsOf(send, f), { ...before, [f.bs[0]!]: { hits: 10 + acked, note: 'kept' } });
      await server.close();
      server = undefined;
      // Reopened from the file: the same data, and a sound file.
      const reopened = await openSqliteStore({ path: db });
      try {
        assert.equal(reopened.sqlite.pragma('integrity_check', true), 'ok');
      } finally {
        await reopened.close();
      }
    } finally {
      await server?.close();
      execFileSync('umount', [mnt], { stdio: 'ignore' });
    }
  });

  test('read-only file: writes answer 503 envelopes, reads and tokens keep working, file intact', async () => {
    const db = join(dir, 'readonly.db');
    const writer = await serve(db);
    let f: Fixture;
    let before: Record<string, unknown>;
    try {
      const send = overHttp(writer.url);
      f = await makeFixture(send);
      before = await hitsOf(send, f);
    } finally {
      await writer.close();
    }

    const store = await openSqliteStore({ path: db, readonly: true });
    const ties = createTies({ store });
    const app = await buildApp({ ties, config: TEST_APP_CONFIG });
    try {
      const send: Send = async (name, params, format = 'json') => {
        const res = await app.inject({
          method: 'POST',
          url: `/api/v1.1/${name}`,
          payload: encode(params, format),
          headers: { 'content-type': `application/${format}` },
        });
        const retryAfter = res.headers['retry-after'];
        return checked(
          res.statusCode,
          String(res.headers['content-type'] ?? ''),
          res.body,
          retryAfter === undefined ? undefined : String(retryAfter),
          `${name} (${format})`,
        );
      };
      const writes: [string, Record<string, unknown>][] = [
        ['relations/attach', { ...pairOf(f, f.bs[1]!), weights: { hits: 1 } }],
        ['relations/strengthen', { ...pairOf(f, f.bs[0]!), weights: { hits: 1 } }],
        ['relations/edit', { ...pairOf(f, f.bs[0]!), weights: { note: 'changed' } }],
        ['relations/detach', pairOf(f, f.bs[0]!)],
        ['profiles/add', { db_id: f.dbId, data: {} }],
        ['profiles/delete', { db_id: f.dbId, profile_id: f.bs[0] }],
        ['databases/create', { name: 'more' }],
        ['relations/types/update', { rel_id: f.relId, properties: [{ name: 'hits', type: 'int', top: 5 }] }],
        ['tokens/create', { name: 'x', rights: ['read'] }],
      ];
      for (const format of ['json', 'xml'] as const) {
        for (const [name, params] of writes) {
          const answer = await send(name, params, format);
          assert.equal(answer.error, 503, `${name} (${format}): ${answer.text}`);
          assert.match(answer.text, /read-only/);
        }
      }
      await assertReadsServed(send, f);
      assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
      assert.deepEqual(await hitsOf(send, f), before);
    } finally {
      await app.close();
      await ties.close();
    }
    const reopened = await openSqliteStore({ path: db });
    try {
      assert.equal(reopened.sqlite.pragma('integrity_check', true), 'ok');
    } finally {
      await reopened.close();
    }
  });
});

const pgUnavailable = PG_URL ? (PG_REQUIRED ? undefined : pgClusterUnavailable()) : PG_SKIPPED;

describe('PostgreSQL stopped and started again under load (a server process, a private cluster)', () => {
  test('503 envelopes while it is away, recovery without restarting Ties, no acknowledged write lost', {
    skip: pgUnavailable ?? false,
  }, async () => {
    let cluster: PgCluster | undefined;
    let server: TiesProcess | undefined;
    try {
      cluster = await createPgCluster();
      await cluster.start();
      server = await startTiesProcess(cluster.url, { TIES_ADMIN_TOKEN: ADMIN });
      const send = overHttp(server.url);
      const f = await makeFixture(send);
      for (let i = 0; i < 36; i++) {
        const added = await send('profiles/add', { db_id: f.dbId, data: {} });
        (f.bs as string[]).push(added.body.profile_id);
      }
      const pairs = f.bs.slice(1);
      const hot = f.bs[0]!;
      const acknowledged: string[] = [];
      let sentHot = 0;
      let ackedHot = 0;
      let phase: 'up' | 'down' | 'back' = 'up';
      const during = { answers: 0, unavailable: 0, maxMs: 0 };
      let upAt = 0;
      let firstSuccessAfterUp = Number.NaN;
      let successesAfterUp = 0;
      let stop = false;
      const unexpected: string[] = [];

      const worker = async (w: number) => {
        for (let i = 0; !stop; i++) {
          const attach = (w + i) % 2 === 0 && pairs.length > 0;
          const b = attach ? pairs.pop()! : hot;
          if (!attach) sentHot++;
          const started = performance.now();
          const answer = await send(
            attach ? 'relations/attach' : 'relations/strengthen',
            { ...pairOf(f, b), weights: { hits: 1 } },
            w % 2 ? 'xml' : 'json',
          ).catch((err: unknown) => ({ error: -1, text: String(err), body: {}, retryAfter: undefined }));
          const ms = performance.now() - started;
          if (answer.error === 0) {
            if (attach) acknowledged.push(b);
            else ackedHot++;
            if (phase === 'back') {
              successesAfterUp++;
              if (Number.isNaN(firstSuccessAfterUp)) firstSuccessAfterUp = performance.now() - upAt;
            }
          } else if (answer.error !== 503) {
            // A 503'd attach is not retried: cut off mid-commit, it may have landed (then 409).
            unexpected.push(`${answer.error} ${answer.text}`);
          }
          if (phase === 'down') {
            during.answers++;
            if (answer.error === 503) during.unavailable++;
            during.maxMs = Math.max(during.maxMs, ms);
          }
        }
      };
      const until = async (check: () => boolean, what: string) => {
        const deadline = Date.now() + 30_000;
        while (!check()) {
          if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      };
      const workers = Array.from({ length: 24 }, (_, w) => worker(w));
      await until(() => acknowledged.length + ackedHot >= 100, 'calls to succeed');
      await cluster.stop('immediate');
      phase = 'down';
      await until(() => during.unavailable >= 60, '503 answers while PostgreSQL is away');
      const health = await fetch(`${server.url}/health`);
      assert.equal(health.status, 503, 'health says unavailable');
      await cluster.start();
      upAt = performance.now();
      phase = 'back';
      await until(() => successesAfterUp >= 100, 'recovery');
      stop = true;
      await Promise.all(workers);

      assert.deepEqual(unexpected, [], 'only success and 503 were answered');
      assert.equal((await fetch(`${server.url}/health`)).status, 200);
      const call = httpCaller(server.url, ADMIN);
      const rows = await call('relations/get', { rel_id: f.relId, profile_id: f.a });
      const present = new Set((rows.data as any[]).map((r) => r.profile_id_b));
      assert.deepEqual(
        acknowledged.filter((b) => !present.has(b)),
        [],
        'acknowledged attaches lost',
      );
      const hits = (rows.data as any[]).find((r) => r.profile_id_b === hot).props.hits.value as number;
      // The fixture's attach put 10 there; a call cut off mid-commit may have landed without an answer.
      assert.ok(
        hits - 10 >= ackedHot && hits - 10 <= sentHot,
        `hot ${hits - 10} not in [${ackedHot}, ${sentHot}]`,
      );
      await assertAggregatesMatchRows(call, f.relId, [f.a]);
      console.log(
        `postgres outage: ${during.answers} calls while it was away, ${during.unavailable} answered 503 ` +
          `(slowest ${during.maxMs.toFixed(0)} ms); first success ${firstSuccessAfterUp.toFixed(0)} ms after ` +
          `it started again; ${acknowledged.length} acknowledged attaches and ${ackedHot} increments, none lost; ` +
          `${hits - 10 - ackedHot} increments answered 503 yet applied (cut off mid-commit)`,
      );
      assert.equal((await server.stop('SIGTERM')).code, 0);
    } finally {
      await server?.stop('SIGKILL');
      await cluster?.destroy();
    }
  });
});
