// Issue #11's side-by-side for PostgreSQL's attach target (`attach_vs_raw_insert` ≥ 0.5): three sides
// in alternating slices at 50 connections, each on its own database made from one workspace (the
// bench's quick attach store: 4,000 A × 20,000 B profiles (1,000 A before 2026-12-05: the faster sides ran out of pairs), the bench's type, no relations):
//   ties   `ties serve` (bin/ties.js, dist/), fresh pairs as the bench's attach sends them;
//   lean   bench/pg-lean-attach-server.mjs: the same rows and locks in one lean plpgsql function,
//          one prepared statement per call, behind the same Fastify HTTP as the no-op;
//   raw    single-row INSERTs into a plain table from this process over a pool of 10 (the bench's
//          raw side, bench-bulk.ts openRawPg).
// Per side and per call: the server process's CPU (/proc/<pid>/stat), its PostgreSQL backends' CPU
// (the backends connected to its database, /proc/<pid>/stat), this process's CPU (the load
// generator, and the raw side's client), WAL records and bytes (pg_stat_wal: cluster-wide, other
// helpers' writes included), and the machine's busy CPU over the slice ÷ (cores × wall): near 1,
// the cores are saturated and a call's CPU is what bounds the rate.
// With --one-row, a side `lean1`: the lean server with A's aggregates in one row (an experiment on
// the layout: two aggregate rows per attach instead of five).
// With --floor, two sides doing strictly less than Ties' attach must (the lean server's `min` and
// `insert` layouts): `min`, one SQL statement writing the relation, its entry by B and the two
// totals, nothing else; `ins`, an HTTP server in front of the raw side's own single-row INSERT. A
// rate they do not reach is out of reach of any attach on this stack and machine.
// With --base DIR, a side `base`: `ties serve` of another built checkout (an A/B of a change).
//   node --import tsx bench/pg-lean-attach.ts [--rounds N] [--seconds N] [--base DIR] [--pg-url URL]
// Needs `npm run build` (Ties runs from dist/). Results in docs/benchmarks.md.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { int } from '../src/config.js';
import { openRawPg } from './bench-bulk.js';
import { attachBody, buildWorkspace } from './bench-fixtures.js';
import { load } from './bench-load.js';
import {
  BENCH_ADMIN_TOKEN,
  cpuMs,
  type ServerProcess,
  startPgLeanAttach,
  startTies,
} from './bench-processes.js';
import { dropPgDbs, freshPgDb, PG_ADMIN_URL, pgAdmin, pgDbUrl } from './pg-scratch.js';
import { scriptArgs } from './script-args.js';

const USAGE = `usage: node --import tsx bench/pg-lean-attach.ts [--rounds N] [--seconds N] [--one-row] [--floor] [--base DIR] [--pg-url URL]
  --rounds N     rounds of ties / lean / raw slices, alternating (default 4)
  --seconds N    length of one slice (default 2)
  --one-row      also run the lean server with A's aggregates in one row (side \`lean1\`)
  --floor        also run two floors: \`min\` (one statement: relation, by-B entry, two totals) and
                 \`ins\` (HTTP in front of the raw side's single-row INSERT)
  --base DIR     also run \`ties serve\` of the built checkout DIR (side \`base\`), e.g. main's
  --pg-url URL   a PostgreSQL server's admin URL (scratch databases are made and dropped there)`;
const opts = scriptArgs(
  USAGE,
  () =>
    parseArgs({
      options: {
        rounds: { type: 'string' },
        seconds: { type: 'string' },
        base: { type: 'string' },
        'one-row': { type: 'boolean' },
        floor: { type: 'boolean' },
        'pg-url': { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values,
  (v) => ({
    rounds: int('--rounds', v.rounds ?? '4', 1, 100),
    seconds: int('--seconds', v.seconds ?? '2', 1, 600),
    base: v.base,
    oneRow: v['one-row'] ?? false,
    floor: v.floor ?? false,
    pgUrl: v['pg-url'] ?? PG_ADMIN_URL,
  }),
);

const CONNECTIONS = 50;
const POOL = 10;
const names = ['ties', 'lean', 'raw', 'space', 'base', 'lean1', 'min', 'ins'].map(
  (s) => `ties_pglean_${process.pid}_${s}`,
);
const [TIES_DB, LEAN_DB, RAW_DB, SPACE_DB, BASE_DB, LEAN1_DB, MIN_DB, INS_DB] = names as [
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
];

/** The machine's busy and total CPU time so far, in clock ticks (/proc/stat's first line). */
function machineTicks(): { busy: number; all: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3]! + f[4]!; // idle + iowait
  const all = f.reduce((s, x) => s + x, 0);
  return { busy: all - idle, all };
}

async function backendPids(admin: pg.Client, database: string): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'",
    [database],
  );
  return rows.map((r) => r.pid);
}

/** Transactions committed in a database so far (pg_stat_database; reported with a delay of up to a second). */
async function commits(admin: pg.Client, database: string): Promise<number> {
  const { rows } = await admin.query(
    'SELECT xact_commit::float8 AS c FROM pg_stat_database WHERE datname = $1',
    [database],
  );
  return rows[0].c;
}

async function wal(admin: pg.Client): Promise<{ records: number; bytes: number }> {
  const { rows } = await admin.query(
    'SELECT wal_records::float8 AS r, wal_bytes::float8 AS b FROM pg_stat_wal',
  );
  return { records: rows[0].r, bytes: rows[0].b };
}

interface Totals {
  calls: number;
  seconds: number;
  serverMs: number;
  backendMs: number;
  benchMs: number;
  walRecords: number;
  walBytes: number;
  busyTicks: number;
  allTicks: number;
}

const admin = new pg.Client({ connectionString: opts.pgUrl });
const servers: ServerProcess[] = [];
let raw: Awaited<ReturnType<typeof openRawPg>> | undefined;
try {
  const spaceUrl = await freshPgDb(opts.pgUrl, SPACE_DB);
  const w = await buildWorkspace(spaceUrl, { as: 4_000, bs: 20_000, hub: 0, get100: false });
  const tiesUrl = await freshPgDb(opts.pgUrl, TIES_DB, SPACE_DB);
  const leanUrl = await freshPgDb(opts.pgUrl, LEAN_DB, SPACE_DB);
  const rawUrl = await freshPgDb(opts.pgUrl, RAW_DB);
  const lean1Url = opts.oneRow ? await freshPgDb(opts.pgUrl, LEAN1_DB, SPACE_DB) : undefined;
  const minUrl = opts.floor ? await freshPgDb(opts.pgUrl, MIN_DB, SPACE_DB) : undefined;
  const insUrl = opts.floor ? await freshPgDb(opts.pgUrl, INS_DB) : undefined;
  const baseUrl = opts.base ? await freshPgDb(opts.pgUrl, BASE_DB, SPACE_DB) : undefined;
  await admin.connect();
  const ties = await startTies(tiesUrl);
  servers.push(ties);
  const lean = await startPgLeanAttach(leanUrl, w.relId);
  servers.push(lean);
  const base = baseUrl ? await startTies(baseUrl, {}, [], join(opts.base!, 'bin/ties.js')) : undefined;
  if (base) servers.push(base);
  const lean1 = lean1Url ? await startPgLeanAttach(lean1Url, w.relId, 'one-row') : undefined;
  if (lean1) servers.push(lean1);
  const min = minUrl ? await startPgLeanAttach(minUrl, w.relId, 'min') : undefined;
  if (min) servers.push(min);
  const ins = insUrl ? await startPgLeanAttach(insUrl, w.relId, 'insert') : undefined;
  if (ins) servers.push(ins);
  raw = await openRawPg(rawUrl, POOL);
  const as = w.as.slice(2);
  // Fresh pairs as the bench's attach: A fastest over as[2..], so no A passes 64 relations (no
  // top-row build) before k = 64 × 3,998.
  // The floors keep no top rows: they may go past 64 relations per A (they are faster, and run out).
  const pairs = (topRows = true) => {
    let k = 0;
    return () => {
      if (topRows && k >= 64 * as.length) throw new Error('pg-lean-attach: pairs past 64 relations per A');
      const body = attachBody(w.relId, as[k % as.length]!, w.bs[Math.floor(k / as.length)]!);
      k++;
      return body;
    };
  };
  let rawFrom = 0;
  const space = { as: w.as, bs: w.bs };
  const sides = [
    { name: 'ties', server: ties as ServerProcess | undefined, db: TIES_DB, body: pairs() },
    { name: 'lean', server: lean as ServerProcess | undefined, db: LEAN_DB, body: pairs() },
    { name: 'raw', server: undefined as ServerProcess | undefined, db: RAW_DB, body: pairs() },
    ...(lean1
      ? [{ name: 'lean1', server: lean1 as ServerProcess | undefined, db: LEAN1_DB, body: pairs() }]
      : []),
    ...(min
      ? [{ name: 'min', server: min as ServerProcess | undefined, db: MIN_DB, body: pairs(false) }]
      : []),
    ...(ins
      ? [{ name: 'ins', server: ins as ServerProcess | undefined, db: INS_DB, body: pairs(false) }]
      : []),
    ...(base
      ? [{ name: 'base', server: base as ServerProcess | undefined, db: BASE_DB, body: pairs() }]
      : []),
  ];
  const totals = new Map<string, Totals>();
  const slice = async (side: (typeof sides)[number], seconds: number) => {
    // A pool may open connections during the slice (pg's idle timeout closes them between slices):
    // the backends at its end count from 0 unless they were there at its start.
    const startCpu = new Map((await backendPids(admin, side.db)).map((pid) => [pid, cpuMs(pid) || 0]));
    const [s0, p0, w0, m0] = [
      side.server?.cpuMs() ?? 0,
      process.cpuUsage(),
      await wal(admin),
      machineTicks(),
    ];
    const t0 = performance.now();
    let calls: number;
    if (side.server) {
      const r = await load({
        url: side.server.url,
        path: '/api/v1.1/relations/attach',
        connections: CONNECTIONS,
        body: side.body,
        token: BENCH_ADMIN_TOKEN,
        seconds,
      });
      if (r.failures > 0) process.stdout.write(`  ${side.name}: ${r.failures} failed requests\n`);
      calls = r.requests;
    } else {
      const r = await raw!.insert({
        space,
        from: rawFrom,
        to: rawFrom + 100_000,
        clients: CONNECTIONS,
        seconds,
      });
      rawFrom += r.rows;
      calls = r.rows;
    }
    const wall = (performance.now() - t0) / 1000;
    const [w1, m1, p1] = [await wal(admin), machineTicks(), process.cpuUsage(p0)];
    let backendMs = 0;
    for (const pid of await backendPids(admin, side.db))
      backendMs += (cpuMs(pid) || 0) - (startCpu.get(pid) ?? 0);
    const t = totals.get(side.name) ?? {
      calls: 0,
      seconds: 0,
      serverMs: 0,
      backendMs: 0,
      benchMs: 0,
      walRecords: 0,
      walBytes: 0,
      busyTicks: 0,
      allTicks: 0,
    };
    totals.set(side.name, {
      calls: t.calls + calls,
      seconds: t.seconds + wall,
      serverMs: t.serverMs + (side.server ? side.server.cpuMs() - s0 : 0),
      backendMs: t.backendMs + backendMs,
      benchMs: t.benchMs + (p1.user + p1.system) / 1000,
      walRecords: t.walRecords + w1.records - w0.records,
      walBytes: t.walBytes + w1.bytes - w0.bytes,
      busyTicks: t.busyTicks + m1.busy - m0.busy,
      allTicks: t.allTicks + m1.all - m0.all,
    });
    return calls / wall;
  };
  for (const side of sides) await slice(side, opts.seconds);
  totals.clear();
  const perRound: Record<string, number>[] = [];
  // Backends report their statistics up to a second late: settle before reading commits.
  const settle = () => new Promise((resolve) => setTimeout(resolve, 1_500));
  await settle();
  const commits0 = new Map<string, number>();
  for (const side of sides) commits0.set(side.name, await commits(admin, side.db));
  const loadStart = loadavg()[0]!;
  const started = new Date().toISOString();
  for (let round = 0; round < opts.rounds; round++) {
    const rates: Record<string, number> = {};
    for (const side of round % 2 ? [...sides].reverse() : sides)
      rates[side.name] = await slice(side, opts.seconds);
    perRound.push(rates);
  }
  await settle();
  const commitsPerCall = new Map<string, number>();
  for (const side of sides)
    commitsPerCall.set(
      side.name,
      ((await commits(admin, side.db)) - commits0.get(side.name)!) / totals.get(side.name)!.calls,
    );
  const out: Record<string, number | string> = {
    started,
    load_avg_start: loadStart,
    load_avg_end: loadavg()[0]!,
    cores: cpus().length,
  };
  const r3 = (x: number) => Number(x.toFixed(3));
  process.stdout.write(
    'side  calls/s  server µs  backend µs  bench µs  WAL rec  WAL bytes  machine busy  commits\n',
  );
  for (const [name, t] of totals) {
    const per = (ms: number) => Math.round((ms * 1000) / t.calls);
    const busy = t.busyTicks / t.allTicks;
    out[`${name}_rps`] = Math.round(t.calls / t.seconds);
    out[`${name}_server_cpu_us`] = per(t.serverMs);
    out[`${name}_backend_cpu_us`] = per(t.backendMs);
    out[`${name}_bench_cpu_us`] = per(t.benchMs);
    out[`${name}_wal_records`] = r3(t.walRecords / t.calls);
    out[`${name}_wal_bytes`] = Math.round(t.walBytes / t.calls);
    out[`${name}_busy`] = r3(busy);
    out[`${name}_commits`] = r3(commitsPerCall.get(name)!);
    process.stdout.write(
      `${name.padEnd(5)} ${String(Math.round(t.calls / t.seconds)).padStart(7)}  ${String(per(t.serverMs)).padStart(9)}  ${String(per(t.backendMs)).padStart(10)}  ${String(per(t.benchMs)).padStart(8)}  ${(t.walRecords / t.calls).toFixed(1).padStart(7)}  ${String(Math.round(t.walBytes / t.calls)).padStart(9)}  ${busy.toFixed(2).padStart(12)}  ${commitsPerCall.get(name)!.toFixed(2)}\n`,
    );
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  out.ties_vs_raw = r3(median(perRound.map((r) => r.ties! / r.raw!)));
  out.lean_vs_raw = r3(median(perRound.map((r) => r.lean! / r.raw!)));
  out.ties_vs_lean = r3(median(perRound.map((r) => r.ties! / r.lean!)));
  if (lean1) out.lean1_vs_raw = r3(median(perRound.map((r) => r.lean1! / r.raw!)));
  if (min) out.min_vs_raw = r3(median(perRound.map((r) => r.min! / r.raw!)));
  if (ins) out.ins_vs_raw = r3(median(perRound.map((r) => r.ins! / r.raw!)));
  if (base) {
    out.base_vs_raw = r3(median(perRound.map((r) => r.base! / r.raw!)));
    // The A/B's figure: this checkout over the base, per round (slices of one round are adjacent).
    out.ties_vs_base = r3(median(perRound.map((r) => r.ties! / r.base!)));
  }
  process.stdout.write(
    `per round ties/raw ${perRound.map((r) => (r.ties! / r.raw!).toFixed(2)).join(', ')}; lean/raw ${perRound.map((r) => (r.lean! / r.raw!).toFixed(2)).join(', ')}${base ? `; ties/base ${perRound.map((r) => (r.ties! / r.base!).toFixed(2)).join(', ')}` : ''}\n`,
  );
  // Where the backend time goes, per function (track_functions = 'pl', set by freshPgDb): self time
  // per attach, the whole run's calls (warm-up included) over the side's attaches.
  // The floors run no function (and `ins` has no relation_stats).
  for (const side of sides.filter((x) => x.server && x.name !== 'min' && x.name !== 'ins')) {
    const { rows } = await pgAdmin(pgDbUrl(opts.pgUrl, side.db), (c) =>
      c.query(
        'SELECT funcname, calls::float8 AS calls, self_time, total_time FROM pg_stat_user_functions ORDER BY self_time DESC LIMIT 8',
      ),
    );
    const attaches = rows.find((r) => /attach$/.test(r.funcname))?.calls ?? 1;
    // Sequential scans of the aggregate table: a plan cached while it was tiny (see docs/benchmarks.md).
    const seq = await pgAdmin(pgDbUrl(opts.pgUrl, side.db), (c) =>
      c.query(
        "SELECT seq_scan::float8 AS n, seq_tup_read::float8 AS t, idx_scan::float8 AS i FROM pg_stat_user_tables WHERE relname = 'relation_stats'",
      ),
    );
    process.stdout.write(
      `${side.name} relation_stats: ${(seq.rows[0].n / attaches).toFixed(2)} seq scans and ${Math.round(seq.rows[0].t / attaches)} rows read by them per attach, ${(seq.rows[0].i / attaches).toFixed(2)} index scans\n`,
    );
    process.stdout.write(
      `${side.name} functions (self µs per attach, calls per attach): ${rows.map((r) => `${r.funcname} ${Math.round((r.self_time * 1000) / attaches)} (${(r.calls / attaches).toFixed(1)})`).join(', ')}\n`,
    );
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  await raw?.end();
  await Promise.all(servers.map((s) => s.stop()));
  await admin.end().catch(() => undefined);
  await dropPgDbs(opts.pgUrl, names);
}
