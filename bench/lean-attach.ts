// Issue #11's side-by-side experiment for attach: Ties, a lean server doing the same storage work
// (bench/lean-attach-server.mjs) and the no-op, each on its own process, loaded in alternating
// slices of fresh attaches at 50 connections; prints each one's rate, ratio to the no-op and server
// CPU per call. `node --import tsx bench/lean-attach.ts [rounds]`; results in docs/benchmarks.md.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ATTACH_WEIGHTS, buildWorkspace } from './bench-fixtures.js';
import { load } from './bench-load.js';
import {
  BENCH_ADMIN_TOKEN,
  type ServerProcess,
  startLeanAttach,
  startNoop,
  startTies,
} from './bench-processes.js';

const rounds = Number(process.argv[2] ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'ties-lean-'));
const servers: ServerProcess[] = [];
try {
  const db = join(dir, 'ties.db');
  const w = await buildWorkspace(db, { as: 1_000, bs: 20_000, hub: 0, get100: false });
  // Ties writes its admin token at start; the lean server finds it in its copy.
  await (await startTies(db)).stop();
  copyFileSync(db, join(dir, 'lean.db'));
  const sides = [
    { name: 'ties', server: await startTies(db), offset: 0 },
    { name: 'lean', server: await startLeanAttach(join(dir, 'lean.db')), offset: 0 },
    { name: 'noop', server: await startNoop(), offset: 0 },
  ];
  servers.push(...sides.map((s) => s.server));
  const as = w.as.slice(1);
  const figures = new Map<string, { calls: number; seconds: number; cpuMs: number }>();
  const run = async (side: (typeof sides)[number], seconds: number) => {
    let k = side.offset;
    const body = () => {
      const a = as[k % as.length]!;
      const b = w.bs[Math.floor(k / as.length) % w.bs.length]!;
      k++;
      return JSON.stringify({
        rel_id: w.relId,
        profile_a: { profile_id: a },
        profile_b: { profile_id: b },
        weights: ATTACH_WEIGHTS,
      });
    };
    const cpu = side.server.cpuMs();
    const r = await load({
      url: side.server.url,
      path: '/api/v1.1/relations/attach',
      connections: 50,
      body,
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
  for (let round = 0; round < rounds; round++)
    for (const side of round % 2 ? [...sides].reverse() : sides) await run(side, 2);
  const noop = figures.get('noop')!;
  const out: Record<string, number> = { load_avg: loadavg()[0]! };
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
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
}
