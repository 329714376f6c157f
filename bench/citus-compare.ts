// `npm run bench:citus`: the PostgreSQL store (no HTTP) on plain PostgreSQL and on a Citus
// coordinator in one interleaved run. Each engine gets the same workspace (a relation type with an
// int kept for top 10 and sum, a float kept for sum, a bool; the same number of profiles); then every
// call is measured in rounds, alternating the engine that goes first, so that load from elsewhere on
// the machine falls on both. Baseline per engine: a raw single-row INSERT through a pg pool of the
// same size into a table of the same shape (on Citus a distributed one, colocated with profiles).
// Figures and method: docs/scaling.md.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { int } from '../src/config.js';
import { newProfileId } from '../src/core/ids.js';
import type { RelationType } from '../src/core/model.js';
import type { ProfileQuery } from '../src/core/store.js';
import { createTies } from '../src/core/ties.js';
import { openPostgresStore, type PostgresStore } from '../src/store/postgres/postgres-store.js';
import { PG_ADMIN_URL } from './pg-scratch.js';
import { scriptArgs } from './script-args.js';

const USAGE = `npm run bench:citus [-- options]

Measures attach, strengthen, get and get_counter of the PostgreSQL store on plain PostgreSQL and on
a Citus coordinator, interleaved, each next to a raw INSERT baseline on the same engine.

  --pg-url URL        plain PostgreSQL (default postgres://postgres@127.0.0.1:5432/postgres)
  --citus-url URL     Citus coordinator (default postgres://postgres@127.0.0.1:19501/ties;
                      bash scripts/citus-cluster.sh up starts one)
  --concurrency N     calls in flight per engine (default 8)
  --seconds N         seconds per call, round and engine (default 2)
  --rounds N          rounds; each engine's figure is the median (default 3)
  --profiles N        profiles per engine (default 1000)
  --help              this text`;

const opts = scriptArgs(
  USAGE,
  () =>
    parseArgs({
      options: {
        'pg-url': { type: 'string', default: PG_ADMIN_URL },
        'citus-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:19501/ties' },
        concurrency: { type: 'string', default: '8' },
        seconds: { type: 'string', default: '2' },
        rounds: { type: 'string', default: '3' },
        profiles: { type: 'string', default: '1000' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values,
  (v) => ({
    pgUrl: v['pg-url']!,
    citusUrl: v['citus-url']!,
    concurrency: int('--concurrency', v.concurrency!, 1, 256),
    seconds: int('--seconds', v.seconds!, 1, 600),
    rounds: int('--rounds', v.rounds!, 1, 50),
    profiles: int('--profiles', v.profiles!, 10, 1_000_000),
  }),
);

interface Sample {
  readonly perSecond: number;
  readonly p50: number;
  /** The first index the next measurement of this call may use. */
  readonly next: number;
}

/** Runs `op` from `concurrency` loops for the given seconds: throughput and median latency. */
async function measure(op: (i: number) => Promise<unknown>, start: number): Promise<Sample> {
  const latencies: number[] = [];
  let next = start;
  const began = performance.now();
  const deadline = began + opts.seconds * 1000;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await op(next++);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  latencies.sort((x, y) => x - y);
  const elapsed = (performance.now() - began) / 1000;
  return {
    perSecond: latencies.length / elapsed,
    p50: latencies[Math.floor(latencies.length / 2)] ?? 0,
    next,
  };
}

interface Engine {
  readonly name: string;
  readonly store: PostgresStore;
  readonly raw: pg.Pool;
  readonly admin: pg.Pool;
  readonly schema: string;
  readonly type: RelationType;
  readonly batchType: RelationType;
  readonly ids: string[];
  /** How many of each call were made so far: attach keeps finding new pairs. */
  readonly done: Map<string, number>;
}

const byId = (id: string): ProfileQuery => ({ by: 'id', id });

async function openEngine(name: string, url: string): Promise<Engine> {
  const schema = `ties_bench_${name}_${process.pid}`;
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  const store = await openPostgresStore({ url, schema, poolMax: opts.concurrency, connectTimeoutMs: 60_000 });
  const raw = new pg.Pool({
    connectionString: url,
    max: opts.concurrency,
    options: `-c search_path=${schema}`,
  });
  await raw.query(
    'CREATE TABLE raw_insert (a text COLLATE "C", rel_id integer, b text COLLATE "C", weights jsonb, PRIMARY KEY (a, rel_id, b))',
  );
  const citus = await raw.query("SELECT 1 FROM pg_extension WHERE extname = 'citus'");
  if (citus.rowCount) {
    await raw.query(`SELECT create_distributed_table('raw_insert', 'a', colocate_with => 'profiles')`);
  }
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
  const database = (await store.getDatabase(db))!;
  const ids = Array.from({ length: opts.profiles }, () => newProfileId());
  for (let i = 0; i < ids.length; i += opts.concurrency) {
    await Promise.all(
      ids.slice(i, i + opts.concurrency).map((id, k) =>
        store.saveProfile({
          database,
          mode: 'add',
          set: { email: `p${i + k}@example.com` },
          setOnCreate: {},
          subscriptions: [],
          newId: id,
          now: new Date().toISOString(),
        }),
      ),
    );
  }
  const type = (await store.getRelationType(relId))!;
  // attachMany's type keeps no float sum (one keeping one applies its items one by one, in order).
  const batchRelId = (
    await ties.catalog.createRelationType({
      name: 'likes_int',
      db_a: db,
      db_b: db,
      properties: [
        { name: 'hits', type: 'int', top: 10, sum: true },
        { name: 'fan', type: 'bool' },
      ],
    })
  ).data.rel_id;
  const batchType = (await store.getRelationType(batchRelId))!;
  return { name, store, raw, admin, schema, type, batchType, ids, done: new Map() };
}

async function closeEngine(e: Engine): Promise<void> {
  await e.store.close();
  await e.raw.end();
  await e.admin.query(`DROP SCHEMA IF EXISTS ${e.schema} CASCADE`);
  await e.admin.end();
}

/** Attach i uses a distinct (A, B) pair; strengthen goes over the first pairs again. */
function pair(e: Engine, i: number) {
  const n = e.ids.length;
  const a = e.ids[i % n]!;
  const b = e.ids[(Math.floor(i / n) + 1 + i) % n]!;
  return { a, b: b === a ? e.ids[(i + 7) % n]! : b };
}

const now = new Date().toISOString();
const CALLS: [string, (e: Engine, i: number) => Promise<unknown>][] = [
  [
    'raw INSERT (baseline)',
    (e, i) => {
      const { a, b } = pair(e, i);
      return e.raw.query({
        name: 'raw',
        text: 'INSERT INTO raw_insert VALUES ($1, $2, $3, $4)',
        values: [a, e.type.relId, `${b}${i}`, '{"hits":1}'],
      });
    },
  ],
  [
    'attach',
    (e, i) => {
      const { a, b } = pair(e, i);
      return e.store.attach({
        type: e.type,
        a: byId(a),
        b: byId(b),
        weights: { hits: i % 100, score: 0.5 },
        now,
      });
    },
  ],
  [
    'strengthen',
    (e, i) => {
      const { a, b } = pair(e, i % e.ids.length);
      return e.store.strengthen({
        type: e.type,
        a: byId(a),
        b: byId(b),
        add: { hits: 1, score: 0.25 },
        set: {},
        now,
      });
    },
  ],
  [
    'get (limit 100)',
    (e, i) =>
      e.store.listRelations({ type: e.type, side: 'a', profile: byId(e.ids[i % e.ids.length]!), limit: 100 }),
  ],
  ['get_counter', (e, i) => e.store.counter({ type: e.type, profile: byId(e.ids[i % e.ids.length]!) })],
  [
    // attach_batch's and `ties import`'s store call: one chunk of new pairs of an int-only type
    // per op (figures are relations per second).
    'attachMany (rows/s)',
    (e, i) =>
      e.store.attachMany(
        Array.from({ length: BATCH }, (_, k) => {
          const { a, b } = pair(e, 500_000 + i * BATCH + k);
          return { type: e.batchType, a: byId(a), b: byId(b), weights: { hits: k % 100, fan: true }, now };
        }),
      ),
  ],
];
/** Items per attachMany call: the chunk attach_batch and `ties import` send. */
const BATCH = 1_000;
const perOp = (call: string) => (call.startsWith('attachMany') ? BATCH : 1);

const median = (xs: readonly number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;

const engines = [await openEngine('pg', opts.pgUrl), await openEngine('citus', opts.citusUrl)];
try {
  const samples = new Map<string, Sample[]>();
  for (let round = 0; round < opts.rounds; round++) {
    for (const [call, op] of CALLS) {
      const order = round % 2 === 0 ? engines : [...engines].reverse();
      for (const e of order) {
        const start = e.done.get(call) ?? 0;
        const s = await measure((i) => op(e, i), start);
        e.done.set(call, s.next);
        const key = `${e.name}\u0000${call}`;
        samples.set(key, [...(samples.get(key) ?? []), s]);
      }
    }
  }
  const figure = (engine: string, call: string) => {
    const s = samples.get(`${engine}\u0000${call}`) ?? [];
    return { perSecond: median(s.map((x) => x.perSecond)) * perOp(call), p50: median(s.map((x) => x.p50)) };
  };
  console.log(
    `PostgreSQL store, plain vs Citus, interleaved: concurrency ${opts.concurrency}, ${opts.rounds} rounds of ${opts.seconds} s, ${opts.profiles} profiles (medians)`,
  );
  console.log(
    `${'call'.padEnd(22)} ${'plain ops/s'.padStart(11)} ${'p50 ms'.padStart(7)} ${'× base'.padStart(7)}  ${'citus ops/s'.padStart(11)} ${'p50 ms'.padStart(7)} ${'× base'.padStart(7)}  citus/plain`,
  );
  const base = { pg: figure('pg', CALLS[0]![0]).perSecond, citus: figure('citus', CALLS[0]![0]).perSecond };
  const json: Record<string, unknown> = {};
  for (const [call] of CALLS) {
    const p = figure('pg', call);
    const c = figure('citus', call);
    json[call] = { plain: p, citus: c };
    console.log(
      `${call.padEnd(22)} ${p.perSecond.toFixed(0).padStart(11)} ${p.p50.toFixed(2).padStart(7)} ${(p.perSecond / base.pg).toFixed(2).padStart(7)}  ${c.perSecond.toFixed(0).padStart(11)} ${c.p50.toFixed(2).padStart(7)} ${(c.perSecond / base.citus).toFixed(2).padStart(7)}  ${(c.perSecond / p.perSecond).toFixed(2)}`,
    );
  }
  console.log(JSON.stringify(json));
} finally {
  for (const e of engines) await closeEngine(e);
}
