// `npm run bench [-- --quick] [-- --engine postgres]`: starts real servers as separate processes,
// drives them over HTTP with autocannon, and prints every figure as a ratio to a baseline measured
// in the same run. The last line of output is one JSON object with all the figures.
// Method and latest results: docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ConfigError, int, oneOf, SETTINGS, SQLITE_WRITERS } from '../src/config.js';
import { DEFAULT_CACHE_MB } from '../src/store/sqlite/sqlite-connection.js';
import {
  BATCH,
  loadOverHttp,
  openRawPg,
  type PairSpace,
  rawPg,
  rawPgCopy,
  rawSqlite,
  writeCsv,
} from './bench-bulk.js';
import { ATTACH_WEIGHTS, attachBody, buildWorkspace, type Workspace } from './bench-fixtures.js';
import { fmt, median } from './bench-format.js';
import { load } from './bench-load.js';
import {
  BENCH_ADMIN_TOKEN,
  measured,
  runCommand,
  type ServerProcess,
  startNoop,
  startTies,
} from './bench-processes.js';
import { importCache, type ScaleContext, scale } from './bench-scale.js';
import { PG_ADMIN_URL } from './pg-scratch.js';
import { scriptArgs } from './script-args.js';

const USAGE = `npm run bench [-- options]

Starts real servers as separate processes, drives them over HTTP with autocannon and prints every
figure as a ratio to a baseline measured in the same run; the last line is one JSON object.

  --quick               every figure on smaller data, under a minute
  --engine E            sqlite (default) or postgres
  --only LIST           comma-separated sections: attach, strengthen, get, counter, bulk, scale;
                        and import-cache, only when named: \`ties import\` of the bulk rows with each
                        --cache-mb size, in alternating rounds
  --pg-url URL          PostgreSQL server for --engine postgres (scratch databases are made there)
                        default postgres://postgres@127.0.0.1:5432/postgres
  --bulk-rows N         relations of the bulk load (default 1,000,000; quick 50,000)
  --scale-rows N        relations stored for the data-size test (default 10,000,000)
  --scale-dir DIR       measure the data-size test on the stores an earlier \`--only scale --keep\`
                        run kept in DIR (scale.db, scale-small.db) instead of loading them again
  --scale-runs N        measured runs per store and cache size in the data-size test (default 3)
  --scale-warmup S      seconds of attach on the large store before its runs, so that a large page
                        cache fills (default 2)
  --cache-mb LIST       comma-separated SQLite page caches (TIES_SQLITE_CACHE_MB) the data-size test
                        and import-cache compare; the data-size test gives each its own block of
                        runs on both stores (default 32)
  --sqlite-writer W     inline (default) or worker, for every server
  --cpu-prof DIR        write a V8 CPU profile of every Ties server into DIR
  --keep                keep the data directory and print its path
  --help                this text

Method and latest results: docs/benchmarks.md`;
const SECTIONS = ['attach', 'strengthen', 'get', 'counter', 'bulk', 'scale', 'import-cache'] as const;
const ROWS_MAX = 1_000_000_000;

/** --scale-dir names a directory of kept SQLite files: not a thing PostgreSQL has. */
function keptStores(scaleDir: string | undefined, engine: string | undefined): string | undefined {
  if (scaleDir !== undefined && engine === 'postgres')
    throw new ConfigError('--scale-dir: kept stores are SQLite files (not with --engine postgres)');
  return scaleDir;
}

const opts = scriptArgs(
  USAGE,
  () =>
    parseArgs({
      options: {
        quick: { type: 'boolean' },
        engine: { type: 'string' },
        only: { type: 'string' },
        keep: { type: 'boolean' },
        'cpu-prof': { type: 'string' },
        'pg-url': { type: 'string' },
        'bulk-rows': { type: 'string' },
        'scale-rows': { type: 'string' },
        'scale-dir': { type: 'string' },
        'scale-runs': { type: 'string' },
        'scale-warmup': { type: 'string' },
        'cache-mb': { type: 'string' },
        'sqlite-writer': { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values,
  (v) => ({
    quick: v.quick ?? false,
    engine: oneOf('--engine', v.engine ?? 'sqlite', ['sqlite', 'postgres'] as const),
    /** Sections to run; all when absent. */
    only: v.only ? new Set<string>(v.only.split(',').map((x) => oneOf('--only', x, SECTIONS))) : undefined,
    keep: v.keep ?? false,
    cpuProf: v['cpu-prof'],
    pgUrl: v['pg-url'] ?? PG_ADMIN_URL,
    bulkRows: v['bulk-rows'] === undefined ? undefined : int('--bulk-rows', v['bulk-rows'], 1, ROWS_MAX),
    scaleRows: v['scale-rows'] === undefined ? 10_000_000 : int('--scale-rows', v['scale-rows'], 1, ROWS_MAX),
    scaleDir: keptStores(v['scale-dir'], v.engine),
    scaleRuns: v['scale-runs'] === undefined ? 3 : int('--scale-runs', v['scale-runs'], 1, 100),
    scaleWarmup:
      v['scale-warmup'] === undefined ? undefined : int('--scale-warmup', v['scale-warmup'], 1, 3_600),
    /** Checked as the server checks TIES_SQLITE_CACHE_MB. */
    cacheMb: (v['cache-mb'] ?? String(DEFAULT_CACHE_MB))
      .split(',')
      .map((x) => SETTINGS.sqliteCacheMb.parse(x, '--cache-mb')),
    sqliteWriter: v['sqlite-writer'] && oneOf('--sqlite-writer', v['sqlite-writer'], SQLITE_WRITERS),
  }),
);
const { quick, engine, only } = opts;
const wants = (section: string) => !only || only.has(section);
const serverNodeArgs = opts.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProf}`] : [];

// As: enough that fresh pairs (A fastest, pairSource) leave every A at most 64 relations through
// the run's attach slices (~6,000 req/s on PostgreSQL, more on SQLite): attach measures one regime,
// A below the top-row threshold (TOP_ROWS.from, ties_top_rows_from()), and no slice holds the one-off
// build of every A's top rows at k = 64 × As (docs/benchmarks.md, Method).
const SIZES = quick
  ? { warmup: 1, slice: 1.25, rounds: 2, as: 5_000, bs: 20_000, hub: 20_000 }
  : { warmup: 2, slice: 2, rounds: 5, as: 12_000, bs: 100_000, hub: 100_000 };
/** Relations of one type past which a profile A keeps top rows (SQLite's TOP_ROWS.from, PostgreSQL's ties_top_rows_from()). */
const TOP_ROWS_FROM = 64;
/** Bulk loading: rows, over a space of as × bs profiles (each pair at most once). */
const BULK = {
  ...(quick ? { as: 1_000, bs: 1_000, rows: 50_000 } : { as: 10_000, bs: 10_000, rows: 1_000_000 }),
  ...(opts.bulkRows ? { rows: opts.bulkRows } : {}),
};
const CONNECTIONS = 50;
/** get_counter's latency is measured at a moderate concurrency, where queueing does not dominate. */
const COUNTER_CONNECTIONS = 10;
/** attach_batch calls in flight during the bulk load: one is parsed while the other commits. */
const BULK_IN_FLIGHT = 2;
/** The PostgreSQL store's pool size (its default), for the raw baseline's concurrency. */
const PG_POOL = 10;
/** Rounds of attach / raw INSERT slices for attach_vs_raw_insert: a median needs more than two. */
const RAW_INSERT_ROUNDS = Math.max(SIZES.rounds, 4);
/** Rows built for one raw INSERT slice: far more than a slice writes (it fails if it runs out). */
const RAW_SLICE_ROWS = 100_000;

const figures: Record<string, number | string> = { engine };
const noopRates: number[] = [];
const log = (line: string) => process.stdout.write(`${line}\n`);

const dir = mkdtempSync(join(tmpdir(), 'ties-bench-'));
const started: ServerProcess[] = [];
const pgDatabases: string[] = [];
let noop: ServerProcess | undefined;

const NOOP_BODY = JSON.stringify({
  rel_id: 1,
  profile_a: { profile_id: '5d63dbdb439e7306b596c5d0' },
  profile_b: { profile_id: '5d441038439e7363f3c26539' },
  weights: ATTACH_WEIGHTS,
});

/**
 * Fresh pairs for attach: A from as[2..] (no relations yet), B from bs; never the same pair twice.
 * A changes fastest, so every A stays below the top-row threshold until k = 64 × As: past it, the
 * figure would mix in the one-off build of every A's top rows, and it says so.
 */
function pairSource(w: Workspace, what: string): () => string {
  const as = w.as.slice(2);
  let k = 0;
  return () => {
    if (k === TOP_ROWS_FROM * as.length)
      log(
        `  warning: ${what} passed ${TOP_ROWS_FROM} relations per A (k = ${k}): its figure mixes two regimes`,
      );
    const a = as[k % as.length]!;
    const b = w.bs[Math.floor(k / as.length) % w.bs.length]!;
    k++;
    return attachBody(w.relId, a, b);
  };
}

// ---------------------------------------------------------------------------------------------
// Stores and servers

/**
 * A fresh database for one section: a SQLite file, or a scratch PostgreSQL database (a copy of
 * `template`, another scratch database no one is connected to, when given).
 */
async function freshDb(name: string, template?: string): Promise<string> {
  if (engine === 'sqlite') return join(dir, `${name}.db`);
  const database = `ties_bench_${process.pid}_${name.replace(/\W/g, '_')}`;
  const client = new pg.Client({ connectionString: opts.pgUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${database}`);
    const from = template ? ` TEMPLATE ${new URL(template).pathname.slice(1)}` : '';
    await client.query(`CREATE DATABASE ${database}${from}`);
  } finally {
    await client.end();
  }
  pgDatabases.push(database);
  const url = new URL(opts.pgUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function dropPgDatabases(): Promise<void> {
  if (pgDatabases.length === 0) return;
  const client = new pg.Client({ connectionString: opts.pgUrl });
  await client.connect();
  try {
    for (const database of pgDatabases)
      await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

async function serve(db: string, extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
  const env: Record<string, string> = {
    ...(opts.sqliteWriter ? { TIES_SQLITE_WRITER: opts.sqliteWriter } : {}),
    ...extraEnv,
  };
  const server = await startTies(db, env, serverNodeArgs);
  started.push(server);
  return server;
}

async function stop(server: ServerProcess): Promise<void> {
  await server.stop();
  figures.rss_mb = Math.max(Number(figures.rss_mb ?? 0), server.peakRssMb());
}

// ---------------------------------------------------------------------------------------------
// Load over HTTP

interface Compared {
  readonly rps: number;
  /** The no-op server's rate in the slices interleaved with this workload's. */
  readonly noopRps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server CPU time per call, µs, over the measured slices (the profile of where the ratio goes). */
  readonly cpuUs: number;
  /** The no-op server's CPU time per call, µs, over its slices. */
  readonly noopCpuUs: number;
}

/**
 * Runs a workload against Ties in slices alternating with as many no-op slices, so that both see
 * the same background load (the machine is shared): the ratio compares like with like.
 */
async function compare(
  server: ServerProcess,
  call: string,
  body: string | (() => string),
  connections = CONNECTIONS,
): Promise<Compared> {
  const path = `/api/v1.1/${call}`;
  const tiesRun = (seconds: number) =>
    load({ url: server.url, path, connections, body, token: BENCH_ADMIN_TOKEN, seconds });
  const noopRun = (seconds: number) =>
    load({
      url: noop!.url,
      path: '/api/v1.1/relations/attach',
      connections: CONNECTIONS,
      body: NOOP_BODY,
      seconds,
    });
  await tiesRun(SIZES.warmup);
  const slices = await alternate(
    SIZES.rounds,
    () => measured(noop!, () => noopRun(SIZES.slice)),
    () => measured(server, () => tiesRun(SIZES.slice)),
  );
  const failures = total(slices.b, (r) => r.failures);
  if (failures > 0) log(`  warning: ${failures} failed requests in ${call}`);
  const seconds = SIZES.rounds * SIZES.slice;
  const ties = total(slices.b, (r) => r.requests);
  const base = total(slices.a, (r) => r.requests);
  noopRates.push(base / seconds);
  return {
    rps: ties / seconds,
    noopRps: base / seconds,
    p50Ms: median(slices.b.map((r) => r.p50Ms)),
    p99Ms: median(slices.b.map((r) => r.p99Ms)),
    cpuUs: (total(slices.b, (r) => r.cpuMs) * 1000) / ties,
    noopCpuUs: (total(slices.a, (r) => r.cpuMs) * 1000) / base,
  };
}

const total = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((sum, x) => sum + f(x), 0);

/**
 * Runs `a` then `b`, `rounds` times: alternating slices, so that both sides see the same
 * background load (the machine is shared) and each round's pair can be compared.
 */
async function alternate<A, B>(
  rounds: number,
  a: () => Promise<A>,
  b: () => Promise<B>,
): Promise<{ a: A[]; b: B[] }> {
  const out = { a: [] as A[], b: [] as B[] };
  for (let round = 0; round < rounds; round++) {
    out.a.push(await a());
    out.b.push(await b());
  }
  return out;
}

/**
 * PostgreSQL's target (issue #11): attach against raw single-row INSERTs at the same concurrency
 * (50 clients; the raw side over a pool of the store's size), in alternating slices. Each side has
 * its own fresh database, made (and its server or pool warmed) before the first slice: the other
 * sections' attaches grow A's relations and with them attach's cost. Each round's pair is a
 * ratio; the figure is their median (one slice hit by a burst of background load moves it least).
 */
async function attachVsRawInsert(): Promise<void> {
  const { db, w, space } = await spaceDb('attach-ties', SIZES.as, SIZES.bs);
  const server = await serve(db);
  const raw = await openRawPg(await freshDb('attach-raw'), PG_POOL);
  const pairs = pairSource(w, 'attach_vs_raw_insert');
  let from = 0;
  const rawRun = async (seconds = SIZES.slice) => {
    const r = await raw.insert({ space, from, to: from + RAW_SLICE_ROWS, clients: CONNECTIONS, seconds });
    from += r.rows;
    return r.rows / r.seconds;
  };
  const attachRun = async (seconds = SIZES.slice) => {
    const r = await load({
      url: server.url,
      path: '/api/v1.1/relations/attach',
      connections: CONNECTIONS,
      body: pairs,
      token: BENCH_ADMIN_TOKEN,
      seconds,
    });
    if (r.failures > 0) log(`  warning: ${r.failures} failed requests in attach`);
    return r.rps;
  };
  try {
    await attachRun(SIZES.warmup);
    await rawRun(SIZES.warmup);
    const rounds = await alternate(
      RAW_INSERT_ROUNDS,
      () => attachRun(),
      () => rawRun(),
    );
    const [attach, rawRates] = [rounds.a, rounds.b];
    const ratios = attach.map((x, i) => x / rawRates[i]!);
    figures.attach_vs_raw_insert = median(ratios);
    figures.raw_insert_rows_per_s = median(rawRates);
    figures.attach_raw_slices_rps = median(attach);
    log(
      `${'attach / INSERT'.padEnd(16)}attach ${fmt(median(attach))} req/s / raw INSERT ${fmt(median(rawRates))} rows/s (medians), attach_vs_raw_insert ${fmt(median(ratios))} (median of ${ratios.map(fmt).join(', ')}; alternating slices)`,
    );
  } finally {
    await raw.end();
    await stop(server);
  }
}

async function httpWorkloads(): Promise<void> {
  const db = await freshDb('http');
  const t0 = performance.now();
  const w = await buildWorkspace(db, { ...SIZES, get100: true });
  log(
    `workspace: ${SIZES.as} + ${SIZES.bs} profiles, a hub of ${SIZES.hub} relations (${fmt((performance.now() - t0) / 1000)} s)`,
  );
  const server = await serve(db);
  const report = (name: string, key: string, r: Compared) => {
    figures[`${key}_rps`] = r.rps;
    figures[`${key}_ratio`] = r.rps / r.noopRps;
    figures[`${key}_cpu_us`] = r.cpuUs;
    figures[`${key}_noop_cpu_us`] = r.noopCpuUs;
    // Issue #11's second attach figure: the no-op's CPU per call over Ties' (1 would be free).
    figures[`${key}_cpu_ratio`] = r.noopCpuUs / r.cpuUs;
    log(
      `${name.padEnd(16)}${fmt(r.rps).padStart(7)} req/s  ratio ${fmt(r.rps / r.noopRps)} (noop ${fmt(r.noopRps)})  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  server CPU ${fmt(r.cpuUs)} µs/call (noop ${fmt(r.noopCpuUs)})`,
    );
  };

  if (wants('attach')) {
    const pairs = pairSource(w, 'attach');
    report('attach', 'attach', await compare(server, 'relations/attach', pairs));
    // The change feed's cost (issue #16): the same attach load on the same store through a second
    // server with the feed off (TIES_FEED=off), in slices alternating with the feed-on server's
    // (one loaded at a time), so that both see the same background load and store size.
    const off = await serve(db, { TIES_FEED: 'off' });
    const run = (target: ServerProcess) =>
      load({
        url: target.url,
        path: '/api/v1.1/relations/attach',
        connections: CONNECTIONS,
        body: pairs,
        token: BENCH_ADMIN_TOKEN,
        seconds: SIZES.slice,
      });
    await run(off);
    const slices = await alternate(
      SIZES.rounds,
      () => run(off),
      () => run(server),
    );
    const offCount = total(slices.a, (r) => r.requests);
    const on = total(slices.b, (r) => r.requests);
    await stop(off);
    figures.attach_nofeed_rps = offCount / (SIZES.rounds * SIZES.slice);
    figures.attach_feed_ratio = on / offCount;
    log(
      `${'feed on / off'.padEnd(16)}attach ${fmt(on / (SIZES.rounds * SIZES.slice))} / ${fmt(Number(figures.attach_nofeed_rps))} req/s, attach_feed_ratio ${fmt(Number(figures.attach_feed_ratio))} (alternating slices)`,
    );
  }
  if (wants('strengthen')) {
    const hot = `{"rel_id":${w.relId},"profile_a":{"profile_id":"${w.as[1]}"},"profile_b":{"profile_id":"${w.bs[0]}"},"weights":{"user_like":1,"donate":5}}`;
    report('strengthen hot', 'strengthen_hot', await compare(server, 'relations/strengthen', hot));
  }
  if (wants('get')) {
    const get = JSON.stringify({ rel_id: w.relId, profile_id: w.as[1] });
    report('get 100 rows', 'get100', await compare(server, 'relations/get', get));
  }
  if (wants('counter')) {
    const body = JSON.stringify({ rel_id: w.relId, profile_id: w.as[0] });
    const r = await compare(server, 'relations/get_counter', body, COUNTER_CONNECTIONS);
    figures.counter_hub_relations = SIZES.hub;
    figures.counter_hub_rps = r.rps;
    figures.counter_hub_p50_ms = r.p50Ms;
    figures.counter_hub_p99_ms = r.p99Ms;
    figures.counter_hub_cpu_us = r.cpuUs;
    log(
      `${'counter hub'.padEnd(16)}${fmt(r.rps).padStart(7)} req/s  (${COUNTER_CONNECTIONS} connections)  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  server CPU ${fmt(r.cpuUs)} µs/call`,
    );
  }
  await stop(server);
}

// ---------------------------------------------------------------------------------------------
// Bulk loading

/** A database holding only the profiles of a pair space (and the type), ready to load relations. */
async function spaceDb(
  name: string,
  as: number,
  bs: number,
): Promise<{ db: string; w: Workspace; space: PairSpace }> {
  const db = await freshDb(name);
  const w = await buildWorkspace(db, { as, bs, hub: 0, get100: false });
  return { db, w, space: { as: w.as, bs: w.bs } };
}

/** A copy of a database no one has open (a closed SQLite file is the whole of it). */
async function copyOf(source: { db: string }, name: string): Promise<string> {
  if (engine === 'postgres') return freshDb(name, source.db);
  const db = join(dir, `${name}.db`);
  copyFileSync(source.db, db);
  return db;
}

async function importCsv(
  db: string,
  relId: number,
  csv: string,
  env: Record<string, string> = {},
): Promise<number> {
  const t0 = performance.now();
  const { stdout } = await runCommand(
    ['import', 'relations', csv, '--rel-id', String(relId), '--db', db],
    env,
  );
  if (!/ 0 failed /.test(stdout)) throw new Error(`import reported failures: ${stdout}`);
  return (performance.now() - t0) / 1000;
}

async function bulk(): Promise<void> {
  const t0 = performance.now();
  const base = await spaceDb('bulk', BULK.as, BULK.bs);
  log(
    `bulk: ${BULK.rows.toLocaleString('en-US')} relations over ${BULK.as} × ${BULK.bs} profiles (setup ${fmt((performance.now() - t0) / 1000)} s)`,
  );

  let raw: { rows: number; seconds: number };
  if (engine === 'sqlite') {
    raw = rawSqlite(join(dir, 'raw.db'), base.space, 0, BULK.rows);
  } else {
    raw = await rawPg({
      url: await freshDb('raw'),
      space: base.space,
      from: 0,
      to: BULK.rows,
      clients: CONNECTIONS,
      poolMax: PG_POOL,
    });
  }
  const rawRate = raw.rows / raw.seconds;
  figures.raw_rows_per_s = rawRate;
  log(
    `  raw store     ${fmt(rawRate).padStart(8)} rows/s  (${engine === 'sqlite' ? `plain table, ${BATCH} rows per transaction` : `single-row INSERTs, ${CONNECTIONS} clients, pool of ${PG_POOL}`})`,
  );

  const httpDb = await copyOf(base, 'bulk-http');
  const server = await serve(httpDb);
  const http = await loadOverHttp({
    url: server.url,
    token: BENCH_ADMIN_TOKEN,
    relId: base.w.relId,
    space: base.space,
    from: 0,
    to: BULK.rows,
    inFlight: BULK_IN_FLIGHT,
  });
  await stop(server);
  if (http.failed > 0) log(`  warning: ${http.failed} items failed`);
  figures.bulk_rows_per_s = http.rows / http.seconds;
  figures.bulk_ratio = figures.bulk_rows_per_s / rawRate;
  log(
    `  attach_batch  ${fmt(figures.bulk_rows_per_s).padStart(8)} rows/s  ratio ${fmt(figures.bulk_ratio)}  (HTTP, ${BATCH} items per call, ${BULK_IN_FLIGHT} calls in flight)`,
  );

  const csv = join(dir, 'bulk.csv');
  await writeCsv(csv, base.space, 0, BULK.rows);
  const importDb = await copyOf(base, 'bulk-import');
  const seconds = await importCsv(importDb, base.w.relId, csv);
  figures.import_rows_per_s = BULK.rows / seconds;
  figures.import_ratio = figures.import_rows_per_s / rawRate;
  log(
    `  ties import   ${fmt(figures.import_rows_per_s).padStart(8)} rows/s  ratio ${fmt(figures.import_ratio)}  (CSV file, process start included)`,
  );
  if (engine === 'postgres') {
    // PostgreSQL's own bulk load of the same file: COPY into a plain table.
    const copy = rawPgCopy(await freshDb('raw-copy'), csv);
    figures.raw_copy_rows_per_s = BULK.rows / copy.seconds;
    figures.import_vs_raw_copy = figures.import_rows_per_s / figures.raw_copy_rows_per_s;
    log(
      `  raw COPY      ${fmt(figures.raw_copy_rows_per_s).padStart(8)} rows/s  import ÷ COPY ${fmt(figures.import_vs_raw_copy)}  (psql \\copy of the CSV into a plain table)`,
    );
  }
  rmSync(csv, { force: true });
}

// ---------------------------------------------------------------------------------------------
// Data size (bench-scale.ts)

function scaleContext(): ScaleContext {
  return {
    dir,
    engine,
    figures,
    log,
    serve,
    stop,
    spaceDb,
    copyOf,
    importCsv,
    connections: CONNECTIONS,
    warmupSeconds: SIZES.warmup,
    cacheMb: opts.cacheMb,
  };
}

// ---------------------------------------------------------------------------------------------

function buildIfStale(): void {
  const newest = (path: string): number => {
    const st = statSync(path);
    if (!st.isDirectory()) return st.mtimeMs;
    let max = st.mtimeMs;
    for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
    return max;
  };
  let built = 0;
  try {
    built = statSync('dist/cli/main.js').mtimeMs;
  } catch {}
  if (newest('src') <= built) return;
  log('building (npm run build)…');
  try {
    execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  } catch (err) {
    // tsc writes its output even when it reports type errors; stop only when nothing was written.
    if (statSync('dist/cli/main.js').mtimeMs <= built) throw err;
    log('warning: the build reported type errors; measuring the JavaScript it wrote');
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  buildIfStale();
  log(
    `ties bench: engine ${engine}, ${quick ? 'quick' : 'full'} run, ${CONNECTIONS} connections, load average ${loadavg()[0]!.toFixed(1)}`,
  );
  noop = await startNoop();
  started.push(noop);
  if (['attach', 'strengthen', 'get', 'counter'].some(wants)) await httpWorkloads();
  if (engine === 'postgres' && wants('attach')) await attachVsRawInsert();
  if (wants('bulk')) await bulk();
  // Not part of a full run: it only says something with two or more --cache-mb sizes.
  if (engine === 'sqlite' && only?.has('import-cache')) await importCache(scaleContext(), BULK);
  if (!quick && wants('scale'))
    await scale(scaleContext(), {
      rows: opts.scaleRows,
      runs: opts.scaleRuns,
      keptDir: opts.scaleDir,
      largeWarmupSeconds: opts.scaleWarmup,
    });
  if (noopRates.length > 0) figures.noop_rps = median(noopRates);
  figures.seconds = (performance.now() - t0) / 1000;
  // The machine is shared: the 1-minute load average at the end tells how busy it was.
  figures.load_avg = loadavg()[0]!;
}

try {
  await main();
} finally {
  await Promise.all(started.map((s) => s.stop()));
  await dropPgDatabases();
  if (opts.keep) log(`data kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
for (const [key, value] of Object.entries(figures)) {
  if (typeof value === 'number') figures[key] = Number(value.toFixed(value >= 100 ? 0 : 3));
}
log(JSON.stringify(figures));
