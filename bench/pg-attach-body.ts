// The backend CPU of one attach's function body alone, without the per-call costs around it
// (protocol, transaction start, COMMIT and its WAL flush): on one connection, batches of attaches
// as one statement (a LATERAL call per pair) inside a transaction rolled back, so each batch
// attaches the same fresh pairs (distinct As and Bs, no row written twice in a batch). Alternating
// slices of this checkout's ties_attach, of `ties_attach` from the function file of another
// checkout (--base, created here as ties_attach_base) and of the lean server's lean_attach
// (bench/pg-lean-attach-server.mjs); CPU from /proc/<backend pid>/stat. An A/B of a change to
// ties_attach whose effect the whole-call bench (bench/pg-lean-attach.ts) cannot resolve: there the
// body is a small part of a call and the load of a shared machine moves each slice by more.
//   node --import tsx bench/pg-attach-body.ts [--rounds N] [--calls N] [--base DIR] [--pg-url URL]
// Prints per side the mean backend µs per attach and the per-round ratios to ties, then one JSON line.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { int } from '../src/config.js';
import { ATTACH_WEIGHTS, buildWorkspace } from './bench-fixtures.js';
import { cpuMs } from './bench-processes.js';
import { dropPgDbs, freshPgDb, PG_ADMIN_URL } from './pg-scratch.js';
import { scriptArgs } from './script-args.js';

const USAGE = `usage: node --import tsx bench/pg-attach-body.ts [--rounds N] [--calls N] [--base DIR] [--pg-url URL]
  --rounds N     rounds of ties / base / lean slices, alternating (default 8)
  --calls N      attaches per slice, in batches of 400 (default 8000)
  --base DIR     also run ties_attach from the checkout DIR's function file (side \`base\`), e.g. main's
  --pg-url URL   a PostgreSQL server's admin URL (a scratch database is made and dropped there)`;
const opts = scriptArgs(
  USAGE,
  () =>
    parseArgs({
      options: {
        rounds: { type: 'string' },
        calls: { type: 'string' },
        base: { type: 'string' },
        'pg-url': { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values,
  (v) => ({
    rounds: int('--rounds', v.rounds ?? '8', 1, 100),
    calls: int('--calls', v.calls ?? '8000', 400, 1_000_000),
    base: v.base,
    pgUrl: v['pg-url'] ?? PG_ADMIN_URL,
  }),
);

const BATCH = 400;
const NAME = `ties_pgbody_${process.pid}`;

/** The CREATE FUNCTION of ties_attach in a function file, renamed. */
function baseAttach(dir: string): string {
  const sql = readFileSync(join(dir, 'src/store/postgres/sql/functions/04-relation-writes.sql'), 'utf8');
  const from = sql.indexOf('CREATE FUNCTION ties_attach(');
  if (from < 0) throw new Error(`pg-attach-body: no ties_attach in ${dir}`);
  return sql
    .slice(from, sql.indexOf('$f$;', from) + 4)
    .replace('CREATE FUNCTION ties_attach(', 'CREATE FUNCTION ties_attach_base(');
}

/** lean_attach as the lean server creates it (its rows layout). */
function leanAttach(): string {
  const src = readFileSync(new URL('./pg-lean-attach-server.mjs', import.meta.url), 'utf8');
  const part = (name: string) => src.match(new RegExp(`const ${name} = \`([\\s\\S]*?)\`;`))![1]!;
  return part('LEAN_ATTACH').replace('__STATS__', part('ROWS'));
}

const call = (side: string) =>
  side === 'lean'
    ? '(SELECT lean_attach($1, u.a, u.b, $4::jsonb, $5) AS status)'
    : `${side === 'base' ? 'ties_attach_base' : 'ties_attach'}($1, jsonb_build_object('by', 'id', 'id', u.a),
         jsonb_build_object('by', 'id', 'id', u.b), $4::jsonb, $5, 'relations/attach')`;

const url = await freshPgDb(opts.pgUrl, NAME);
const client = new pg.Client({ connectionString: url });
try {
  const w = await buildWorkspace(url, { as: 1_000, bs: 20_000, hub: 0, get100: false });
  await client.connect();
  if (opts.base) await client.query(baseAttach(opts.base));
  await client.query(leanAttach());
  const pid: number = (await client.query('SELECT pg_backend_pid() AS p')).rows[0].p;
  const as = w.as.slice(2, 2 + BATCH);
  const bs = w.bs.slice(0, BATCH);
  const values = [w.relId, as, bs, JSON.stringify(ATTACH_WEIGHTS), new Date().toISOString()];
  /** Backend CPU µs per attach over one slice. */
  const slice = async (side: string): Promise<number> => {
    const c0 = cpuMs(pid);
    for (let done = 0; done < opts.calls; done += BATCH) {
      await client.query('BEGIN');
      const { rows } = await client.query({
        name: `body_${side}`,
        text: `SELECT count(*) FILTER (WHERE r.status = 'ok')::int AS n
                 FROM unnest($2::text[], $3::text[]) AS u(a, b), LATERAL ${call(side)} r`,
        values,
      });
      await client.query('ROLLBACK');
      if (rows[0].n !== BATCH) throw new Error(`pg-attach-body: ${side} attached ${rows[0].n} of ${BATCH}`);
    }
    return ((cpuMs(pid) - c0) * 1000) / opts.calls;
  };
  const sides = ['ties', ...(opts.base ? ['base'] : []), 'lean'];
  for (const side of sides) await slice(side); // plans cached, pages read
  const us = new Map(sides.map((s) => [s, [] as number[]]));
  for (let r = 0; r < opts.rounds; r++) {
    const order = r % 2 ? [...sides].reverse() : sides;
    for (const side of order) us.get(side)!.push(await slice(side));
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const ties = us.get('ties')!;
  const out: Record<string, unknown> = {
    started: new Date().toISOString(),
    load_avg: loadavg()[0],
    calls: opts.calls,
  };
  for (const side of sides) {
    const mine = us.get(side)!;
    const ratios = mine.map((x, i) => x / ties[i]!);
    out[`${side}_backend_us`] = Math.round(mean(mine));
    if (side !== 'ties') out[`${side}_vs_ties_median`] = +median(ratios).toFixed(3);
    process.stdout.write(
      `${side.padEnd(5)} ${String(Math.round(mean(mine))).padStart(5)} µs per attach; per round ÷ ties ${ratios.map((x) => x.toFixed(2)).join(', ')}\n`,
    );
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  await client.end().catch(() => {});
  await dropPgDbs(opts.pgUrl, [NAME]);
}
