// A/B of PostgreSQL's set-based bulk path between two checkouts, inside the database: each side
// opens its own schema with its own code (migrations and functions), gets the same workspace
// (1,000 A × 1,000 B profiles, the bench's relation type), then both load the same relations in
// chunks of 1,000 through the store's attachMany (what attach_batch and `ties import` call),
// chunk by chunk in alternating order, so both see the same background load. No HTTP, no CSV, no
// process start: the figure is the statement per chunk. A plain COPY of the same chunks into a
// table of (a, b, weights) runs alongside as the floor. Then single attaches of fresh pairs, 10 in
// flight, alternating slices, each side on its own schema.
//   git archive <before> | tar -x -C /tmp/base && ln -s $PWD/node_modules /tmp/base/
//   node --import tsx bench/pg-chunk-ab.ts --base /tmp/base [--rows 50000] [--chunk 1000] [--attaches 10000] [--pg-url URL]
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { CopyIn, line } from '../src/store/postgres/postgres-copy-in.js';
import { freshSchemaName } from '../test/support/pg-engine.js';
import { type PairSpace, pairAt } from './bench-bulk.js';
import { ATTACH_WEIGHTS, buildWorkspace } from './bench-fixtures.js';
import { PG_ADMIN_URL } from './pg-scratch.js';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    rows: { type: 'string', default: '50000' },
    attaches: { type: 'string', default: '10000' },
    chunk: { type: 'string', default: '1000' },
    'pg-url': { type: 'string', default: PG_ADMIN_URL },
  },
});
if (!values.base) throw new Error('--base DIR (a checkout of the build to compare with) is required');
const url = values['pg-url']!;
const rows = Number(values.rows);
const attaches = Number(values.attaches);
const CHUNK = Number(values.chunk); // attach_batch's 1,000; `ties import` sends 8,000
const NOW = '2026-12-04T00:00:00.000Z';
const silent = { warn() {}, error() {} };

type StoreModule = typeof import('../src/store/postgres/postgres-store.js');
type FixturesModule = typeof import('./bench-fixtures.js');

async function side(name: string, stores: StoreModule, fixtures: FixturesModule['buildWorkspace']) {
  const schema = freshSchemaName();
  const space = await fixtures(`${url}?schema=${schema}`, { as: 1000, bs: 1000, hub: 0, get100: false });
  const store = await stores.openPostgresStore({ url, schema, poolMax: 10, logger: silent });
  const type = (await store.getRelationType(space.relId))!;
  return { name, schema, space: space as PairSpace, store, type, ms: 0, attachMs: 0 };
}

const base = await side(
  'base',
  (await import(join(values.base, 'src/store/postgres/postgres-store.ts'))) as StoreModule,
  ((await import(join(values.base, 'bench/bench-fixtures.ts'))) as FixturesModule).buildWorkspace,
);
const now = await side('new', await import('../src/store/postgres/postgres-store.js'), buildWorkspace);
const client = new pg.Client({ connectionString: url });
await client.connect();
const copySchema = freshSchemaName();
await client.query(`CREATE SCHEMA ${copySchema}`);
await client.query(`CREATE TABLE ${copySchema}.plain (a text, b text, weights jsonb)`);
let copyMs = 0;
const loads: number[] = [loadavg()[0]!];
try {
  for (let start = 0, c = 0; start < rows; start += CHUNK, c++) {
    const ks = Array.from({ length: Math.min(CHUNK, rows - start) }, (_, i) => start + i);
    const order = c % 2 === 0 ? [base, now] : [now, base];
    for (const s of order) {
      const items = ks.map((k) => {
        const [a, b] = pairAt(s.space, k);
        return {
          type: s.type,
          a: { by: 'id' as const, id: a },
          b: { by: 'id' as const, id: b },
          weights: ATTACH_WEIGHTS,
          now: NOW,
        };
      });
      const t0 = performance.now();
      const out = await s.store.attachMany(items);
      s.ms += performance.now() - t0;
      if (out.some((o) => o.kind !== 'ok')) throw new Error(`${s.name}: an item failed`);
    }
    // The floor: the same rows (ids and weights as text) by COPY … FROM STDIN, one statement per chunk.
    const lines = ks.map((k) => {
      const [a, b] = pairAt(now.space, k);
      return line([a, b, JSON.stringify(ATTACH_WEIGHTS)]);
    });
    const t0 = performance.now();
    await client.query(new CopyIn(`COPY ${copySchema}.plain (a, b, weights) FROM STDIN`, [lines.join('')]))
      .finished;
    copyMs += performance.now() - t0;
    if (c % 10 === 9) loads.push(loadavg()[0]!);
  }
  // Single attaches of fresh pairs (beyond the loaded ones), 10 in flight as the bench's pool of
  // 10 serves them, in alternating slices of 500 per side.
  for (let start = rows, c = 0; start < rows + attaches; start += 500, c++) {
    const ks = Array.from({ length: Math.min(500, rows + attaches - start) }, (_, i) => start + i);
    for (const s of c % 2 === 0 ? [base, now] : [now, base]) {
      const queue = [...ks];
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
            const [a, b] = pairAt(s.space, k);
            const out = await s.store.attach({
              type: s.type,
              a: { by: 'id', id: a },
              b: { by: 'id', id: b },
              weights: ATTACH_WEIGHTS,
              now: NOW,
            });
            if (out.kind !== 'ok') throw new Error(`${s.name}: an attach failed`);
          }
        }),
      );
      s.attachMs += performance.now() - t0;
    }
  }
  loads.push(loadavg()[0]!);
  const size = async (schema: string) =>
    (
      await client.query<{ tops: string; bytes: string }>(
        `SELECT (SELECT count(*) FROM ${schema}.relation_tops)::text AS tops,
                pg_total_relation_size('${schema}.relation_tops')::text AS bytes`,
      )
    ).rows[0]!;
  const chunks = Math.ceil(rows / CHUNK);
  const result = {
    rows,
    base_ms_per_chunk: +(base.ms / chunks).toFixed(1),
    new_ms_per_chunk: +(now.ms / chunks).toFixed(1),
    new_vs_base: +(base.ms / now.ms).toFixed(3),
    copy_ms_per_chunk: +(copyMs / chunks).toFixed(1),
    base_vs_copy: +(copyMs / base.ms).toFixed(3),
    new_vs_copy: +(copyMs / now.ms).toFixed(3),
    base_attach_per_s: Math.round(attaches / (base.attachMs / 1000)),
    new_attach_per_s: Math.round(attaches / (now.attachMs / 1000)),
    attach_new_vs_base: +(base.attachMs / now.attachMs).toFixed(3),
    base_tops: await size(base.schema),
    new_tops: await size(now.schema),
    load_avg: loads,
  };
  console.log(JSON.stringify(result));
} finally {
  await base.store.close();
  await now.store.close();
  for (const s of [base.schema, now.schema, copySchema]) await client.query(`DROP SCHEMA ${s} CASCADE`);
  await client.end();
}
