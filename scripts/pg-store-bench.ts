// Measures the PostgreSQL store itself (no HTTP): attach, strengthen, get and get_counter
// throughput and latency at one concurrency, next to a raw single-row pg INSERT at the same
// concurrency as the baseline. Usage (numbers for docs/scaling.md):
//   node --import tsx scripts/pg-store-bench.ts [--url postgres://…] [--concurrency 16] [--seconds 3]
import { parseArgs } from 'node:util';
import pg from 'pg';
import { newProfileId } from '../src/core/ids.js';
import type { ProfileQuery, Store } from '../src/core/store.js';
import { createTies } from '../src/core/ties.js';
import { openPostgresStore } from '../src/store/postgres/postgres-store.js';

const { values } = parseArgs({
  options: {
    url: {
      type: 'string',
      default: process.env.TIES_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    },
    concurrency: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '3' },
    profiles: { type: 'string', default: '2000' },
  },
});
const url = values.url!;
const concurrency = Number(values.concurrency);
const seconds = Number(values.seconds);
const profileCount = Number(values.profiles);
const schema = `ties_bench_${process.pid}`;

interface Result {
  readonly name: string;
  readonly ops: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

/** Runs `op` from `concurrency` loops for `seconds`; answers throughput and latency percentiles. */
async function measure(name: string, op: (i: number) => Promise<unknown>): Promise<Result> {
  const latencies: number[] = [];
  let next = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await op(next++);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((x, y) => x - y);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { name, ops: latencies.length, perSecond: latencies.length / elapsed, p50: at(0.5), p99: at(0.99) };
}

const admin = new pg.Pool({ connectionString: url, max: 1 });
await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
const store: Store = await openPostgresStore({ url, schema, poolMax: concurrency });
const raw = new pg.Pool({ connectionString: url, max: concurrency, options: `-c search_path=${schema}` });
try {
  const ties = createTies({ store });
  const db = (await ties.catalog.createDatabase({ name: 'bench' })).data.id;
  const relId = (
    await ties.catalog.createRelationType({
      name: 'likes',
      db_a: db,
      db_b: db,
      properties: [
        { name: 'hits', type: 'int', top: 10, sum: true },
        { name: 'score', type: 'float', sum: true },
        { name: 'fan', type: 'bool' },
      ],
    })
  ).data.rel_id;
  const type = (await store.getRelationType(relId))!;
  const database = (await store.getDatabase(db))!;
  const ids: string[] = [];
  for (let i = 0; i < profileCount; i++) {
    const id = newProfileId();
    await store.saveProfile({
      database,
      mode: 'add',
      set: { email: `p${i}@example.com` },
      setOnCreate: {},
      subscriptions: [],
      newId: id,
      now: new Date().toISOString(),
    });
    ids.push(id);
  }
  const byId = (id: string): ProfileQuery => ({ by: 'id', id });
  const now = new Date().toISOString();
  // Pairs in an order that spreads A and B: attach i uses a distinct (A, B) pair.
  const pair = (i: number) => {
    const a = ids[i % ids.length]!;
    const b = ids[(Math.floor(i / ids.length) + 1 + i) % ids.length]!;
    return { a, b: b === a ? ids[(i + 7) % ids.length]! : b };
  };

  await raw.query(
    'CREATE TABLE raw_insert (a text COLLATE "C", rel_id integer, b text COLLATE "C", weights jsonb, PRIMARY KEY (a, rel_id, b))',
  );
  const results: Result[] = [];
  results.push(
    await measure('raw pg INSERT (baseline)', (i) => {
      const { a, b } = pair(i);
      return raw.query({
        name: 'raw',
        text: 'INSERT INTO raw_insert VALUES ($1, $2, $3, $4)',
        values: [a, relId, `${b}${i}`, '{"hits":1}'],
      });
    }),
  );
  results.push(
    await measure('attach', (i) => {
      const { a, b } = pair(i);
      return store.attach({
        type,
        a: byId(a),
        b: byId(b),
        weights: { hits: i % 100, score: 0.5, fan: true },
        now,
      });
    }),
  );
  // Strengthen on existing relations of 100 hubs (A side contended like a popular author's).
  results.push(
    await measure('strengthen', (i) => {
      const { a, b } = pair(i % (ids.length * 2));
      return store.strengthen({ type, a: byId(a), b: byId(b), add: { hits: 1, score: 0.25 }, set: {}, now });
    }),
  );
  results.push(
    await measure('strengthen by email', (i) => {
      const { a } = pair(i % ids.length);
      const b = ids[(i * 13 + 1) % ids.length]!;
      const email: ProfileQuery = {
        by: 'email',
        email: `p${ids.indexOf(b)}@example.com`,
        inProfile: true,
        inSubscriptions: true,
      };
      return a === b
        ? Promise.resolve()
        : store.strengthen({ type, a: byId(a), b: email, add: { hits: 1 }, set: {}, now });
    }),
  );
  results.push(
    await measure('get (limit 100)', (i) =>
      store.listRelations({ type, side: 'a', profile: byId(ids[i % ids.length]!), limit: 100 }),
    ),
  );
  results.push(
    await measure('get_counter', (i) => store.counter({ type, profile: byId(ids[i % ids.length]!) })),
  );

  const rows = await raw.query<{ n: string }>('SELECT count(*) AS n FROM relations');
  console.log(
    `PostgreSQL store, concurrency ${concurrency}, ${seconds} s each, ${profileCount} profiles, ${rows.rows[0]!.n} relations at the end`,
  );
  const baseline = results[0]!.perSecond;
  for (const r of results) {
    console.log(
      `${r.name.padEnd(26)} ${r.perSecond.toFixed(0).padStart(7)} ops/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99
        .toFixed(2)
        .padStart(6)} ms  ${(r.perSecond / baseline).toFixed(2)} × baseline`,
    );
  }
  await ties.close();
} finally {
  await raw.end();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}
