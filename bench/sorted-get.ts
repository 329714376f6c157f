// relations/get on a hub of 100,000 relations: the plain id-ordered page against sorted pages at
// the start, the middle and the end (offset paging), a filtered page and its count — the figures
// of docs/benchmarks.md ("relations/get sorted"). Seeds its own store (a temporary SQLite file, or
// a fresh schema of the PostgreSQL given with --db) through core, then times each read (median
// of --runs).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { int } from '../src/config.js';
import { createTies } from '../src/core/ties.js';
import { isPostgresUrl, openStore } from '../src/store/open-store.js';
import { scriptArgs } from './script-args.js';

const USAGE = `node --import tsx bench/sorted-get.ts [options]

  --db <path|url>  the store: a postgres:// URL (a fresh schema, dropped after) or a SQLite file
                   path (default: a temporary SQLite file)
  --size <n>       relations of the hub (default 100000)
  --runs <n>       reads per case, the median printed (default 7)
  --help           this text`;

const values = scriptArgs(
  USAGE,
  () =>
    parseArgs({
      options: {
        db: { type: 'string' },
        size: { type: 'string', default: '100000' },
        runs: { type: 'string', default: '7' },
        help: { type: 'boolean' },
      },
    }).values,
  (v) => ({ db: v.db, size: int('--size', v.size, 100, 10_000_000), runs: int('--runs', v.runs, 1, 1000) }),
);
const { size, runs } = values;
const dir = mkdtempSync(join(tmpdir(), 'ties-sorted-'));
let db = values.db ?? join(dir, 'ties.db');
const schema = `bench_sorted_${process.pid}`;
if (isPostgresUrl(db)) {
  const url = new URL(db);
  url.searchParams.set('schema', schema);
  db = url.toString();
}
const store = await openStore(db, undefined, { onMigrationProgress: () => {} });
const ties = createTies({ store });
try {
  const people = (await ties.catalog.createDatabase({ name: 'people' })).data.id;
  const relId = (
    await ties.catalog.createRelationType({
      name: 'donates',
      db_a: people,
      db_b: people,
      properties: [
        { name: 'donate', type: 'int', top: 10, sum: true },
        { name: 'note', type: 'string' },
      ],
    })
  ).data.rel_id;
  const hub = (await ties.profiles.add({ db_id: people, data: {} }, 'typed')).profile_id;
  const t0 = performance.now();
  for (let start = 0; start < size; start += 10_000) {
    const n = Math.min(10_000, size - start);
    const added = await ties.profiles.batch(
      { db_id: people, data: Array.from({ length: n }, () => ({})) } as never,
      'add',
      'typed',
    );
    const ids = (added as { result: { profile_id: string }[] }).result.map((r) => r.profile_id);
    for (let i = 0; i < ids.length; i += 1000) {
      await ties.relations.attachBatch(
        {
          rel_id: relId,
          items: ids.slice(i, i + 1000).map((id, k) => ({
            profile_a: { profile_id: hub },
            profile_b: { profile_id: id },
            weights: { donate: (start + i + k) % 997, note: `n${(start + i + k) % 31}` },
          })),
        } as never,
        { encoding: 'typed' },
      );
    }
  }
  process.stdout.write(`seeded ${size} relations in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  const get = (extra: object) => ties.relations.get({ rel_id: relId, profile_id: hub, limit: 50, ...extra });
  const cases: [string, object][] = [
    ['id order, first page', {}],
    ['id order, offset 99,950', { offset: size - 50 }],
    ['sort donate desc, first page', { sort: 'donate', order: 'desc' }],
    ['sort donate desc, offset 50,000', { sort: 'donate', order: 'desc', offset: Math.floor(size / 2) }],
    ['sort donate desc, offset 99,950', { sort: 'donate', order: 'desc', offset: size - 50 }],
    ['sort note asc, first page', { sort: 'note' }],
    ['sort donate, min 990 (with count)', { sort: 'donate', order: 'desc', min: 990 }],
    ['id_prefix of 3 digits (with count)', { id_prefix: 'abc' }],
  ];
  for (const [name, extra] of cases) {
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const start = performance.now();
      await get(extra);
      times.push(performance.now() - start);
    }
    times.sort((x, y) => x - y);
    process.stdout.write(`${name.padEnd(40)} ${times[runs >> 1]!.toFixed(1)} ms\n`);
  }
} finally {
  await store.close();
  if (values.db && isPostgresUrl(values.db)) {
    const client = new pg.Client({ connectionString: values.db });
    await client.connect();
    await client.query(`DROP SCHEMA ${schema} CASCADE`);
    await client.end();
  }
  if (process.env.KEEP) process.stdout.write(`kept ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
}
