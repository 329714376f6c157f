// Bulk loading for the benchmark: one sequence of unique relation pairs, written three ways: through
// relations/attach_batch over HTTP, through `ties import` from a CSV file, and straight into a plain
// table (the raw-store baseline: same pragmas, same batches, no HTTP, no lookups).
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { storagePragmas } from '../src/store/sqlite/sqlite-connection.js';
import { ATTACH_WEIGHTS } from './bench-fixtures.js';

/** Profiles to pair: relation k joins as[·] and bs[·] through a bijection, so no pair repeats. */
export interface PairSpace {
  readonly as: readonly string[];
  readonly bs: readonly string[];
}

/**
 * The multiplier of the pair bijection k → k·M mod N: near N/φ (consecutive relations land far
 * apart, as random traffic would) and coprime with N (so every pair is visited once).
 */
function multiplierFor(n: number): bigint {
  const gcd = (x: bigint, y: bigint): bigint => (y === 0n ? x : gcd(y, x % y));
  let m = BigInt(Math.floor(n / 1.618033988749895)) | 1n;
  while (gcd(m, BigInt(n)) !== 1n) m += 2n;
  return m;
}
const multipliers = new Map<number, bigint>();

export function pairAt(space: PairSpace, k: number): readonly [string, string] {
  const n = space.as.length * space.bs.length;
  if (k >= n) throw new Error(`pair ${k} is beyond the ${n} pairs of the space`);
  let m = multipliers.get(n);
  if (m === undefined) {
    m = multiplierFor(n);
    multipliers.set(n, m);
  }
  const index = Number((BigInt(k) * m) % BigInt(n));
  return [space.as[Math.floor(index / space.bs.length)]!, space.bs[index % space.bs.length]!];
}

/**
 * The data-size test's relations, grouped by A as an export sorted by profile usually is: relation
 * k is the (k mod perA)-th of as[⌊k/perA⌋], whose Bs are spread over bs. Pairs with j ≥ perA
 * (see freshGroupedPair) are never among the loaded ones.
 */
export function groupedPair(space: PairSpace, k: number, perA: number): readonly [string, string] {
  return pairOfA(space, Math.floor(k / perA) % space.as.length, k % perA);
}

/** The n-th pair that groupedPair never produces for `perA`: a fresh relation for attach. */
export function freshGroupedPair(space: PairSpace, n: number, perA: number): readonly [string, string] {
  return pairOfA(space, n % space.as.length, perA + Math.floor(n / space.as.length));
}

function pairOfA(space: PairSpace, aIndex: number, j: number): readonly [string, string] {
  const nb = space.bs.length;
  if (j >= nb) throw new Error(`profile A ${aIndex} has no ${j}-th B among ${nb}`);
  // j → (aIndex·7919 + j·m) mod nb is one-to-one in j when m is coprime with nb.
  const m = Number(multiplierFor(nb) % BigInt(nb));
  const b = (((aIndex * 7919) % nb) + Number((BigInt(j) * BigInt(m)) % BigInt(nb))) % nb;
  return [space.as[aIndex]!, space.bs[b]!];
}

const WEIGHTS_JSON = JSON.stringify(ATTACH_WEIGHTS);
export const BATCH = 1000;

/** Loads pairs [from, to) through relations/attach_batch, `inFlight` calls at a time. */
export async function loadOverHttp(options: {
  readonly url: string;
  readonly token: string;
  readonly relId: number;
  readonly space: PairSpace;
  readonly from: number;
  readonly to: number;
  readonly inFlight: number;
}): Promise<{ rows: number; failed: number; seconds: number }> {
  const { space, relId } = options;
  let next = options.from;
  let failed = 0;
  const body = (start: number, end: number) => {
    const items: string[] = [];
    for (let k = start; k < end; k++) {
      const [a, b] = pairAt(space, k);
      items.push(
        `{"profile_a":{"profile_id":"${a}"},"profile_b":{"profile_id":"${b}"},"weights":${WEIGHTS_JSON}}`,
      );
    }
    return `{"rel_id":${relId},"items":[${items.join(',')}]}`;
  };
  const worker = async () => {
    while (next < options.to) {
      const start = next;
      const end = Math.min(options.to, start + BATCH);
      next = end;
      const res = await fetch(`${options.url}/api/v1.1/relations/attach_batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
        body: body(start, end),
      });
      const answer = (await res.json()) as { error: number; data?: { error: number }[] };
      if (answer.error !== 0)
        throw new Error(`attach_batch answered ${JSON.stringify(answer).slice(0, 300)}`);
      for (const item of answer.data ?? []) if (item.error !== 0) failed++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: options.inFlight }, worker));
  return { rows: options.to - options.from, failed, seconds: (performance.now() - started) / 1000 };
}

/** Writes pairs [from, to) as a CSV file `ties import relations` reads. */
export async function writeCsv(
  file: string,
  space: PairSpace,
  from: number,
  to: number,
  pair: (space: PairSpace, k: number) => readonly [string, string] = pairAt,
): Promise<void> {
  const out = createWriteStream(file);
  const w = ATTACH_WEIGHTS;
  const tail = `,${w.user_like},${w.donate},${w.is_online}\n`;
  let chunk = 'profile_a,profile_b,user_like,donate,is_online\n';
  for (let k = from; k < to; k++) {
    const [a, b] = pair(space, k);
    chunk += `${a},${b}${tail}`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      chunk = '';
    }
  }
  out.write(chunk);
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

/** The rows the raw baselines write, built before timing: the baseline is storage alone. */
function rawRows(
  space: PairSpace,
  from: number,
  to: number,
  relId: number,
): [string, number, string, string][] {
  const rows: [string, number, string, string][] = [];
  for (let k = from; k < to; k++) {
    const [a, b] = pairAt(space, k);
    rows.push([a, relId, b, WEIGHTS_JSON]);
  }
  return rows;
}

/**
 * The SQLite storage ceiling: the same relations into a plain table keyed (A, rel_id, B) with the
 * weights, with the store's own storage pragmas (WAL, synchronous=FULL, cache), BATCH rows per
 * transaction as Ties' group commit makes them for attach_batch calls.
 */
export function rawSqlite(
  file: string,
  space: PairSpace,
  from: number,
  to: number,
): { rows: number; seconds: number } {
  const db = new BetterSqlite3(file);
  try {
    for (const pragma of storagePragmas()) db.pragma(pragma);
    db.exec(
      'CREATE TABLE raw (a TEXT NOT NULL, rel_id INTEGER NOT NULL, b TEXT NOT NULL, weights TEXT NOT NULL, PRIMARY KEY (a, rel_id, b)) WITHOUT ROWID',
    );
    const insert = db.prepare('INSERT INTO raw (a, rel_id, b, weights) VALUES (?, ?, ?, ?)');
    const write = db.transaction((rows: readonly [string, number, string, string][]) => {
      for (const row of rows) insert.run(...row);
    });
    const rows = rawRows(space, from, to, 1);
    const started = performance.now();
    for (let i = 0; i < rows.length; i += BATCH) write(rows.slice(i, i + BATCH));
    return { rows: rows.length, seconds: (performance.now() - started) / 1000 };
  } finally {
    db.close();
  }
}

/** A pool on a database holding the raw table, for rounds of single-row INSERTs (see rawPg). */
export interface RawPg {
  /**
   * Inserts pairs [from, to) (rows built before timing) from `clients` loops; with `seconds`, the
   * loops stop taking rows at that deadline (a slice) and `rows` is how many were written.
   */
  insert(options: {
    readonly space: PairSpace;
    readonly from: number;
    readonly to: number;
    readonly clients: number;
    readonly seconds?: number;
  }): Promise<{ rows: number; seconds: number }>;
  end(): Promise<void>;
}

/** Opens the pool and creates the raw table, so that a slice's time is INSERTs only. */
export async function openRawPg(url: string, poolMax: number): Promise<RawPg> {
  const pool = new pg.Pool({ connectionString: url, max: poolMax });
  await pool.query(
    'CREATE TABLE IF NOT EXISTS bench_raw (a TEXT NOT NULL, rel_id INTEGER NOT NULL, b TEXT NOT NULL, weights JSONB NOT NULL, PRIMARY KEY (a, rel_id, b))',
  );
  return {
    async insert(options) {
      const rows = rawRows(options.space, options.from, options.to, 1);
      let next = 0;
      let deadline = Number.POSITIVE_INFINITY;
      const client = async () => {
        while (next < rows.length && performance.now() < deadline) {
          const row = rows[next++]!;
          await pool.query('INSERT INTO bench_raw (a, rel_id, b, weights) VALUES ($1, $2, $3, $4)', row);
        }
      };
      const started = performance.now();
      if (options.seconds !== undefined) deadline = started + options.seconds * 1000;
      await Promise.all(Array.from({ length: options.clients }, client));
      // A slice must last as long as the Ties slice it is compared with: too few rows is a bench bug.
      if (options.seconds !== undefined && next >= rows.length)
        throw new Error(`raw INSERT slice ran out of its ${rows.length} rows before ${options.seconds} s`);
      return { rows: next, seconds: (performance.now() - started) / 1000 };
    },
    end: () => pool.end(),
  };
}

/**
 * The PostgreSQL storage ceiling at a given concurrency: single-row INSERTs, each its own
 * transaction (as each Ties call is), from `clients` loops over a pool of `poolMax` connections.
 */
export async function rawPg(options: {
  readonly url: string;
  readonly space: PairSpace;
  readonly from: number;
  readonly to: number;
  readonly clients: number;
  readonly poolMax: number;
}): Promise<{ rows: number; seconds: number }> {
  const raw = await openRawPg(options.url, options.poolMax);
  try {
    return await raw.insert(options);
  } finally {
    await raw.end();
  }
}

/**
 * PostgreSQL's bulk-load ceiling: COPY of the CSV file `ties import` reads, by psql (\copy, the
 * client streaming the file), into a plain table keyed (A, B) with a column per property. Process
 * start included, as in the import's figure.
 */
export function rawPgCopy(url: string, csv: string): { seconds: number } {
  const psql = (command: string) =>
    execFileSync('psql', ['--no-psqlrc', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', command]);
  psql(
    'CREATE TABLE IF NOT EXISTS bench_copy (a TEXT NOT NULL, b TEXT NOT NULL, user_like INTEGER, donate INTEGER, is_online BOOLEAN, PRIMARY KEY (a, b))',
  );
  const started = performance.now();
  psql(`\\copy bench_copy FROM '${csv.replaceAll("'", "''")}' WITH (FORMAT csv, HEADER true)`);
  return { seconds: (performance.now() - started) / 1000 };
}

/**
 * `ties import` of the CSV into `db` (a SQLite file or a postgres:// URL), timed by /usr/bin/time:
 * wall and CPU of the import process, start included (run from the repository's root).
 */
export function tiesImport(
  csv: string,
  relId: number,
  db: string,
): Promise<{ seconds: number; cpu: number }> {
  const args = ['-f', 'TIME %e %U %S', process.execPath, 'bin/ties.js', 'import', 'relations', csv];
  const child = spawn('/usr/bin/time', [...args, '--rel-id', String(relId), '--db', db], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => {
      const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+)/.exec(out);
      if (code !== 0 || !m || !/ 0 failed /.test(out)) return reject(new Error(`ties import: ${out}`));
      resolve({ seconds: Number(m[1]), cpu: Number(m[2]) + Number(m[3]) });
    }),
  );
}
