// Issue #11's side-by-side experiment for the hot writes: Ties, a lean server doing the same storage
// work (bench/lean-attach-server.mjs) and the no-op, each on its own process, loaded in alternating
// slices at 50 connections; prints each one's rate, ratio to the no-op and server CPU per call.
// Workloads: `attach` (fresh pairs, as the bench's attach) and `strengthen` (the bench's
// strengthen_hot: one relation of a profile A with 100 relations, `user_like +1, donate +5`).
// `node --import tsx bench/lean-attach.ts [--workload attach|strengthen] [--rounds N]`;
// results in docs/benchmarks.md.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, int } from '../src/config.js';
import { ATTACH_WEIGHTS, buildWorkspace, copyStoreFile, type Workspace } from './bench-fixtures.js';
import { load } from './bench-load.js';
import {
  BENCH_ADMIN_TOKEN,
  type ServerProcess,
  startLeanAttach,
  startNoop,
  startTies,
} from './bench-processes.js';
import { scriptArgs } from './script-args.js';

const USAGE = `usage: node --import tsx bench/lean-attach.ts [--workload attach|strengthen] [--rounds N] [--seconds N]
  --workload W   attach (fresh pairs, default) or strengthen (the bench's strengthen_hot)
  --rounds N     rounds of Ties / lean / no-op slices, alternating (default 3)
  --seconds N    length of one slice (default 2)`;
const WORKLOADS = ['attach', 'strengthen'] as const;
const opts = scriptArgs(
  USAGE,
  () => {
    const { values, positionals } = parseArgs({
      allowPositionals: true,
      options: {
        workload: { type: 'string' },
        rounds: { type: 'string' },
        seconds: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
    return { ...values, first: positionals[0] };
  },
  (v) => {
    const workload = v.workload ?? 'attach';
    if (!(WORKLOADS as readonly string[]).includes(workload))
      throw new ConfigError(`--workload: expected one of ${WORKLOADS.join(', ')}, got "${workload}"`);
    return {
      workload: workload as (typeof WORKLOADS)[number],
      // The rounds may also be given alone, as the first version of this script took them.
      rounds: int('--rounds', v.rounds ?? v.first ?? '3', 1, 100),
      seconds: int('--seconds', v.seconds ?? '2', 1, 600),
    };
  },
);

/** What one side is loaded with: the call's path and a body per request (or one fixed body). */
function workloadOf(w: Workspace): { path: string; body: (k: number) => string } {
  if (opts.workload === 'strengthen') {
    const hot = `{"rel_id":${w.relId},"profile_a":{"profile_id":"${w.as[1]}"},"profile_b":{"profile_id":"${w.bs[0]}"},"weights":{"user_like":1,"donate":5}}`;
    return { path: '/api/v1.1/relations/strengthen', body: () => hot };
  }
  // as[0] (the hub, none here) and as[1] (100 relations when built) are left out of fresh pairs.
  const as = w.as.slice(2);
  return {
    path: '/api/v1.1/relations/attach',
    body: (k) =>
      JSON.stringify({
        rel_id: w.relId,
        profile_a: { profile_id: as[k % as.length]! },
        profile_b: { profile_id: w.bs[Math.floor(k / as.length) % w.bs.length]! },
        weights: ATTACH_WEIGHTS,
      }),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'ties-lean-'));
const servers: ServerProcess[] = [];
try {
  const db = join(dir, 'ties.db');
  const w = await buildWorkspace(db, {
    as: 1_000,
    bs: 20_000,
    hub: 0,
    get100: opts.workload === 'strengthen',
  });
  // Ties writes its admin token at start; the lean server finds it in its copy.
  await (await startTies(db)).stop();
  copyStoreFile(db, join(dir, 'lean.db'));
  const sides = [
    { name: 'ties', server: await startTies(db), offset: 0 },
    { name: 'lean', server: await startLeanAttach(join(dir, 'lean.db')), offset: 0 },
    { name: 'noop', server: await startNoop(), offset: 0 },
  ];
  servers.push(...sides.map((s) => s.server));
  const { path, body } = workloadOf(w);
  const figures = new Map<string, { calls: number; seconds: number; cpuMs: number }>();
  const run = async (side: (typeof sides)[number], seconds: number) => {
    let k = side.offset;
    const cpu = side.server.cpuMs();
    const r = await load({
      url: side.server.url,
      path,
      connections: 50,
      body: () => body(k++),
      token: BENCH_ADMIN_TOKEN,
      seconds,
    });
    side.offset = k;
    if (r.failures > 0) process.stdout.write(`  ${side.name}: ${r.failures} failed requests\n`);
    const f = figures.get(side.name) ?? { calls: 0, seconds: 0, cpuMs: 0 };
    figures.set(side.name, {
      calls: f.calls + r.requests,
      seconds: f.seconds + seconds,
      cpuMs: f.cpuMs + side.server.cpuMs() - cpu,
    });
  };
  for (const side of sides) await run(side, 1);
  figures.clear();
  for (let round = 0; round < opts.rounds; round++)
    for (const side of round % 2 ? [...sides].reverse() : sides) await run(side, opts.seconds);
  const noop = figures.get('noop')!;
  const out: Record<string, number | string> = { workload: opts.workload, load_avg: loadavg()[0]! };
  for (const [name, f] of figures) {
    const rps = f.calls / f.seconds;
    const cpuUs = (f.cpuMs * 1000) / f.calls;
    out[`${name}_rps`] = Math.round(rps);
    out[`${name}_ratio`] = Number((rps / (noop.calls / noop.seconds)).toFixed(3));
    out[`${name}_cpu_us`] = Math.round(cpuUs);
    process.stdout.write(
      `${name.padEnd(5)} ${Math.round(rps)} req/s  ratio ${(rps / (noop.calls / noop.seconds)).toFixed(2)}  server CPU ${Math.round(cpuUs)} µs/call\n`,
    );
  }
  const ties = figures.get('ties')!;
  const lean = figures.get('lean')!;
  out.ties_vs_lean = Number((ties.calls / lean.calls).toFixed(3));
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
}
