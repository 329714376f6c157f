// Experiment (docs/benchmarks.md, "PostgreSQL import: the aggregate merge"): ways to merge one
// chunk's grouped aggregate changes into relation_stats when most of the rows exist already (what
// ties_attach_many's last write does, 09-bulk.sql). A fresh schema gets the bench's workspace and
// --preload relations through ties_attach_many on two
// connections (two slots, as an import's two chunks in flight); then, round after round, one
// connection stages a chunk of --chunk items (the staging table ties_attach_many fills) and each
// variant merges it, in rotating order, each in its own committed transaction. Per variant: the
// statement's ms and its backend CPU (/proc/<backend>/schedstat, the server is local), and the
// commit's ms. The staged relations themselves are never inserted: only the aggregate merge runs.
// The hashed variants turn enable_sort off for their statement (the staging has no statistics, so
// the planner sorts for 28 estimated rows), and jit off with it: the disabled sort's cost put the
// plan past jit_above_cost, and JIT compilation took ~240 ms.
//   node --import tsx bench/pg-aggmerge.ts [--rounds 12] [--chunk 8000]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { freshSchemaName } from '../test/support/pg-engine.js';
import { type PairSpace, pairAt } from './bench-bulk.js';
import { ATTACH_WEIGHTS, buildWorkspace } from './bench-fixtures.js';
import { PG_ADMIN_URL, pgAdmin } from './pg-scratch.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '12' },
    chunk: { type: 'string', default: '8000' },
    preload: { type: 'string', default: '40000' },
    only: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'pg-url': { type: 'string', default: PG_ADMIN_URL },
  },
});
const url = values['pg-url']!;
const CHUNK = Number(values.chunk);
// A kept schema is not named as the tests' (they drop those of processes gone).
const schema = values.keep ? `aggmerge_scratch_${process.pid}` : freshSchemaName();
const space = (await buildWorkspace(`${url}?schema=${schema}`, {
  as: 1000,
  bs: 1000,
  hub: 0,
  get100: false,
})) as PairSpace & { relId: number };

const connect = async (): Promise<pg.Client> => {
  const c = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await c.connect();
  return c;
};
const items = (start: number, n: number): string =>
  JSON.stringify(
    Array.from({ length: n }, (_, i) => {
      const [a, b] = pairAt(space, start + i);
      return [a, b, ATTACH_WEIGHTS];
    }),
  );

// The grouped deltas for the bench's type (user_like, donate: int with a sum; is_online: bool):
// today's shape (ties_bulk_stats_sql) with the int sums as numeric or as int8 summed (sum(int8)
// is numeric, exact, accumulated in 128 bits; a stored int is a safe integer).
const STAGED_OK = "ties_chunk s WHERE s.status = 'ok'";
const deltas = (sum: (p: string) => string, from = STAGED_OK): string => `
  SELECT g.a AS profile_id, 'a' AS side, v.ord, v.prop, v.n, v.isum
    FROM (SELECT s.a, count(*) AS c0,
                 count(*) FILTER (WHERE s.weights ? 'user_like') AS c1, ${sum('user_like')} AS s1,
                 count(*) FILTER (WHERE s.weights ? 'donate') AS c2, ${sum('donate')} AS s2,
                 count(*) FILTER (WHERE s.weights ? 'is_online') AS c3
            FROM ${from} GROUP BY s.a) g
   CROSS JOIN LATERAL (VALUES (0, '', g.c0, 0::numeric), (1, 'user_like', g.c1, coalesce(g.s1, 0)),
                              (2, 'donate', g.c2, coalesce(g.s2, 0)), (3, 'is_online', g.c3, 0::numeric))
                       AS v(ord, prop, n, isum)
   WHERE v.n > 0
  UNION ALL
  SELECT s.b, 'b', 0, '', count(*), 0 FROM ${STAGED_OK} GROUP BY s.b`;
const numericSum = (p: string) => `sum((s.weights -> '${p}')::numeric)`;
const int8Sum = (p: string) => `sum((s.weights -> '${p}')::int8)`;
// Each int value read once per relation (a subquery kept apart by OFFSET 0), summed as int8.
const leanDeltas = deltas(
  (p) => `sum(s.v_${p})`,
  `(SELECT s.a, s.weights, (s.weights ->> 'user_like')::int8 AS v_user_like,
           (s.weights ->> 'donate')::int8 AS v_donate
      FROM ${STAGED_OK} OFFSET 0) s`,
);
const orderedUpdate = (d: string): string => `
  UPDATE relation_stats r SET count = r.count + d.n, isum = r.isum + d.isum
    FROM (SELECT * FROM (${d}) x ORDER BY x.profile_id, x.side, x.ord OFFSET 0) d
   WHERE r.profile_id = d.profile_id AND r.rel_id = $1 AND r.side = d.side AND r.prop = d.prop AND r.slot = $2`;
// SET LOCAL: until the variant's transaction ends.
const withSettings =
  (settings: string[], sql: string) =>
  async (c: pg.Client, rel: number, slot: number): Promise<unknown> => {
    for (const x of settings) await c.query(`SET LOCAL ${x}`);
    return c.query(sql, [rel, slot]);
  };

const upsert = (d: string): string => `
  INSERT INTO relation_stats AS r (profile_id, rel_id, side, prop, slot, count, isum)
  SELECT d.profile_id, $1, d.side, d.prop, $2, d.n, d.isum FROM (${d}) d
   ORDER BY d.profile_id, d.side, d.ord
  ON CONFLICT (profile_id, rel_id, side, prop, slot) DO UPDATE SET
    count = r.count + EXCLUDED.count, isum = r.isum + EXCLUDED.isum`;
const updateThenInsert = (d: string): string => `
  WITH d AS MATERIALIZED (SELECT * FROM (${d}) x ORDER BY x.profile_id, x.side, x.ord),
  u AS (UPDATE relation_stats r SET count = r.count + d.n, isum = r.isum + d.isum
          FROM d WHERE r.profile_id = d.profile_id AND r.rel_id = $1 AND r.side = d.side
                   AND r.prop = d.prop AND r.slot = $2
        RETURNING r.profile_id, r.side, r.prop)
  INSERT INTO relation_stats AS r (profile_id, rel_id, side, prop, slot, count, isum)
  SELECT d.profile_id, $1, d.side, d.prop, $2, d.n, d.isum FROM d
   WHERE (d.profile_id, d.side, d.prop) NOT IN (SELECT u.profile_id, u.side, u.prop FROM u)
   ORDER BY d.profile_id, d.side, d.ord
  ON CONFLICT (profile_id, rel_id, side, prop, slot) DO UPDATE SET
    count = r.count + EXCLUDED.count, isum = r.isum + EXCLUDED.isum`;
const merge = (d: string): string => `
  MERGE INTO relation_stats r
  USING (SELECT * FROM (${d}) x ORDER BY x.profile_id, x.side, x.ord) d
     ON r.profile_id = d.profile_id AND r.rel_id = $1 AND r.side = d.side AND r.prop = d.prop AND r.slot = $2
  WHEN MATCHED THEN UPDATE SET count = r.count + d.n, isum = r.isum + d.isum
  WHEN NOT MATCHED THEN INSERT (profile_id, rel_id, side, prop, slot, count, isum)
    VALUES (d.profile_id, $1, d.side, d.prop, $2, d.n, d.isum)`;
const selectOnly = (d: string): string =>
  `SELECT count(*) FROM (SELECT * FROM (${d}) x ORDER BY 1, 2, 3) y WHERE $1::int IS NOT NULL AND $2::smallint IS NOT NULL`;

interface Variant {
  readonly name: string;
  readonly run: (c: pg.Client, rel: number, slot: number) => Promise<unknown>;
}
const one =
  (sql: string) =>
  (c: pg.Client, rel: number, slot: number): Promise<unknown> =>
    c.query(sql, [rel, slot]);
// todaySql: what ties_bulk_stats_sql writes out for the type (the store's statement).
const variantsFor = (todaySql: string): Variant[] => [
  { name: 'a_today', run: one(todaySql) },
  { name: 'a_upsert_int8', run: one(upsert(deltas(int8Sum))) },
  { name: 'b_update_insert', run: one(updateThenInsert(deltas(numericSum))) },
  { name: 'b_update_insert_int8', run: one(updateThenInsert(deltas(int8Sum))) },
  { name: 'c_merge_int8', run: one(merge(deltas(int8Sum))) },
  {
    // the deltas into a temporary table first (real row count for the planner), then the upsert
    name: 'd_temp_upsert_int8',
    run: async (c, rel, slot) => {
      await c.query(`CREATE TEMP TABLE IF NOT EXISTS ties_delta (profile_id text COLLATE "C", side text COLLATE "C",
                       ord integer, prop text COLLATE "C", n bigint, isum numeric)`);
      await c.query('TRUNCATE ties_delta');
      await c.query(`INSERT INTO ties_delta ${deltas(int8Sum)}`);
      await c.query(upsert('SELECT * FROM ties_delta'), [rel, slot]);
    },
  },
  { name: 'f_lean_upsert', run: one(upsert(leanDeltas)) },
  {
    name: 'f_lean_upsert_hashagg',
    run: withSettings(['enable_sort = off', 'jit = off'], upsert(leanDeltas)),
  },
  { name: 'g_today_hashagg', run: withSettings(['enable_sort = off', 'jit = off'], todaySql) },
  {
    name: 'h_lean_update_nl_hashagg',
    run: withSettings(
      ['enable_sort = off', 'jit = off', 'enable_hashjoin = off', 'enable_mergejoin = off'],
      orderedUpdate(leanDeltas),
    ),
  },
  { name: 'e_select_only', run: one(selectOnly(deltas(numericSum))) },
  { name: 'e_select_only_int8', run: one(selectOnly(deltas(int8Sum))) },
];

const cpuNs = (pid: number): number => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);

const c1 = await connect();
const c2 = await connect();
try {
  const rel = space.relId;
  // Preload: chunks alternate between the two connections (two slots' rows, as an import's).
  const preload = Number(values.preload);
  for (let start = 0, k = 0; start < preload; start += CHUNK, k++) {
    const c = k % 2 === 0 ? c1 : c2;
    await c.query('SELECT count(*) FROM ties_attach_many($1, $2, $3)', [
      rel,
      items(start, Math.min(CHUNK, preload - start)),
      '2026-12-05T00:00:00.000Z',
    ]);
  }
  await c1.query('VACUUM ANALYZE relation_stats');
  const pid = (await c1.query('SELECT pg_backend_pid() AS p')).rows[0].p as number;
  const slot = (await c1.query('SELECT ties_slot() AS s')).rows[0].s as number;
  const todaySql = (
    await c1.query('SELECT ties_bulk_stats_sql(properties) AS q FROM relation_types WHERE rel_id = $1', [rel])
  ).rows[0].q as string;
  const variants = variantsFor(todaySql);
  const chosen = values.only ? variants.filter((v) => values.only!.split(',').includes(v.name)) : variants;
  await c1.query(`CREATE TEMP TABLE IF NOT EXISTS ties_chunk (idx integer NOT NULL, weights jsonb NOT NULL,
                    a_ids text[], b_ids text[], a text COLLATE "C", b text COLLATE "C", status text)`);
  const stats = new Map<string, { ms: number[]; cpu: number[]; commit: number[] }>();
  for (const v of chosen) stats.set(v.name, { ms: [], cpu: [], commit: [] });
  const rounds = Number(values.rounds);
  for (let r = 0; r < rounds; r++) {
    const chunk = items(preload + r * CHUNK, CHUNK);
    for (let i = 0; i < chosen.length; i++) {
      const v = chosen[(i + r) % chosen.length]!;
      await c1.query('BEGIN');
      await c1.query('TRUNCATE ties_chunk');
      await c1.query(
        `INSERT INTO ties_chunk (idx, weights, a, b, status)
         SELECT x.ord, x.e->2, x.e->>0, x.e->>1, 'ok' FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(e, ord)`,
        [chunk],
      );
      const cpu0 = cpuNs(pid);
      const t0 = performance.now();
      await v.run(c1, rel, slot);
      const t1 = performance.now();
      const cpu1 = cpuNs(pid);
      await c1.query('COMMIT');
      const t2 = performance.now();
      const s = stats.get(v.name)!;
      s.ms.push(t1 - t0);
      s.cpu.push((cpu1 - cpu0) / 1e6);
      s.commit.push(t2 - t1);
    }
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  const rowsNow = (await c1.query('SELECT count(*)::int AS n FROM relation_stats')).rows[0].n;
  console.log(
    `chunk ${CHUNK}, preload ${preload}, rounds ${rounds}, relation_stats rows ${rowsNow}, load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  for (const [name, s] of stats) {
    console.log(
      `${name.padEnd(22)} stmt ms median ${median(s.ms).toFixed(1)} (min ${Math.min(...s.ms).toFixed(1)})  backend cpu ms median ${median(s.cpu).toFixed(1)}  commit ms median ${median(s.commit).toFixed(1)}`,
    );
  }
} finally {
  await c1.end();
  await c2.end();
  if (values.keep) {
    console.log(`kept schema ${schema}`);
    process.exit(0);
  }
  await pgAdmin(url, (admin) => admin.query(`DROP SCHEMA ${schema} CASCADE`));
}
