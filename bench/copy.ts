// Figures for `ties copy` (docs/benchmarks.md): a SQLite store of N relations (default 1,000,000)
// copied SQLite → PostgreSQL, PostgreSQL → SQLite and file → file by the real command, each timed,
// beside `ties backup` of the same file (SQLite's page copy: the floor for file → file).
//   node --import tsx bench/copy.ts [--relations 1000000] [--pg-url postgres://…] [--dir /tmp/…]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { main } from '../src/cli/main.js';
import { openTransferTarget } from '../src/store/transfer/open-transfer.js';

const HELP = `Usage: node --import tsx bench/copy.ts [--relations N] [--pg-url URL] [--dir DIR]
  --relations N   relations in the source store (default 1000000; 100 per profile A)
  --pg-url URL    PostgreSQL to copy into and out of (a fresh schema, dropped after; default: skip)
  --dir DIR       where the SQLite files go (default: a new temporary folder, removed after)
`;

const { values } = parseArgs({
  options: {
    relations: { type: 'string' },
    'pg-url': { type: 'string' },
    dir: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const relations = Number(values.relations ?? 1_000_000);
if (!Number.isInteger(relations) || relations < 100) {
  process.stderr.write(`--relations: expected an integer of at least 100, got "${values.relations}"\n`);
  process.exit(2);
}
const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'ties-bench-copy-'));
const PER_A = 100;
const hex = (prefix: number, i: number) =>
  `${prefix.toString(16).padStart(8, '0')}${i.toString(16).padStart(16, '0')}`;

/** The source: N relations of one type (int with top and sum, float with sum), written by the transfer port. */
async function fill(path: string): Promise<number> {
  const started = performance.now();
  const store = await openTransferTarget(path);
  const now = new Date().toISOString();
  const profilesA = relations / PER_A;
  const profilesB = Math.max(PER_A, profilesA);
  const database = { id: 1, name: 'people', description: '', customFields: [], createdAt: now };
  const type = {
    relId: 1,
    name: 'rates',
    dbA: 1,
    dbB: 1,
    properties: [
      { name: 'hits', type: 'int' as const, top: 10, sum: true },
      { name: 'score', type: 'float' as const, top: 0, sum: true },
    ],
    createdAt: now,
  };
  await store.writeCatalogue({
    databases: [database],
    resources: [],
    relationTypes: [type],
    tokens: [],
    lastRelId: 1,
    lastTokenId: 0,
  });
  const dbs = new Map([[1, database]]);
  const profile = (id: string, i: number) => ({
    id,
    dbId: 1,
    fields: { email: `p${i}@example.com` },
    subscriptions: [],
    createdAt: now,
    updatedAt: now,
  });
  for (let i = 0; i < profilesA; i += 10_000) {
    const chunk = [];
    for (let j = i; j < Math.min(profilesA, i + 10_000); j++) chunk.push(profile(hex(1, j), j));
    await store.writeProfiles(chunk, dbs);
  }
  for (let i = 0; i < profilesB; i += 10_000) {
    const chunk = [];
    for (let j = i; j < Math.min(profilesB, i + 10_000); j++) chunk.push(profile(hex(2, j), profilesA + j));
    await store.writeProfiles(chunk, dbs);
  }
  let rows = [];
  for (let a = 0; a < profilesA; a++) {
    for (let k = 0; k < PER_A; k++) {
      const b = (a * 7 + k * 131) % profilesB;
      rows.push({
        a: hex(1, a),
        b: hex(2, b),
        weights: { hits: (a + k) % 1000, score: ((a * k) % 97) / 8 },
        createdAt: now,
        updatedAt: now,
      });
    }
    if (rows.length >= 10_000) {
      rows.sort((x, y) => (x.a < y.a ? -1 : x.a > y.a ? 1 : x.b < y.b ? -1 : x.b > y.b ? 1 : 0));
      await store.writeRelations(1, rows);
      rows = [];
    }
  }
  if (rows.length > 0) await store.writeRelations(1, rows);
  await store.rebuildAggregates(type);
  await store.close();
  return (performance.now() - started) / 1000;
}

async function timed(label: string, argv: string[]): Promise<number> {
  const started = performance.now();
  const code = await main(argv);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${label}: ties ${argv.join(' ')} exited ${code}`);
  return seconds;
}

const figures: [string, number][] = [];
const source = join(dir, 'source.db');
const pgUrl = values['pg-url'];
const schema = `ties_bench_copy_${process.pid}`;
try {
  process.stderr.write(`bench copy: filling ${source} with ${relations.toLocaleString('en-US')} relations\n`);
  figures.push(['fill (transfer writer, for reference)', await fill(source)]);
  figures.push([
    'ties backup (SQLite page copy, the floor)',
    await timed('backup', ['backup', '--db', source, '--to', join(dir, 'backup.db')]),
  ]);
  figures.push([
    'ties copy file → file',
    await timed('file', ['copy', '--from', source, '--to', join(dir, 'file.db')]),
  ]);
  if (pgUrl) {
    const url = new URL(pgUrl);
    url.searchParams.set('schema', schema);
    figures.push([
      'ties copy SQLite → PostgreSQL',
      await timed('to pg', ['copy', '--from', source, '--to', url.toString()]),
    ]);
    figures.push([
      'ties copy PostgreSQL → SQLite',
      await timed('from pg', ['copy', '--from', url.toString(), '--to', join(dir, 'back.db')]),
    ]);
  }
  const mib = (statSync(source).size / 1_048_576).toFixed(0);
  process.stdout.write(`\n${relations.toLocaleString('en-US')} relations (${mib} MiB SQLite file):\n`);
  process.stdout.write('| what | seconds | relations/s |\n|---|---|---|\n');
  for (const [what, seconds] of figures) {
    process.stdout.write(
      `| ${what} | ${seconds.toFixed(1)} | ${Math.round(relations / seconds).toLocaleString('en-US')} |\n`,
    );
  }
} finally {
  if (pgUrl) {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
  if (!values.dir) rmSync(dir, { recursive: true, force: true });
}
