// Issue #11's side-by-side experiment for bulk loading on SQLite: the same relations written (1) into
// the raw store (one plain table, bench-bulk.ts rawSqlite), (2) by a lean loader doing exactly the
// writes `ties import` makes in the v2 layout — both profile lookups, the relation row, its by-B
// entry, its change-log event, A's total and per-property counts and sums and B's count merged per
// chunk and written in key order, A's top rows once A has more than 64 relations — with prepared
// statements, one transaction per chunk of 1,000, no HTTP, no core, no per-item answers, and
// (3) by `ties import` itself. Rounds alternate so that all three see the same machine. What the
// lean loader reaches against the raw store bounds what any code path can reach on this layout.
// `node --import tsx bench/lean-bulk.ts [--rows 50000] [--rounds 3]`; results in docs/benchmarks.md.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { int } from '../src/config.js';
import { storagePragmas } from '../src/store/sqlite/sqlite-connection.js';
import { KIND, TOP_ROWS } from '../src/store/sqlite/sqlite-layout.js';
import { BATCH, type PairSpace, pairAt, rawSqlite, tiesImport, writeCsv } from './bench-bulk.js';
import { ATTACH_WEIGHTS, buildWorkspace, type Workspace } from './bench-fixtures.js';
import { scriptArgs } from './script-args.js';

const USAGE = `usage: node --import tsx bench/lean-bulk.ts [--rows N] [--rounds N] [--profiles N]
  --rows N       relations loaded per round (default 50,000)
  --rounds N     rounds of raw / lean / ties import, alternating (default 3)
  --profiles N   profiles A and profiles B (default 1,000 each)`;
const opts = scriptArgs(
  USAGE,
  () =>
    parseArgs({
      options: {
        rows: { type: 'string' },
        rounds: { type: 'string' },
        profiles: { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values,
  (v) => ({
    rows: int('--rows', v.rows ?? '50000', 1, 100_000_000),
    rounds: int('--rounds', v.rounds ?? '3', 1, 100),
    profiles: int('--profiles', v.profiles ?? '1000', 2, 1_000_000),
  }),
);

const WEIGHTS_JSON = JSON.stringify(ATTACH_WEIGHTS);

/** A's aggregate changes of one chunk, merged per profile (the bench type: 2 int sums, 1 bool). */
interface AChange {
  count: number;
  userLike: number;
  donate: number;
  online: number;
  /** (b, user_like, donate) of the chunk's new relations, for A's top rows when A keeps them. */
  readonly added: [string, number, number][];
}

/** Wall seconds and CPU seconds (user + system) of a step run in this process. */
function timed(step: () => void): { seconds: number; cpu: number } {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  step();
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - t0) / 1000, cpu: (used.user + used.system) / 1e6 };
}

function leanLoad(file: string, w: Workspace, space: PairSpace, from: number, to: number): void {
  const db = new BetterSqlite3(file);
  try {
    for (const pragma of storagePragmas()) db.pragma(pragma);
    const profileIn = db.prepare('SELECT 1 FROM profiles WHERE id = ? AND db_id = ?').pluck();
    const relInsert = db.prepare(
      `INSERT INTO relations_a (rel_id, a, kind, prop, value, b, weights, created_ms, updated_ms)
       VALUES (?, unhex(?), ${KIND.relation}, '', 0, unhex(?), ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    const byBInsert = db.prepare('INSERT INTO relations_b (rel_id, b, a) VALUES (?, unhex(?), unhex(?))');
    const event = db.prepare(
      `INSERT INTO change_log (at, call, rel_id, profile_a, db_a, profile_b, db_b, before, after)
       VALUES (?, 'relations/attach_batch', ?, ?, ?, ?, ?, NULL, ?)`,
    );
    const total = db.prepare(
      `INSERT INTO relations_a (rel_id, a, kind, prop, value, b, count, tops)
       VALUES (?, unhex(?), ${KIND.aggregate}, '', 0, x'', ?, 0)
       ON CONFLICT (rel_id, a, kind, prop, value, b) DO UPDATE SET count = count + excluded.count
       RETURNING count, tops`,
    );
    const stat = db.prepare(
      `INSERT INTO relations_a (rel_id, a, kind, prop, value, b, count, sum, sum_c)
       VALUES (?, unhex(?), ${KIND.aggregate}, ?, 0, x'', ?, ?, 0.0)
       ON CONFLICT (rel_id, a, kind, prop, value, b) DO UPDATE SET count = count + excluded.count,
         sum = sum + excluded.sum`,
    );
    const setTops = db.prepare(
      `UPDATE relations_a SET tops = 1 WHERE rel_id = ? AND a = unhex(?) AND kind = ${KIND.aggregate}
         AND prop = '' AND value = 0 AND b = x''`,
    );
    const topsBuild = db.prepare(
      `INSERT INTO relations_a (rel_id, a, kind, prop, value, b)
       SELECT rel_id, a, ${KIND.top}, ?, json_extract(weights, ?), b FROM relations_a
       WHERE rel_id = ? AND a = unhex(?) AND kind = ${KIND.relation} AND prop = '' AND value = 0`,
    );
    const topInsert = db.prepare(
      `INSERT INTO relations_a (rel_id, a, kind, prop, value, b) VALUES (?, unhex(?), ${KIND.top}, ?, ?, unhex(?))`,
    );
    const countB = db.prepare(
      `INSERT INTO relations_b (rel_id, b, a, count) VALUES (?, unhex(?), x'', ?)
       ON CONFLICT (rel_id, b, a) DO UPDATE SET count = count + excluded.count`,
    );
    const rel = w.relId;
    const chunk = db.transaction((start: number, end: number) => {
      const now = new Date();
      const at = now.toISOString();
      const ms = now.getTime();
      const as = new Map<string, AChange>();
      const bs = new Map<string, number>();
      for (let k = start; k < end; k++) {
        const [a, b] = pairAt(space, k);
        if (profileIn.get(a, w.dbA) === undefined || profileIn.get(b, w.dbB) === undefined) continue;
        if (relInsert.run(rel, a, b, WEIGHTS_JSON, ms, ms).changes === 0) continue;
        byBInsert.run(rel, b, a);
        event.run(at, rel, a, w.dbA, b, w.dbB, WEIGHTS_JSON);
        let c = as.get(a);
        if (!c) {
          c = { count: 0, userLike: 0, donate: 0, online: 0, added: [] };
          as.set(a, c);
        }
        c.count++;
        c.userLike += ATTACH_WEIGHTS.user_like;
        c.donate += ATTACH_WEIGHTS.donate;
        c.online++;
        c.added.push([b, ATTACH_WEIGHTS.user_like, ATTACH_WEIGHTS.donate]);
        bs.set(b, (bs.get(b) ?? 0) + 1);
      }
      for (const a of [...as.keys()].sort()) {
        const c = as.get(a)!;
        stat.run(rel, a, 'donate', c.count, BigInt(c.donate));
        stat.run(rel, a, 'is_online', c.online, null);
        stat.run(rel, a, 'user_like', c.count, BigInt(c.userLike));
        const row = total.get(rel, a, c.count) as { count: number; tops: number };
        if (row.tops) {
          for (const [b, like, donate] of c.added) {
            topInsert.run(rel, a, 'donate', donate, b);
            topInsert.run(rel, a, 'user_like', like, b);
          }
        } else if (row.count > TOP_ROWS.from) {
          setTops.run(rel, a);
          topsBuild.run('donate', '$.donate', rel, a);
          topsBuild.run('user_like', '$.user_like', rel, a);
        }
      }
      for (const b of [...bs.keys()].sort()) countB.run(rel, b, bs.get(b)!);
    });
    for (let k = from; k < to; k += BATCH) chunk(k, Math.min(to, k + BATCH));
  } finally {
    db.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'ties-lean-bulk-'));
try {
  const base = join(dir, 'base.db');
  const w = await buildWorkspace(base, { as: opts.profiles, bs: opts.profiles, hub: 0, get100: false });
  const space = { as: w.as, bs: w.bs };
  const csv = join(dir, 'bulk.csv');
  await writeCsv(csv, space, 0, opts.rows);
  type Side = 'raw' | 'lean' | 'import';
  const runs: Record<Side, { rate: number; cpuUs: number }[]> = { raw: [], lean: [], import: [] };
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(`lean bulk: ${opts.rows} relations, ${opts.rounds} rounds, load average ${loadavg()[0]!.toFixed(1)}`);
  for (let round = 0; round < opts.rounds; round++) {
    const files = { raw: join(dir, `raw-${round}.db`), lean: join(dir, `lean-${round}.db`), ties: '' };
    files.ties = join(dir, `ties-${round}.db`);
    copyFileSync(base, files.lean);
    copyFileSync(base, files.ties);
    // The raw store's rows are built before its timing starts (bench-bulk.ts): its CPU is the loop's.
    const steps: [Side, () => Promise<{ seconds: number; cpu: number }>][] = [
      [
        'raw',
        async () => {
          const cpu = process.cpuUsage();
          const { seconds } = rawSqlite(files.raw, space, 0, opts.rows);
          const used = process.cpuUsage(cpu);
          // Building the rows is not the raw store's work: count the loop's share of the CPU only.
          return { seconds, cpu: Math.min(seconds, (used.user + used.system) / 1e6) };
        },
      ],
      ['lean', async () => timed(() => leanLoad(files.lean, w, space, 0, opts.rows))],
      ['import', () => tiesImport(csv, w.relId, files.ties)],
    ];
    if (round % 2) steps.reverse();
    for (const [name, step] of steps) {
      const r = await step();
      runs[name].push({ rate: opts.rows / r.seconds, cpuUs: (r.cpu * 1e6) / opts.rows });
    }
    const show = (side: Side) =>
      `${side} ${runs[side].at(-1)!.rate.toFixed(0)} rows/s (${runs[side].at(-1)!.cpuUs.toFixed(1)} µs CPU/row)`;
    log(`round ${round + 1}: ${show('raw')}, ${show('lean')}, ${show('import')}`);
    for (const f of Object.values(files))
      for (const x of ['', '-wal', '-shm']) rmSync(f + x, { force: true });
  }
  const median = (v: number[]) => [...v].sort((x, y) => x - y)[v.length >> 1]!;
  const rate = (side: Side) => median(runs[side].map((r) => r.rate));
  const cpu = (side: Side) => median(runs[side].map((r) => r.cpuUs));
  const figures = {
    rows: opts.rows,
    raw_rows_per_s: Math.round(rate('raw')),
    lean_rows_per_s: Math.round(rate('lean')),
    import_rows_per_s: Math.round(rate('import')),
    lean_ratio: Number((rate('lean') / rate('raw')).toFixed(3)),
    import_ratio: Number((rate('import') / rate('raw')).toFixed(3)),
    import_vs_lean: Number((rate('import') / rate('lean')).toFixed(3)),
    raw_cpu_us: Number(cpu('raw').toFixed(1)),
    lean_cpu_us: Number(cpu('lean').toFixed(1)),
    import_cpu_us: Number(cpu('import').toFixed(1)),
    load_avg: Number(loadavg()[0]!.toFixed(2)),
  };
  log(JSON.stringify(figures));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
