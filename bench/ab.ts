// A/B of two builds of Ties on one workload: this checkout's `dist/` and another build's (a copy of
// an earlier `bin/` + `dist/` + package.json, node_modules linked), each serving its own copy of the
// same workspace, loaded in alternating slices so both see the same background load. Prints each
// side's rate and server CPU per call. For measuring one change to the per-request path:
//   cp -r dist bin package.json /tmp/base/ && ln -s $PWD/node_modules /tmp/base/   (before the change)
//   npm run build && node --import tsx bench/ab.ts --base /tmp/base --workload get100 --rounds 6
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ATTACH_WEIGHTS, buildWorkspace, copyStoreFile } from './bench-fixtures.js';
import { load } from './bench-load.js';
import { BENCH_ADMIN_TOKEN, type ServerProcess, startTies } from './bench-processes.js';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    workload: { type: 'string', default: 'attach' },
    rounds: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '2' },
    connections: { type: 'string' },
  },
});
if (!values.base) throw new Error('--base DIR (a build with bin/ties.js) is required');
const workload = values.workload!;
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = Number(values.connections ?? (workload === 'counter' ? 10 : 50));

const dir = mkdtempSync(join(tmpdir(), 'ties-ab-'));
const servers: ServerProcess[] = [];
try {
  const db = join(dir, 'new.db');
  const w = await buildWorkspace(db, { as: 1_000, bs: 20_000, hub: 20_000, get100: true });
  await (await startTies(db)).stop();
  copyStoreFile(db, join(dir, 'base.db'));
  const sides = [
    {
      name: 'base',
      server: await startTies(join(dir, 'base.db'), {}, [], join(values.base, 'bin/ties.js')),
      k: 0,
    },
    { name: 'new', server: await startTies(db), k: 0 },
  ];
  servers.push(...sides.map((s) => s.server));
  const as = w.as.slice(2);
  const bodyOf = (side: (typeof sides)[number]): { path: string; body: string | (() => string) } => {
    const rel = w.relId;
    switch (workload) {
      case 'attach':
        return {
          path: 'relations/attach',
          body: () => {
            const k = side.k++;
            return JSON.stringify({
              rel_id: rel,
              profile_a: { profile_id: as[k % as.length] },
              profile_b: { profile_id: w.bs[Math.floor(k / as.length) % w.bs.length] },
              weights: ATTACH_WEIGHTS,
            });
          },
        };
      case 'strengthen':
        return {
          path: 'relations/strengthen',
          body: `{"rel_id":${rel},"profile_a":{"profile_id":"${w.as[1]}"},"profile_b":{"profile_id":"${w.bs[0]}"},"weights":{"user_like":1,"donate":5}}`,
        };
      case 'get100':
        return { path: 'relations/get', body: JSON.stringify({ rel_id: rel, profile_id: w.as[1] }) };
      case 'counter':
        return { path: 'relations/get_counter', body: JSON.stringify({ rel_id: rel, profile_id: w.as[0] }) };
      default:
        throw new Error(`unknown workload ${workload}`);
    }
  };
  const figures = new Map<string, { calls: number; cpuMs: number; seconds: number }>();
  const run = async (side: (typeof sides)[number], s: number) => {
    const { path, body } = bodyOf(side);
    const cpu = side.server.cpuMs();
    const r = await load({
      url: side.server.url,
      path: `/api/v1.1/${path}`,
      connections,
      body,
      token: BENCH_ADMIN_TOKEN,
      seconds: s,
    });
    if (r.failures > 0) process.stdout.write(`  ${side.name}: ${r.failures} failed requests\n`);
    const f = figures.get(side.name) ?? { calls: 0, cpuMs: 0, seconds: 0 };
    figures.set(side.name, {
      calls: f.calls + r.requests,
      cpuMs: f.cpuMs + side.server.cpuMs() - cpu,
      seconds: f.seconds + s,
    });
  };
  for (const side of sides) await run(side, 1);
  figures.clear();
  for (let round = 0; round < rounds; round++)
    for (const side of round % 2 ? [...sides].reverse() : sides) await run(side, seconds);
  const out: Record<string, number | string> = { workload, load_avg: loadavg()[0]! };
  for (const [name, f] of figures) {
    out[`${name}_rps`] = Math.round(f.calls / f.seconds);
    out[`${name}_cpu_us`] = Math.round((f.cpuMs * 1000) / f.calls);
    process.stdout.write(
      `${name.padEnd(5)} ${Math.round(f.calls / f.seconds)} req/s  server CPU ${Math.round((f.cpuMs * 1000) / f.calls)} µs/call\n`,
    );
  }
  const b = figures.get('base')!;
  const n = figures.get('new')!;
  out.new_vs_base_rps = Number((n.calls / n.seconds / (b.calls / b.seconds)).toFixed(3));
  out.new_vs_base_cpu = Number((n.cpuMs / n.calls / (b.cpuMs / b.calls)).toFixed(3));
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  for (const s of servers) await s.stop();
  rmSync(dir, { recursive: true, force: true });
}
