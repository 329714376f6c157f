// Crash safety of a real `ties serve` process, on SQLite and (with TIES_TEST_PG_URL) PostgreSQL:
// SIGKILL in the middle of concurrent attach and strengthen load loses no acknowledged write and
// leaves aggregates equal to the rows; SIGTERM finishes the calls in flight (answered with success,
// durable) and exits 0.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { dropSchema, freshSchemaName, PG_URL } from '../support/pg-engine.js';
import {
  assertAggregatesMatchRows,
  type CallFn,
  httpCaller,
  startTiesProcess,
  type TiesProcess,
} from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'ties-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ADMIN = 'crash-test-admin-token-0123456789';
const WORKERS = 24;

interface Fixture {
  readonly relId: number;
  readonly as: readonly string[];
  readonly bs: readonly string[];
  /** The relation every strengthen of the hot counter adds to. */
  readonly hot: { readonly a: string; readonly b: string };
}

async function must(call: CallFn, name: string, params: Record<string, unknown>) {
  const answer = await call(name, params);
  assert.equal(answer.error, 0, `${name}: ${JSON.stringify(answer)}`);
  return answer;
}

async function makeFixture(call: CallFn, nA: number, nB: number): Promise<Fixture> {
  const dbA = (await must(call, 'databases/create', { name: 'authors' })).data.id;
  const dbB = (await must(call, 'databases/create', { name: 'readers' })).data.id;
  const relId = (
    await must(call, 'relations/types/create', {
      name: 'donates',
      db_a: dbA,
      db_b: dbB,
      properties: [
        { name: 'hits', type: 'int', top: 3, sum: true },
        { name: 'amount', type: 'float', top: 2, sum: true },
        { name: 'note', type: 'string' },
      ],
    })
  ).data.rel_id;
  const add = async (db: number, n: number) =>
    Promise.all(
      Array.from(
        { length: n },
        async () => (await must(call, 'profiles/add', { db_id: db, data: {} })).profile_id as string,
      ),
    );
  const as = await add(dbA, nA);
  const bs = await add(dbB, nB);
  const hot = { a: as[0]!, b: bs[0]! };
  await must(call, 'relations/attach', {
    rel_id: relId,
    profile_a: { profile_id: hot.a },
    profile_b: { profile_id: hot.b },
    weights: { hits: 0 },
  });
  return { relId, as, bs, hot };
}

/** Posts one call; answers the envelope, or undefined when no HTTP answer came (connection lost). */
async function post(url: string, name: string, body: Record<string, unknown>) {
  try {
    const res = await fetch(`${url}/api/v1.1/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: ADMIN, ...body }),
    });
    const text = await res.text();
    return {
      status: res.status,
      text,
      body: JSON.parse(text) as Record<string, any>,
      connection: res.headers.get('connection'),
    };
  } catch {
    return undefined;
  }
}

/** Sum of the hot relation's hits after a restart. */
async function hotHits(call: CallFn, f: Fixture): Promise<number> {
  const rows = await must(call, 'relations/get', { rel_id: f.relId, profile_id: f.hot.a });
  const row = (rows.data as any[]).find((r) => r.profile_id_b === f.hot.b);
  return row.props.hits.value as number;
}

interface CrashEngine {
  readonly name: 'sqlite' | 'postgres';
  /** A fresh store for one test: a file, or a schema of its own in the test database. */
  db(label: string): string;
  /** Engine-level soundness after the test (SQLite: PRAGMA integrity_check). */
  sound(db: string): Promise<void>;
  cleanup(db: string): Promise<void>;
}

const ENGINES: CrashEngine[] = [
  {
    name: 'sqlite',
    db: (label) => join(dir, `${label}.db`),
    async sound(db) {
      const store = await openSqliteStore({ path: db, readonly: true });
      try {
        assert.equal(store.sqlite.pragma('integrity_check', true), 'ok');
      } finally {
        await store.close();
      }
    },
    async cleanup() {},
  },
];
if (PG_URL) {
  const url = PG_URL;
  ENGINES.push({
    name: 'postgres',
    db: () => `${url}${url.includes('?') ? '&' : '?'}schema=${freshSchemaName()}`,
    async sound() {},
    cleanup: (db) => dropSchema(new URL(db).searchParams.get('schema')!, url),
  });
}

/**
 * Ties started again on the same store (in process: a new store on the same file or schema, as a
 * restarted `ties serve` opens it, without a second process start).
 */
async function restartedOn<T>(db: string, fn: (call: CallFn) => Promise<T>): Promise<T> {
  const server = await startServer(
    loadConfig({ TIES_ADMIN_TOKEN: ADMIN, TIES_DB: db, TIES_LOG_LEVEL: 'silent' }, ['--port', '0']),
  );
  try {
    return await fn(httpCaller(server.url, ADMIN));
  } finally {
    await server.close();
  }
}

/** The hot relation's hits after a restart. */
const hitsIn = (db: string, f: Fixture) => restartedOn(db, (call) => hotHits(call, f));

for (const engine of ENGINES)
  describe(`crash safety (${engine.name}, a server process)`, () => {
    test('SIGKILL under load: every acknowledged write survives, aggregates equal the rows', async () => {
      const db = engine.db('kill');
      const server: TiesProcess = await startTiesProcess(db, { TIES_ADMIN_TOKEN: ADMIN });
      try {
        const f = await makeFixture(httpCaller(server.url, ADMIN), 8, 40);
        // B profiles 1-9 are strengthened (which creates relations); the others are attached, each
        // (A, B) pair at most once, in a shuffled order.
        const spread = f.bs.slice(1, 10);
        const pairs = f.as
          .flatMap((a) => f.bs.slice(10).map((b) => ({ a, b })))
          .sort(() => Math.random() - 0.5);
        const acknowledged: { a: string; b: string }[] = [];
        let sentHot = 0;
        let ackedHot = 0;
        let answered = 0;
        let lost = 0;
        let killed = false;
        let inFlight = 0;
        let inFlightAtKill = -1;
        const KILL_AFTER = 400;
        const url = server.url;

        const worker = async (w: number) => {
          for (let i = 0; !killed; i++) {
            const kind = (w + i) % 3;
            inFlight++;
            if (kind === 0) {
              const pair = pairs.pop();
              if (!pair) break;
              const answer = await post(url, 'relations/attach', {
                rel_id: f.relId,
                profile_a: { profile_id: pair.a },
                profile_b: { profile_id: pair.b },
                weights: { hits: 1, amount: (i % 7) / 4, note: `w${w}` },
              });
              if (answer) {
                assert.equal(answer.body.error, 0, answer.text);
                acknowledged.push(pair);
              } else lost++;
            } else if (kind === 1) {
              const inc = 1 + ((w * 7 + i) % 5);
              sentHot += inc;
              const answer = await post(url, 'relations/strengthen', {
                rel_id: f.relId,
                profile_a: { profile_id: f.hot.a },
                profile_b: { profile_id: f.hot.b },
                weights: { hits: inc, amount: 0.25 },
              });
              if (answer) {
                assert.equal(answer.body.error, 0, answer.text);
                ackedHot += inc;
              } else lost++;
            } else {
              // Strengthen spread over A's relations moves their tops and sums.
              const a = f.as[i % f.as.length]!;
              const b = spread[(w + i) % spread.length]!;
              const answer = await post(url, 'relations/strengthen', {
                rel_id: f.relId,
                profile_a: { profile_id: a },
                profile_b: { profile_id: b },
                weights: { hits: -((i % 3) + 1), amount: -0.5 },
              });
              if (answer) assert.equal(answer.body.error, 0, answer.text);
              else lost++;
            }
            inFlight--;
            if (++answered === KILL_AFTER && !killed) {
              killed = true;
              inFlightAtKill = inFlight;
              server.child.kill('SIGKILL');
            }
          }
        };
        await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
        const { signal } = await server.stop('SIGKILL');
        assert.equal(signal, 'SIGKILL');
        assert.ok(inFlightAtKill > 0, 'calls were in flight when the process was killed');

        const figures = await restartedOn(db, async (call) => {
          // Every acknowledged attach exists.
          const present = new Set<string>();
          for (const a of f.as) {
            const rows = await must(call, 'relations/get', { rel_id: f.relId, profile_id: a });
            for (const r of rows.data as any[]) present.add(`${a} ${r.profile_id_b}`);
          }
          const missing = acknowledged.filter((p) => !present.has(`${p.a} ${p.b}`));
          assert.deepEqual(missing, [], 'acknowledged attaches lost');
          // The hot counter holds every acknowledged increment, and at most every sent one.
          const hits = await hotHits(call, f);
          assert.ok(
            hits >= ackedHot && hits <= sentHot,
            `hot counter ${hits} not in [${ackedHot}, ${sentHot}]`,
          );
          await assertAggregatesMatchRows(call, f.relId, f.as);
          return { hits };
        });
        console.log(
          `crash ${engine.name}: killed after ${answered} answers with ${inFlightAtKill} in flight; ` +
            `${acknowledged.length} acknowledged attaches, all present; hot counter ${figures.hits} in [${ackedHot}, ${sentHot}]; ${lost} calls unanswered`,
        );
        await engine.sound(db);
      } finally {
        await server.stop('SIGKILL');
        await engine.cleanup(db);
      }
    });

    test('SIGTERM finishes the calls in flight: all answered with success, durable, exit 0', async () => {
      const db = engine.db('term');
      const server: TiesProcess = await startTiesProcess(db, { TIES_ADMIN_TOKEN: ADMIN });
      try {
        const f = await makeFixture(httpCaller(server.url, ADMIN), 2, 2);
        let signalled = false;
        let acked = 0;
        let drained = 0;
        let lost = 0;
        const failures: string[] = [];
        const url = server.url;
        const worker = async () => {
          // Like a well-behaved client: calls until the server answers "Connection: close" (it is
          // stopping) or refuses the connection.
          for (;;) {
            const answer = await post(url, 'relations/strengthen', {
              rel_id: f.relId,
              profile_a: { profile_id: f.hot.a },
              profile_b: { profile_id: f.hot.b },
              weights: { hits: 1 },
            });
            if (!answer) {
              lost++;
              if (signalled) return;
              continue;
            }
            if (answer.body?.error !== 0) failures.push(`HTTP ${answer.status} ${answer.text}`);
            else acked++;
            if (answer.connection === 'close') {
              drained++;
              return;
            }
            if (acked === 200 && !signalled) {
              signalled = true;
              server.child.kill('SIGTERM');
            }
          }
        };
        await Promise.all(Array.from({ length: WORKERS }, () => worker()));
        const { code } = await server.stop('SIGTERM');
        assert.equal(code, 0, `exit code; stderr: ${server.stderr()}`);
        assert.deepEqual(failures, [], 'calls in flight at SIGTERM were refused');
        // Calls that reached the server once it began stopping were answered too, and told their
        // clients to close the connection (which would otherwise hold the drain open for 72 s).
        assert.ok(drained > 0, 'clients calling during the drain were answered and told to close');

        const hits = await hitsIn(db, f);
        // Exactly the answered increments: nothing answered was lost, nothing unanswered was applied.
        assert.equal(hits, acked);
        console.log(
          `sigterm ${engine.name}: ${acked} answered (${drained} during the drain), ${lost} refused at connect, counter ${hits}`,
        );
        await engine.sound(db);
      } finally {
        await server.stop('SIGKILL');
        await engine.cleanup(db);
      }
    });

    test('close answers every call already sent, even on connections not read yet', async () => {
      const db = engine.db('close');
      const server = await startServer(
        loadConfig({ TIES_ADMIN_TOKEN: ADMIN, TIES_DB: db, TIES_LOG_LEVEL: 'silent' }, ['--port', '0']),
      );
      let closed = false;
      try {
        const f = await makeFixture(httpCaller(server.url, ADMIN), 1, 1);
        // Some calls reuse warm keep-alive connections, others open new ones; none has been read
        // when close begins.
        const burst = (n: number) =>
          Array.from({ length: n }, () =>
            post(server.url, 'relations/strengthen', {
              rel_id: f.relId,
              profile_a: { profile_id: f.hot.a },
              profile_b: { profile_id: f.hot.b },
              weights: { hits: 1 },
            }),
          );
        await Promise.all(burst(10));
        const inFlight = burst(60);
        await server.close();
        closed = true;
        const answers = await Promise.all(inFlight);
        assert.deepEqual(
          answers.map((a) => a?.body.error),
          answers.map(() => 0),
          'every call sent before close was answered with success',
        );
        assert.equal(await hitsIn(db, f), 70, 'and each is durable');
      } finally {
        if (!closed) await server.close();
        await engine.cleanup(db);
      }
    });
  });
