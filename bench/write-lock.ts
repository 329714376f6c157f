// What a `ties serve` process on a SQLite file answers while another process holds the file's write
// lock (issue #12, item 5): reads, /health and writes are sent throughout; the lock is held for
// --hold-ms, then released. Prints the latency of reads and /health while the lock was held, and
// what became of each write (answered while locked or after, success or 503). Not part of npm test.
//
//   node --import tsx bench/write-lock.ts [--writer inline|worker] [--hold-ms 10000]
//        [--busy-timeout-ms N] [--read-every-ms 50] [--write-every-ms 500]
//
// The server runs from source (tsx), as the reliability tests start it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { int, oneOf, SQLITE_WRITERS } from '../src/config.js';
import { httpCaller, startTiesProcess } from '../test/reliability/support.js';
import { holdWriteLock } from '../test/support/lock-holder.js';
import { scriptArgs } from './script-args.js';

const USAGE = `node --import tsx bench/write-lock.ts [options]

Starts \`ties serve\` on a scratch SQLite file, makes another process hold the file's write lock,
and measures reads, /health and writes sent meanwhile.

  --writer W              inline (default) or worker: TIES_SQLITE_WRITER of the server
  --hold-ms N             how long the other process holds the lock (default 10000)
  --busy-timeout-ms N     TIES_SQLITE_BUSY_TIMEOUT_MS of the server (default: the server's default)
  --read-every-ms N       a read (get_counter) and a /health every N ms (default 50)
  --write-every-ms N      an attach every N ms (default 500)
  --help                  this text`;

const opts = scriptArgs(
  USAGE,
  () =>
    parseArgs({
      options: {
        writer: { type: 'string' },
        'hold-ms': { type: 'string' },
        'busy-timeout-ms': { type: 'string' },
        'read-every-ms': { type: 'string' },
        'write-every-ms': { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values,
  (v) => ({
    writer: oneOf('--writer', v.writer ?? 'inline', SQLITE_WRITERS),
    holdMs: int('--hold-ms', v['hold-ms'] ?? '10000', 100, 600_000),
    busyTimeoutMs: v['busy-timeout-ms'] === undefined ? undefined : v['busy-timeout-ms'],
    readEveryMs: int('--read-every-ms', v['read-every-ms'] ?? '50', 1, 10_000),
    writeEveryMs: int('--write-every-ms', v['write-every-ms'] ?? '500', 1, 60_000),
  }),
);

const ADMIN = 'write-lock-bench-admin-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'ties-write-lock-'));
const db = join(dir, 'locked.db');
const env: Record<string, string> = { TIES_ADMIN_TOKEN: ADMIN, TIES_SQLITE_WRITER: opts.writer };
if (opts.busyTimeoutMs !== undefined) env.TIES_SQLITE_BUSY_TIMEOUT_MS = opts.busyTimeoutMs;
const server = await startTiesProcess(db, env);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
const ms = (x: number) => Math.round(x * 10) / 10;
function summary(latencies: number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: ms(quantile(sorted, 0.5)),
    p99: ms(quantile(sorted, 0.99)),
    max: ms(sorted.at(-1) ?? Number.NaN),
  };
}

try {
  const call = httpCaller(server.url, ADMIN);
  const must = async (name: string, params: Record<string, unknown>) => {
    const answer = await call(name, params);
    if (answer.error !== 0) throw new Error(`${name}: ${answer.error} ${answer.error_text}`);
    return answer;
  };
  const dbId = (await must('databases/create', { name: 'people' })).data.id as number;
  const relId = (
    await must('relations/types/create', {
      name: 'likes',
      db_a: dbId,
      db_b: dbId,
      properties: [{ name: 'hits', type: 'int' }],
    })
  ).data.rel_id as number;
  const profile = async () => (await must('profiles/add', { db_id: dbId, data: {} })).profile_id as string;
  const a = await profile();
  const bs: string[] = [];
  for (let i = 0; i < 200; i++) bs.push(await profile());

  const holder = await holdWriteLock(db);
  const lockedAt = performance.now();
  let releasedAt = Number.POSITIVE_INFINITY;
  const reads: number[] = [];
  const health: number[] = [];
  const readErrors: string[] = [];
  const writes: Promise<{ error: number; sentMs: number; answeredMs: number; text: string }>[] = [];
  const timed = async <T>(into: number[], fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const value = await fn();
    if (started < releasedAt) into.push(performance.now() - started);
    return value;
  };

  let next = 0;
  const writer = setInterval(() => {
    const b = bs[next++ % bs.length]!;
    const sentMs = performance.now() - lockedAt;
    writes.push(
      call('relations/attach', {
        rel_id: relId,
        profile_a: { profile_id: a },
        profile_b: { profile_id: b },
        weights: { hits: 1 },
      }).then((answer) => ({
        error: Number(answer.error),
        sentMs,
        answeredMs: performance.now() - lockedAt,
        text: String(answer.error_text ?? ''),
      })),
    );
  }, opts.writeEveryMs);

  while (performance.now() - lockedAt < opts.holdMs) {
    const [counter, status] = await Promise.all([
      timed(reads, () => call('relations/get_counter', { rel_id: relId, profile_id: a })),
      timed(health, async () => (await fetch(`${server.url}/health`)).status),
    ]);
    if (counter.error !== 0) readErrors.push(`get_counter ${counter.error} ${counter.error_text}`);
    if (status !== 200) readErrors.push(`/health ${status}`);
    await sleep(opts.readEveryMs);
  }
  clearInterval(writer);
  releasedAt = performance.now();
  await holder.release();
  const holdMs = releasedAt - lockedAt;
  const settled = await Promise.all(writes);
  const during = settled.filter((w) => w.answeredMs < holdMs);
  const after = settled.filter((w) => w.answeredMs >= holdMs);
  const count = (list: typeof settled, error: number) => list.filter((w) => w.error === error).length;
  const result = {
    writer: opts.writer,
    busyTimeoutMs: opts.busyTimeoutMs ?? '(default)',
    heldMs: Math.round(holdMs),
    readsWhileLocked: summary(reads),
    healthWhileLocked: summary(health),
    readErrors: readErrors.slice(0, 5),
    writes: {
      sent: settled.length,
      answeredWhileLocked: { ok: count(during, 0), unavailable: count(during, 503) },
      answeredAfterRelease: { ok: count(after, 0), unavailable: count(after, 503) },
      waitMs: summary(settled.map((w) => w.answeredMs - w.sentMs)),
      firstError: settled.find((w) => w.error !== 0)?.text,
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await server.stop('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
