// Where `ties import` on PostgreSQL spends its time: one import of the bench's bulk CSV into a
// fresh database (the bench's workspace: 1,000 A × 1,000 B, its relation type), with
//   - the import process's CPU (user + system, /proc/<pid>/stat, sampled) and, with --cpu-prof,
//     a V8 CPU profile of it summed by part of the code (CSV, coercion, core, store, driver, …);
//   - the CPU of the import's PostgreSQL backends (application_name 'ties', /proc/<pid>/stat);
//   - the time inside ties_attach_many per chunk (pg_stat_user_functions, track_functions = 'pl'
//     set on the bench's database only);
//   - a `psql \copy` of the same file into a plain table, as `npm run bench` measures it.
// Runs --runs times; with --base DIR (a checkout of another build, built) each run imports with
// both builds in alternating order, so an A/B sees the same background load.
//   node --import tsx bench/pg-import-split.ts [--rows 50000] [--as 1000] [--bs 1000] [--runs 3] [--batch N]
//     [--base DIR] [--cpu-prof DIR]
// (--as/--bs: the profiles on each side, the full bench's 10,000 each; --batch: ties import's --batch)
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { rawPgCopy, writeCsv } from './bench-bulk.js';
import { buildWorkspace } from './bench-fixtures.js';
import { dropPgDbs, freshPgDb, PG_ADMIN_URL, pgAdmin } from './pg-scratch.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '50000' },
    runs: { type: 'string', default: '3' },
    base: { type: 'string' },
    batch: { type: 'string' },
    as: { type: 'string', default: '1000' },
    bs: { type: 'string', default: '1000' },
    'cpu-prof': { type: 'string' },
    'pg-url': { type: 'string', default: PG_ADMIN_URL },
  },
});
const adminUrl = values['pg-url']!;
const rows = Number(values.rows);
const HERE = new URL('..', import.meta.url).pathname;
const TICK = 100; // clock ticks per second of /proc/<pid>/stat (getconf CLK_TCK on Linux)

function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK; // utime, stime
  } catch {
    return undefined;
  }
}

interface Split {
  wall_s: number;
  node_cpu_s: number;
  pg_cpu_s: number;
  attach_many_calls: number;
  attach_many_ms: number;
}

/** One `ties import` from the checkout `root`, its process and backend CPU sampled. */
async function importOnce(
  root: string,
  db: string,
  relId: number,
  csv: string,
  prof?: string,
): Promise<Split> {
  const args = [
    ...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []),
    join(root, 'bin/ties.js'),
    ...['import', 'relations', csv, '--rel-id', String(relId), '--db', db],
    ...(values.batch ? ['--batch', values.batch] : []),
  ];
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const name = new URL(db).pathname.slice(1);
  const backends = new Map<number, number>();
  let nodeCpu = 0;
  const watcher = new pg.Client({ connectionString: adminUrl });
  await watcher.connect();
  let sampling = true;
  const sample = async () => {
    while (sampling) {
      const c = cpuSeconds(child.pid!);
      if (c !== undefined) nodeCpu = c;
      const { rows: pids } = await watcher.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'ties'",
        [name],
      );
      for (const { pid } of pids) {
        const s = cpuSeconds(pid);
        if (s !== undefined) backends.set(pid, s);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const sampler = sample();
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const wall = (performance.now() - started) / 1000;
  sampling = false;
  await sampler;
  await watcher.end();
  if (code !== 0 || !/ 0 failed /.test(out)) throw new Error(`import failed (${code}): ${out}${err}`);
  const fn = await pgAdmin(db, async (c) => {
    const r = await c.query<{ calls: string; total: number }>(
      "SELECT calls, total_time AS total FROM pg_stat_user_functions WHERE funcname = 'ties_attach_many'",
    );
    return r.rows[0] ?? { calls: '0', total: 0 };
  });
  let pgCpu = 0;
  for (const s of backends.values()) pgCpu += s;
  return {
    wall_s: wall,
    node_cpu_s: nodeCpu,
    pg_cpu_s: pgCpu,
    attach_many_calls: Number(fn.calls),
    attach_many_ms: fn.total,
  };
}

/** Self time of a CPU profile summed by part of the code. */
function profileParts(dir: string): Record<string, number> {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return {};
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const parts: Record<string, number> = {};
  const partOf = ({ functionName: fn, url }: { functionName: string; url: string }): string => {
    if (fn === '(idle)') return 'idle (waiting for the database)';
    if (fn === '(garbage collector)') return 'GC';
    if (fn === '(program)') return 'program (V8, not JS)';
    if (url.includes('/node_modules/pg') || url.includes('/pg-protocol/')) return 'pg driver';
    if (url.includes('csv-reader')) return 'CSV reading';
    if (url.includes('/cli/')) return 'cli (import loop, CSV items)';
    if (url.includes('/api/')) return 'coercion (api/coerce, schemas)';
    if (url.includes('/core/')) return 'core (attach_batch, weights)';
    if (url.includes('/store/')) return 'store (postgres)';
    if (url.startsWith('node:') || url === '') return 'node built-ins (streams, sockets, fs, modules)';
    return 'other modules (loading, tslib, …)';
  };
  for (let i = 0; i < p.samples.length; i++) {
    const part = partOf(byId.get(p.samples[i]!)!);
    parts[part] = (parts[part] ?? 0) + (p.timeDeltas[i] ?? 0) / 1000;
  }
  return Object.fromEntries(
    Object.entries(parts)
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => [k, Math.round(v)]),
  );
}

const tag = `ties_split_${process.pid}`;
const dir = join(tmpdir(), tag);
rmSync(dir, { recursive: true, force: true });
const template = `${tag}_t`;
// With --base, the base's code builds the workspace: the newer of two builds migrates an older
// schema when it opens it (an empty store, in milliseconds), the older refuses a newer one.
const build: typeof buildWorkspace = values.base
  ? (await import(join(values.base, 'bench/bench-fixtures.ts'))).buildWorkspace
  : buildWorkspace;
const w = await build(await freshPgDb(adminUrl, template), {
  as: Number(values.as),
  bs: Number(values.bs),
  hub: 0,
  get100: false,
});
const csv = join(dir, 'bulk.csv');
await import('node:fs').then((fs) => fs.mkdirSync(dir, { recursive: true }));
await writeCsv(csv, { as: w.as, bs: w.bs }, 0, rows);
const sides: [string, string][] = [['new', HERE]];
if (values.base) sides.push(['base', values.base]);
const databases: string[] = [template];
try {
  for (let run = 0; run < Number(values.runs); run++) {
    const order = run % 2 === 0 ? sides : [...sides].reverse();
    const line: Record<string, unknown> = { run, rows, load_avg: loadavg()[0] };
    for (const [side, root] of order) {
      const name = `${tag}_${side}_${run}`;
      databases.push(name);
      const prof = values['cpu-prof'] ? join(values['cpu-prof'], `${side}-${run}`) : undefined;
      const s = await importOnce(root, await freshPgDb(adminUrl, name, template), w.relId, csv, prof);
      line[side] = {
        rows_per_s: Math.round(rows / s.wall_s),
        wall_s: +s.wall_s.toFixed(2),
        node_cpu_s: s.node_cpu_s,
        pg_cpu_s: s.pg_cpu_s,
        attach_many_calls: s.attach_many_calls,
        attach_many_ms_per_call: +(s.attach_many_ms / Math.max(1, s.attach_many_calls)).toFixed(1),
        attach_many_s: +(s.attach_many_ms / 1000).toFixed(2),
        ...(prof ? { node_profile_ms: profileParts(prof) } : {}),
      };
    }
    const copyDb = `${tag}_copy_${run}`;
    databases.push(copyDb);
    const copy = rawPgCopy(await freshPgDb(adminUrl, copyDb), csv);
    line.copy_rows_per_s = Math.round(rows / copy.seconds);
    for (const [side] of sides) {
      const r = line[side] as { rows_per_s: number };
      line[`${side}_vs_copy`] = +(r.rows_per_s / (line.copy_rows_per_s as number)).toFixed(3);
    }
    if (values.base) {
      line.new_vs_base = +(
        (line.new as { rows_per_s: number }).rows_per_s / (line.base as { rows_per_s: number }).rows_per_s
      ).toFixed(3);
    }
    line.load_avg_end = loadavg()[0];
    console.log(JSON.stringify(line));
  }
} finally {
  await dropPgDbs(adminUrl, databases);
  rmSync(dir, { recursive: true, force: true });
}
