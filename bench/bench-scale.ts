// The benchmark's data-size sections: attach with 10,000 relations stored against attach with
// 10,000,000 (loaded through `ties import`, or kept by an earlier run), for each SQLite page cache
// size asked for; and `ties import` with each cache size (import-cache). run.ts owns the servers,
// stores and figures; it hands them over in a ScaleContext.
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { freshGroupedPair, groupedPair, type PairSpace, writeCsv } from './bench-bulk.js';
import { attachBody, findWorkspace, type Workspace } from './bench-fixtures.js';
import { count, fmt, median } from './bench-format.js';
import { load } from './bench-load.js';
import { BENCH_ADMIN_TOKEN, measured, type ServerProcess } from './bench-processes.js';

export interface ScaleContext {
  /** This run's data directory. */
  readonly dir: string;
  readonly engine: 'sqlite' | 'postgres';
  readonly figures: Record<string, number | string>;
  readonly log: (line: string) => void;
  readonly serve: (db: string, env: Record<string, string>) => Promise<ServerProcess>;
  /** Stops a server and counts its peak RSS in the run's rss_mb. */
  readonly stop: (server: ServerProcess) => Promise<void>;
  /** A store holding only the profiles of a pair space (and the type). */
  readonly spaceDb: (
    name: string,
    as: number,
    bs: number,
  ) => Promise<{ db: string; w: Workspace; space: PairSpace }>;
  readonly copyOf: (source: { db: string }, name: string) => Promise<string>;
  /** `ties import` of a CSV file; answers its seconds. */
  readonly importCsv: (
    db: string,
    relId: number,
    csv: string,
    env?: Record<string, string>,
  ) => Promise<number>;
  readonly connections: number;
  readonly warmupSeconds: number;
  /** SQLite page cache sizes to compare, MiB (TIES_SQLITE_CACHE_MB). */
  readonly cacheMb: readonly number[];
}

export interface ScaleOptions {
  /** Relations stored in the large store. */
  readonly rows: number;
  /** Measured runs per store and cache size. */
  readonly runs: number;
  /** A directory an earlier `--only scale --keep` run kept (SQLite), instead of loading. */
  readonly keptDir?: string | undefined;
  /** Seconds of attach on the large store before its measured runs (its page cache fills). */
  readonly largeWarmupSeconds?: number | undefined;
}

/**
 * attach with `small`, then with `large` relations stored, `perA` per profile A, loaded through
 * `ties import` in A order (as an export sorted by profile).
 */
const SCALE = { as: 100_000, bs: 100_000, perA: 100, small: 10_000, seconds: 10 };
/** Fresh pairs per server: n in [from, from + FRESH) of freshGroupedPair, so no two servers share one. */
const FRESH = 10_000_000;

interface ScaleStore {
  readonly db: string;
  readonly w: Workspace;
  readonly space: PairSpace;
}

interface ScaleStores {
  readonly large: ScaleStore;
  /** SCALE.small relations; never written: each block of runs measures a copy of it. */
  readonly small: ScaleStore;
  /** Where the large store lives; the first fresh pair no run has used yet is noted there. */
  readonly home: string;
}

/** Attach bodies of fresh pairs from the n-th on (none of them is loaded, nor made by another source). */
function freshAttach(w: Workspace, space: PairSpace, first: number): () => string {
  let n = first;
  return () => {
    const [a, b] = freshGroupedPair(space, n++, SCALE.perA);
    return attachBody(w.relId, a, b);
  };
}

const grouped = (sp: PairSpace, k: number) => groupedPair(sp, k, SCALE.perA);

/** A store of the workspace and SCALE.small relations (the first of the large store's). */
async function smallScale(ctx: ScaleContext, name: string): Promise<ScaleStore> {
  const t0 = performance.now();
  const small = await ctx.spaceDb(name, SCALE.as, SCALE.bs);
  const csv = join(ctx.dir, `${name}.csv`);
  await writeCsv(csv, small.space, 0, SCALE.small, grouped);
  await ctx.importCsv(small.db, small.w.relId, csv);
  rmSync(csv, { force: true });
  ctx.log(
    `scale: ${count(SCALE.as)} × ${count(SCALE.bs)} profiles, ${count(SCALE.small)} relations (${fmt((performance.now() - t0) / 1000)} s)`,
  );
  return small;
}

/** Loads the two stores of the data-size test (through `ties import`, timed). */
async function loadScale(ctx: ScaleContext, rows: number): Promise<ScaleStores> {
  const { figures, log } = ctx;
  const { db, w, space } = await smallScale(ctx, 'scale');
  // The small store is kept as a copy, so that both sizes are measured side by side at the end.
  const small = { db: await ctx.copyOf({ db }, 'scale-small'), w, space };
  const csv = join(ctx.dir, 'scale.csv');

  const t1 = performance.now();
  await writeCsv(csv, space, SCALE.small, rows, grouped);
  const loadAvgBefore = loadavg()[0]!;
  const loadSeconds = await ctx.importCsv(db, w.relId, csv);
  figures.scale_load_avg = (loadAvgBefore + loadavg()[0]!) / 2;
  rmSync(csv, { force: true });
  const size = ctx.engine === 'sqlite' ? `, a ${(statSync(db).size / 2 ** 30).toFixed(1)} GiB file` : '';
  figures.scale_load_rows_per_s = (rows - SCALE.small) / loadSeconds;
  log(
    `  loaded to ${count(rows)} through ties import: ${fmt(figures.scale_load_rows_per_s)} rows/s${size} (${fmt((performance.now() - t1) / 1000)} s with writing the CSV; load average ${loadAvgBefore.toFixed(1)} → ${loadavg()[0]!.toFixed(1)})`,
  );
  return { large: { db, w, space }, small, home: ctx.dir };
}

/**
 * The large store an earlier `--only scale --keep` run left in `home` (SQLite) and its workspace;
 * the small store is made anew (the kept one has grown by the attaches of every run on it).
 */
async function keptScale(ctx: ScaleContext, home: string): Promise<ScaleStores> {
  const db = join(home, 'scale.db');
  if (!existsSync(db)) throw new Error(`--scale-dir: no ${db} (keep one with --only scale --keep)`);
  const t0 = performance.now();
  const w = await findWorkspace(db, SCALE);
  ctx.log(
    `scale: the store kept in ${home} (${(statSync(db).size / 2 ** 30).toFixed(1)} GiB), workspace found in ${fmt((performance.now() - t0) / 1000)} s`,
  );
  const small = await smallScale(ctx, 'scale-small');
  return { large: { db, w, space: { as: w.as, bs: w.bs } }, small, home };
}

/**
 * Reserves `servers` ranges of fresh pairs in the data's home: an attach of a pair an earlier run
 * made would measure something else. A run from before this note existed used two ranges.
 */
function reserveFresh(stores: ScaleStores, loadedNow: boolean, servers: number): number {
  const note = join(stores.home, 'scale-fresh.json');
  const noted = existsSync(note) ? (JSON.parse(readFileSync(note, 'utf8')) as { next: number }).next : 0;
  const first = noted === 0 && !loadedNow ? 2 * FRESH : noted;
  writeFileSync(note, JSON.stringify({ next: first + servers * FRESH }));
  return first;
}

/** The data-size test: for each cache size, a block of alternating runs on both stores. */
export async function scale(ctx: ScaleContext, options: ScaleOptions): Promise<void> {
  const { figures, log } = ctx;
  const stores = options.keptDir ? await keptScale(ctx, options.keptDir) : await loadScale(ctx, options.rows);
  const { large: big, small: pristine } = stores;
  let fresh = reserveFresh(stores, !options.keptDir, 2 * ctx.cacheMb.length);
  const path = '/api/v1.1/relations/attach';
  // One block per cache size, one after the other: two servers on one file would empty each
  // other's cache (SQLite drops its cache when another connection has written the file).
  for (const [block, mb] of ctx.cacheMb.entries()) {
    const env = { TIES_SQLITE_CACHE_MB: String(mb) };
    // Both servers run at once and are loaded in alternating runs, so both see the same machine.
    // A copy of the small store per block: each block starts from SCALE.small relations.
    const smallDb = await ctx.copyOf(pristine, `scale-small-${block}`);
    const sizes = [
      {
        server: await ctx.serve(smallDb, env),
        body: freshAttach(pristine.w, pristine.space, fresh),
        rates: [] as number[],
        warmup: ctx.warmupSeconds,
      },
      {
        server: await ctx.serve(big.db, env),
        body: freshAttach(big.w, big.space, fresh + FRESH),
        rates: [] as number[],
        warmup: options.largeWarmupSeconds ?? ctx.warmupSeconds,
      },
    ];
    fresh += 2 * FRESH;
    const run = (s: (typeof sizes)[number], seconds: number) =>
      measured(s.server, () =>
        load({
          url: s.server.url,
          path,
          connections: ctx.connections,
          body: s.body,
          token: BENCH_ADMIN_TOKEN,
          seconds,
        }),
      );
    for (const s of sizes) await run(s, s.warmup);
    // CPU per call depends less on the machine's other load than the rate does (the machine is shared).
    const cpu = sizes.map(() => ({ ms: 0, systemMs: 0, read: 0, written: 0, calls: 0 }));
    for (let round = 0; round < options.runs; round++) {
      for (const i of round % 2 ? [1, 0] : [0, 1]) {
        const r = await run(sizes[i]!, SCALE.seconds);
        sizes[i]!.rates.push(r.rps);
        cpu[i]!.ms += r.cpuMs;
        cpu[i]!.systemMs += r.systemMs;
        cpu[i]!.read += r.io.read;
        cpu[i]!.written += r.io.written;
        cpu[i]!.calls += r.requests;
      }
    }
    const rss = sizes.map((s) => s.server.peakRssMb());
    for (const s of sizes) await ctx.stop(s.server);
    const small = median(sizes[0]!.rates);
    const large = median(sizes[1]!.rates);
    const us = (i: number, ms: number) => (ms * 1000) / cpu[i]!.calls;
    /** KiB per call through read()/write(): SQLite's pages are 4 KiB. */
    const kib = (i: number, bytes: number) => bytes / 1024 / cpu[i]!.calls;
    const f = {
      attach_10k_rps: small,
      attach_10m_rps: large,
      attach_10m_vs_10k: large / small,
      attach_10k_cpu_us: us(0, cpu[0]!.ms),
      attach_10m_cpu_us: us(1, cpu[1]!.ms),
      attach_10m_vs_10k_cpu: us(0, cpu[0]!.ms) / us(1, cpu[1]!.ms),
      attach_10k_sys_us: us(0, cpu[0]!.systemMs),
      attach_10m_sys_us: us(1, cpu[1]!.systemMs),
      attach_10k_read_kib: kib(0, cpu[0]!.read),
      attach_10m_read_kib: kib(1, cpu[1]!.read),
      attach_10k_written_kib: kib(0, cpu[0]!.written),
      attach_10m_written_kib: kib(1, cpu[1]!.written),
      attach_10k_rss_mb: rss[0]!,
      attach_10m_rss_mb: rss[1]!,
    };
    // The first cache size gives the plain figures; with more than one, every size its own too.
    for (const [key, value] of Object.entries(f)) {
      if (block === 0) figures[key] = value;
      if (ctx.cacheMb.length > 1) figures[`${key}_cache${mb}`] = value;
    }
    const rates = (i: number) => sizes[i]!.rates.map((r) => fmt(r)).join(', ');
    log(
      `  cache ${mb} MiB, attach with ${count(SCALE.small)} stored: ${fmt(small)} req/s (median of ${options.runs}: ${rates(0)}), server CPU ${fmt(f.attach_10k_cpu_us)} µs/call (system ${fmt(f.attach_10k_sys_us)}), read ${fmt(f.attach_10k_read_kib)} / written ${fmt(f.attach_10k_written_kib)} KiB/call, peak RSS ${fmt(f.attach_10k_rss_mb)} MiB`,
    );
    log(
      `  cache ${mb} MiB, attach with ${count(options.rows)} stored: ${fmt(large)} req/s (median of ${options.runs}: ${rates(1)}, runs alternating); ratio ${fmt(large / small)}; server CPU ${fmt(f.attach_10m_cpu_us)} µs/call (system ${fmt(f.attach_10m_sys_us)}; 10k ÷ large ${fmt(f.attach_10m_vs_10k_cpu)}), read ${fmt(f.attach_10m_read_kib)} / written ${fmt(f.attach_10m_written_kib)} KiB/call, peak RSS ${fmt(f.attach_10m_rss_mb)} MiB, load average ${loadavg()[0]!.toFixed(1)}`,
    );
  }
}

/** Rounds of import-cache: each cache size imports once per round, in alternating order. */
const IMPORT_CACHE_ROUNDS = 2;

/**
 * Whether the load rate depends on SQLite's page cache: `ties import` of `bulk.rows` relations
 * into copies of one store with each cache size, alternating, so that every size sees the same
 * machine.
 */
export async function importCache(
  ctx: ScaleContext,
  bulk: { readonly as: number; readonly bs: number; readonly rows: number },
): Promise<void> {
  const base = await ctx.spaceDb('import-cache', bulk.as, bulk.bs);
  const csv = join(ctx.dir, 'import-cache.csv');
  await writeCsv(csv, base.space, 0, bulk.rows);
  ctx.log(`import-cache: ${count(bulk.rows)} relations over ${bulk.as} × ${bulk.bs} profiles`);
  const rates = new Map<number, number[]>(ctx.cacheMb.map((mb) => [mb, []]));
  for (let round = 0; round < IMPORT_CACHE_ROUNDS; round++) {
    for (const mb of round % 2 ? [...ctx.cacheMb].reverse() : ctx.cacheMb) {
      const db = await ctx.copyOf(base, `import-cache-${mb}-${round}`);
      const seconds = await ctx.importCsv(db, base.w.relId, csv, { TIES_SQLITE_CACHE_MB: String(mb) });
      rates.get(mb)!.push(bulk.rows / seconds);
      ctx.log(
        `  cache ${mb} MiB: ${fmt(bulk.rows / seconds)} rows/s (${(statSync(db).size / 2 ** 20).toFixed(0)} MiB file, load average ${loadavg()[0]!.toFixed(1)})`,
      );
      for (const file of [db, `${db}-wal`, `${db}-shm`]) rmSync(file, { force: true });
    }
  }
  for (const [mb, r] of rates) ctx.figures[`import_rows_per_s_cache${mb}`] = median(r);
  rmSync(csv, { force: true });
}
