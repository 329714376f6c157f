// Soak run: mixed relation calls (attach, strengthen, edit, get, get_counter, detach) from many
// keep-alive connections against a `ties serve` process for N minutes. Prints a line per interval
// (throughput, p50/p99 latency, errors, server RSS) and a JSON summary; PASS when the server's RSS
// after warm-up grows by at most 10% and no call failed, FAIL otherwise (exit code 1).
//
//   npm run soak -- --minutes 10 [--connections 32] [--interval 10] [--warmup 2]
//                   [--db ./soak.db | postgres://…] [--source]
//
// The server is the compiled `bin/ties.js` (run `npm run build` first), as in production; --source
// runs src/ through tsx instead. Not part of `npm test`.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { int } from '../src/config.js';
import { assertAggregatesMatchRows, type CallFn } from '../test/reliability/support.js';
import { duration, scriptArgs } from './script-args.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ADMIN = 'soak-admin-token-0123456789abcdef';

const USAGE = `npm run soak [-- options]

Mixed relation calls from many keep-alive connections against a \`ties serve\` process; PASS when
no call failed and the server's RSS after warm-up grew by at most 10% (exit 0), FAIL otherwise.

  --minutes N           length of the run (default 10)
  --connections N       keep-alive connections (default 32)
  --interval S          seconds between report lines (default 10)
  --warmup M            minutes before RSS is compared (default min(2, minutes / 5))
  --db PATH|URL         SQLite file or postgres:// URL (default a scratch SQLite file)
  --profiles-a N        profiles on side A (default 100)
  --profiles-b N        profiles on side B (default 1000)
  --source              run src/ through tsx instead of the compiled bin/ties.js
  --help                this text

Method and latest figures: docs/reliability.md`;

const COUNT_MAX = 1_000_000;

const opts = scriptArgs(
  USAGE,
  () =>
    parseArgs({
      options: {
        minutes: { type: 'string' },
        connections: { type: 'string' },
        interval: { type: 'string' },
        warmup: { type: 'string' },
        db: { type: 'string' },
        source: { type: 'boolean' },
        'profiles-a': { type: 'string' },
        'profiles-b': { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values,
  (v) => {
    const minutes = duration('--minutes', v.minutes ?? '10');
    return {
      minutes,
      connections: int('--connections', v.connections ?? '32', 1, 10_000),
      interval: duration('--interval', v.interval ?? '10'),
      // Warm-up: the page cache and V8's heap settle and the relation set reaches its steady size.
      warmup: v.warmup === undefined ? Math.min(2, minutes / 5) : duration('--warmup', v.warmup, true),
      db: v.db,
      source: v.source ?? false,
      profilesA: int('--profiles-a', v['profiles-a'] ?? '100', 1, COUNT_MAX),
      profilesB: int('--profiles-b', v['profiles-b'] ?? '1000', 1, COUNT_MAX),
    };
  },
);
const {
  minutes: MINUTES,
  connections: CONNECTIONS,
  interval: INTERVAL_S,
  warmup: WARMUP_MIN,
  profilesA: N_A,
  profilesB: N_B,
} = opts;
const RSS_GROWTH_LIMIT = 0.1;

/** Share of each call in the mix; attach and detach keep the relation set near a steady size. */
const MIX = [
  ['relations/attach', 15],
  ['relations/strengthen', 35],
  ['relations/edit', 10],
  ['relations/get', 15],
  ['relations/get_counter', 15],
  ['relations/detach', 10],
] as const;
type CallName = (typeof MIX)[number][0];
/** Answers that are the expected outcome of a random mix, not failures. */
const EXPECTED: Record<CallName, readonly number[]> = {
  'relations/attach': [0, 409],
  'relations/strengthen': [0],
  'relations/edit': [0],
  'relations/get': [0],
  'relations/get_counter': [0],
  'relations/detach': [0, 404],
};

// --- latency histogram: 2% wide log buckets, constant memory however long the run ------------------

class Histogram {
  private readonly counts = new Map<number, number>();
  count = 0;
  add(ms: number): void {
    const bucket = Math.floor(Math.log(Math.max(ms, 0.01)) / Math.log(1.02));
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
    this.count++;
  }
  merge(other: Histogram): void {
    for (const [b, c] of other.counts) this.counts.set(b, (this.counts.get(b) ?? 0) + c);
    this.count += other.count;
  }
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const target = Math.ceil(this.count * p);
    let seen = 0;
    for (const b of [...this.counts.keys()].sort((x, y) => x - y)) {
      seen += this.counts.get(b)!;
      if (seen >= target) return 1.02 ** (b + 1);
    }
    return Number.NaN;
  }
}

// --- the server process -------------------------------------------------------------------------

function rssMb(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

async function startServer(db: string): Promise<{ child: ChildProcess; url: string }> {
  const main = join(ROOT, 'dist', 'cli', 'main.js');
  if (!opts.source && !existsSync(main)) {
    throw new Error('dist/ is missing: run `npm run build` first, or pass --source to run src/ through tsx');
  }
  const serveArgs = ['serve', '--port', '0', '--db', db, '--log-level', 'warn'];
  const argv = opts.source
    ? [
        '--import',
        'tsx',
        '-e',
        `import(${JSON.stringify(join(ROOT, 'src', 'cli', 'main.ts'))}).then((m) => m.main(${JSON.stringify(serveArgs)})).then((c) => { process.exitCode = c; })`,
      ]
    : [join(ROOT, 'bin', 'ties.js'), ...serveArgs];
  const child = spawn(process.execPath, argv, {
    cwd: ROOT,
    env: { ...process.env, TIES_ADMIN_TOKEN: ADMIN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (d) => process.stderr.write(`[ties] ${d}`));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`ties serve exited with ${code}: ${out}`)));
  });
  return { child, url };
}

// --- the client: node:http with keep-alive, one socket per connection ------------------------------

const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });

interface Answer {
  readonly status: number;
  readonly body: Record<string, any>;
}

function post(url: string, name: string, params: Record<string, unknown>): Promise<Answer> {
  const payload = JSON.stringify(params);
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/v1.1/${name}`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          authorization: `Bearer ${ADMIN}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
            });
          } catch (err) {
            reject(err);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const caller =
  (url: string): CallFn =>
  async (name, params) =>
    (await post(url, name, params)).body;

async function must(url: string, name: string, params: Record<string, unknown>) {
  const answer = await post(url, name, params);
  if (answer.body.error !== 0) throw new Error(`${name}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function inParallel<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

// --- the run --------------------------------------------------------------------------------------

interface Sample {
  readonly t: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly rssMb: number;
}

async function main(): Promise<number> {
  const scratch = mkdtempSync(join(tmpdir(), 'ties-soak-'));
  const db = opts.db ?? join(scratch, 'soak.db');
  const { child, url } = await startServer(db);
  const engine = /^postgres(ql)?:\/\//i.test(db) ? 'postgres' : 'sqlite';
  console.log(
    `soak: ${MINUTES} min on ${engine} (${opts.source ? 'src via tsx' : 'dist'}), ${CONNECTIONS} connections, ` +
      `warm-up ${WARMUP_MIN} min, ${N_A}×${N_B} profiles, server pid ${child.pid} at ${url}`,
  );
  try {
    const dbA = (await must(url, 'databases/create', { name: 'soak authors' })).data.id;
    const dbB = (await must(url, 'databases/create', { name: 'soak readers' })).data.id;
    const relId = (
      await must(url, 'relations/types/create', {
        name: 'soak',
        db_a: dbA,
        db_b: dbB,
        properties: [
          { name: 'hits', type: 'int', top: 10, sum: true },
          { name: 'amount', type: 'float', top: 3, sum: true },
          { name: 'active', type: 'bool' },
          { name: 'note', type: 'string' },
        ],
      })
    ).data.rel_id;
    const add = (dbId: number) => async () =>
      (await must(url, 'profiles/add', { db_id: dbId, data: {} })).profile_id as string;
    const as = await inParallel(N_A, CONNECTIONS, add(dbA));
    const bs = await inParallel(N_B, CONNECTIONS, add(dbB));

    const rand = (n: number) => Math.floor(Math.random() * n);
    const totalWeight = MIX.reduce((s, [, w]) => s + w, 0);
    const pick = (): CallName => {
      let r = rand(totalWeight);
      for (const [name, w] of MIX) {
        r -= w;
        if (r < 0) return name;
      }
      return MIX[0][0];
    };
    const paramsOf = (name: CallName): Record<string, unknown> => {
      const a = as[rand(as.length)]!;
      const pair = {
        rel_id: relId,
        profile_a: { profile_id: a },
        profile_b: { profile_id: bs[rand(bs.length)] },
      };
      switch (name) {
        case 'relations/attach':
          return { ...pair, weights: { hits: 1 + rand(5), amount: rand(100) / 4, active: true, note: 'a' } };
        case 'relations/strengthen':
          return { ...pair, weights: { hits: rand(7) - 2, amount: (rand(40) - 10) / 8 } };
        case 'relations/edit':
          return { ...pair, weights: { active: rand(2) === 0, note: `n${rand(1000)}` } };
        case 'relations/get':
          return { rel_id: relId, profile_id: a, limit: 100 };
        case 'relations/get_counter':
          return { rel_id: relId, profile_id: a };
        case 'relations/detach':
          return pair;
      }
    };

    let interval = new Histogram();
    const total = new Histogram();
    let intervalCalls = 0;
    let intervalErrors = 0;
    let errors = 0;
    const errorSamples: string[] = [];
    const calls = new Map<string, number>();
    let stopping = false;

    const worker = async () => {
      while (!stopping) {
        const name = pick();
        const started = performance.now();
        let failure: string | undefined;
        try {
          const answer = await post(url, name, paramsOf(name));
          if (!EXPECTED[name].includes(answer.body.error)) {
            failure = `${name}: HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`;
          }
        } catch (err) {
          failure = `${name}: ${String(err)}`;
        }
        interval.add(performance.now() - started);
        intervalCalls++;
        calls.set(name, (calls.get(name) ?? 0) + 1);
        if (failure) {
          intervalErrors++;
          errors++;
          if (errorSamples.length < 10) errorSamples.push(failure);
        }
      }
    };

    const samples: Sample[] = [];
    const startedAt = performance.now();
    const workers = Array.from({ length: CONNECTIONS }, () => worker());
    const durationMs = MINUTES * 60_000;
    let last = startedAt;
    // A last stretch shorter than a second is not worth a line; its calls still count in the total.
    while (durationMs - (performance.now() - startedAt) >= 1000) {
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(INTERVAL_S * 1000, durationMs - (last - startedAt))),
      );
      const now = performance.now();
      const sample: Sample = {
        t: Math.round((now - startedAt) / 1000),
        rps: Math.round(intervalCalls / ((now - last) / 1000)),
        p50: interval.percentile(0.5),
        p99: interval.percentile(0.99),
        errors: intervalErrors,
        rssMb: rssMb(child.pid!),
      };
      samples.push(sample);
      total.merge(interval);
      interval = new Histogram();
      intervalCalls = 0;
      intervalErrors = 0;
      last = now;
      const phase = sample.t <= WARMUP_MIN * 60 ? ' (warm-up)' : '';
      console.log(
        `t=${String(sample.t).padStart(5)}s  ${String(sample.rps).padStart(6)} calls/s  ` +
          `p50 ${sample.p50.toFixed(2).padStart(6)} ms  p99 ${sample.p99.toFixed(2).padStart(7)} ms  ` +
          `errors ${sample.errors}  rss ${sample.rssMb.toFixed(1)} MiB${phase}`,
      );
    }
    stopping = true;
    await Promise.all(workers);
    total.merge(interval);

    // After the load: the maintained aggregates still equal a recomputation from the rows.
    const relations = await assertAggregatesMatchRows(caller(url), relId, as).then(
      (n) => ({ ok: true, relations: n }),
      (err: unknown) => ({ ok: false, relations: 0, error: String(err).slice(0, 500) }),
    );

    const steady = samples.filter((s) => s.t > WARMUP_MIN * 60 && !Number.isNaN(s.rssMb));
    const mean = (xs: readonly Sample[]) => xs.reduce((s, x) => s + x.rssMb, 0) / xs.length;
    const k = Math.max(1, Math.min(3, Math.floor(steady.length / 3)));
    const rssAfterWarmup = steady.length ? mean(steady.slice(0, k)) : Number.NaN;
    const rssAtEnd = steady.length ? mean(steady.slice(-k)) : Number.NaN;
    const rssMax = steady.length ? Math.max(...steady.map((s) => s.rssMb)) : Number.NaN;
    const growth = rssAtEnd / rssAfterWarmup - 1;
    const rssPass = Number.isFinite(growth) && growth <= RSS_GROWTH_LIMIT;
    const seconds = (performance.now() - startedAt) / 1000;
    const summary = {
      engine,
      minutes: MINUTES,
      connections: CONNECTIONS,
      warmupMinutes: WARMUP_MIN,
      calls: total.count,
      callsByName: Object.fromEntries([...calls].sort()),
      throughput: Math.round(total.count / seconds),
      p50Ms: Number(total.percentile(0.5).toFixed(2)),
      p99Ms: Number(total.percentile(0.99).toFixed(2)),
      errors,
      errorSamples,
      rssMb: {
        afterWarmup: Number(rssAfterWarmup.toFixed(1)),
        atEnd: Number(rssAtEnd.toFixed(1)),
        maxAfterWarmup: Number(rssMax.toFixed(1)),
        growthPercent: Number((growth * 100).toFixed(1)),
      },
      aggregatesCheck: relations,
      rssPass,
      pass: rssPass && errors === 0 && relations.ok,
    };
    // SIGTERM: the server finishes, flushes and must exit 0.
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    const result = { ...summary, serverExitCode: code, pass: summary.pass && code === 0 };
    console.log(JSON.stringify(result, null, 2));
    console.log(
      result.pass
        ? `PASS: RSS grew ${summary.rssMb.growthPercent}% after warm-up (limit ${RSS_GROWTH_LIMIT * 100}%), no errors`
        : `FAIL: RSS growth ${summary.rssMb.growthPercent}% (limit ${RSS_GROWTH_LIMIT * 100}%), ${errors} errors, ` +
            `aggregates ${relations.ok ? 'ok' : 'MISMATCH'}, server exit ${code}`,
    );
    return result.pass ? 0 : 1;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    agent.destroy();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
