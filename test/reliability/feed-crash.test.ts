// The change feed under SIGKILL (issue #16), on SQLite and (with TIES_TEST_PG_URL) PostgreSQL: a
// real `ties serve` process killed in the middle of concurrent attach and strengthen load. After a
// restart the log holds exactly the committed writes: every acknowledged one has its event, no
// event without its write (none invented, none twice), and the events of the hot relation chain
// before → after in seq order, which is the order its writes committed in.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { dropSchema, freshSchemaName, PG_URL } from '../support/pg-engine.js';
import { type CallFn, httpCaller, startTiesProcess } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'ties-feed-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ADMIN = 'feed-crash-admin-token-0123456789';
const WORKERS = 24;
const KILL_AFTER = 400;

async function must(call: CallFn, name: string, params: Record<string, unknown>) {
  const answer = await call(name, params);
  assert.equal(answer.error, 0, `${name}: ${JSON.stringify(answer)}`);
  return answer;
}

async function post(url: string, name: string, body: Record<string, unknown>) {
  try {
    const res = await fetch(`${url}/api/v1.1/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: ADMIN, ...body }),
    });
    return JSON.parse(await res.text()) as Record<string, any>;
  } catch {
    return undefined;
  }
}

const engines: { name: string; db: () => string; cleanup: (db: string) => Promise<void> }[] = [
  {
    name: 'sqlite',
    db: () => join(dir, `feed-${Math.random().toString(36).slice(2)}.db`),
    cleanup: async () => {},
  },
];
if (PG_URL) {
  const url = PG_URL;
  engines.push({
    name: 'postgres',
    db: () => `${url}${url.includes('?') ? '&' : '?'}schema=${freshSchemaName()}`,
    cleanup: (db) => dropSchema(new URL(db).searchParams.get('schema')!, url),
  });
}

for (const engine of engines) {
  test(`change feed under SIGKILL (${engine.name}): events = committed writes, 0 lost, 0 invented, commit order`, async () => {
    const db = engine.db();
    const server = await startTiesProcess(db, { TIES_ADMIN_TOKEN: ADMIN });
    try {
      const call = httpCaller(server.url, ADMIN);
      const dbA = (await must(call, 'databases/create', { name: 'a' })).data.id;
      const dbB = (await must(call, 'databases/create', { name: 'b' })).data.id;
      const relId = (
        await must(call, 'relations/types/create', {
          name: 't',
          db_a: dbA,
          db_b: dbB,
          properties: [{ name: 'hits', type: 'int', sum: true }],
        })
      ).data.rel_id;
      const add = (db: number, n: number) =>
        Promise.all(
          Array.from(
            { length: n },
            async () => (await must(call, 'profiles/add', { db_id: db, data: {} })).profile_id as string,
          ),
        );
      const as = await add(dbA, 8);
      const bs = await add(dbB, 40);
      const hot = { a: as[0]!, b: bs[0]! };
      const start = Number((await must(call, 'relations/changes', { after: 0, limit: 1000 })).next_after);
      const pairs = as.flatMap((a) => bs.slice(1).map((b) => ({ a, b }))).sort(() => Math.random() - 0.5);
      const sentAttach = new Set<string>();
      const ackedAttach = new Set<string>();
      let sentHot = 0;
      let ackedHot = 0;
      let answered = 0;
      let killed = false;
      const worker = async (w: number) => {
        for (let i = 0; !killed; i++) {
          if ((w + i) % 2 === 0) {
            const pair = pairs.pop();
            if (!pair) break;
            const key = `${pair.a}:${pair.b}`;
            sentAttach.add(key);
            const answer = await post(server.url, 'relations/attach', {
              rel_id: relId,
              profile_a: { profile_id: pair.a },
              profile_b: { profile_id: pair.b },
              weights: { hits: 1 },
            });
            if (answer) {
              assert.equal(answer.error, 0, JSON.stringify(answer));
              ackedAttach.add(key);
            }
          } else {
            sentHot++;
            const answer = await post(server.url, 'relations/strengthen', {
              rel_id: relId,
              profile_a: { profile_id: hot.a },
              profile_b: { profile_id: hot.b },
              weights: { hits: 1 },
            });
            if (answer) {
              assert.equal(answer.error, 0, JSON.stringify(answer));
              ackedHot++;
            }
          }
          if (++answered === KILL_AFTER && !killed) {
            killed = true;
            server.child.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
      await server.stop('SIGKILL');

      const restarted = await startServer(
        loadConfig({ TIES_ADMIN_TOKEN: ADMIN, TIES_DB: db, TIES_LOG_LEVEL: 'silent' }, ['--port', '0']),
      );
      try {
        const again = httpCaller(restarted.url, ADMIN);
        const events: any[] = [];
        for (let cursor = start; ; ) {
          const page = await must(again, 'relations/changes', { after: cursor, limit: 1000 });
          events.push(...(page.data as any[]));
          if ((page.data as any[]).length < 1000) break;
          cursor = page.next_after;
        }
        // Ascending, each seq once.
        for (let i = 1; i < events.length; i++) assert.ok(events[i].seq > events[i - 1].seq, 'seqs ascend');
        // What the store holds after the restart: the committed writes.
        const present = new Set<string>();
        let hotHits = 0;
        for (const a of as) {
          const rows = await must(again, 'relations/get', { rel_id: relId, profile_id: a });
          for (const r of rows.data as any[]) {
            if (a === hot.a && r.profile_id_b === hot.b) hotHits = r.props.hits.value;
            else present.add(`${a}:${r.profile_id_b}`);
          }
        }
        const attachEvents = events
          .filter((e) => e.call === 'relations/attach')
          .map((e) => `${e.profile_a}:${e.profile_b}`);
        assert.equal(new Set(attachEvents).size, attachEvents.length, 'no attach logged twice');
        const lost = [...ackedAttach].filter((k) => !attachEvents.includes(k));
        assert.deepEqual(lost, [], 'every acknowledged attach has its event');
        const invented = attachEvents.filter((k) => !sentAttach.has(k) || !present.has(k));
        assert.deepEqual(invented, [], 'no event without its committed write');
        assert.deepEqual([...present].sort(), [...attachEvents].sort(), 'events = committed attaches');
        // The hot relation: one event per committed increment, chained in seq order.
        const hotEvents = events.filter((e) => e.call === 'relations/strengthen');
        assert.equal(hotEvents.length, hotHits, 'one event per committed strengthen');
        assert.ok(hotHits >= ackedHot && hotHits <= sentHot, `hot ${hotHits} in [${ackedHot}, ${sentHot}]`);
        hotEvents.forEach((e, i) => {
          assert.equal(e.before?.hits ?? 0, i, `event ${e.seq} follows the previous one`);
          assert.equal(e.after.hits, i + 1);
        });
        console.log(
          `feed crash ${engine.name}: killed after ${answered} answers; ${events.length} events = ` +
            `${present.size} committed attaches (${ackedAttach.size} acknowledged) + ${hotHits} committed ` +
            `strengthens (${ackedHot} acknowledged, ${sentHot} sent); 0 lost, 0 invented, in commit order`,
        );
      } finally {
        await restarted.close();
      }
    } finally {
      await server.stop('SIGKILL');
      await engine.cleanup(db);
    }
  });
}
