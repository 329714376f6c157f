// Issue #11's lean experiment for `import_vs_raw_copy` on PostgreSQL, on today's layout: the bench's
// bulk CSV (scattered relations over 1,000 A × 1,000 B, the bench's type; --as/--bs for the full
// bench's 10,000 × 10,000) loaded three ways into
// fresh databases copied from one workspace, in alternating order per round:
//   copy    `psql \copy` into a plain table (bench-bulk.ts rawPgCopy, the bench's baseline);
//   lean    one psql transaction of plain SQL doing set-wise exactly the rows `ties import` writes
//           (09-bulk.sql ties_attach_many, 03-aggregates.sql ties_apply): relations, relations_by_b,
//           relation_stats (A's total, B's total, A's row per property with the int sums, in this
//           connection's slot, INSERT … ON CONFLICT as Ties merges them) and the change-log events
//           (the feed is on by default) — plus Ties' one read that decides anything here, both
//           profiles looked up (rows naming a missing one dropped), and the top rows of the As past
//           64 relations (migration 009; none at the quick bench's 50 per A). Left out, as no write
//           depends on them: advisory locks, the top-row marks read, per-item answers, chunking. Timed per statement (psql's \timing), with its backend's CPU;
//   chunked (with --chunk N) the same writes committed chunk by chunk as `ties import` commits them:
//           the file \copy'd into an unlogged table, then two psql sessions (as ties import keeps
//           two chunks in flight) each taking every other chunk, one transaction per chunk, the
//           chunk sizes ties import's (N, doubling every eighth chunk up to --chunk-max). Per chunk:
//           both profiles looked up, relations, relations_by_b, the aggregate merge, then under one
//           advisory lock held to COMMIT (in place of Ties' bucket locks and the feed's lock) the
//           As' marks and totals read, the top rows of the As it takes past 64 relations built from
//           their relations, those of the As marked before written for its own relations, and the
//           change log. What it shows: the rate of Ties' writes in Ties' transactions, without
//           Ties' per-item work (JSON items, answers, per-kind lookups);
//   import  `ties import` of the same file (process start included, as the bench has it).
// After each round the lean database's rows are checked equal to the import's (slots summed), so
// the lean load is Ties' writes and not fewer.
//   node --import tsx bench/pg-lean-load.ts [--rows 50000] [--rounds 3] [--chunk N [--chunk-max N]] [--pg-url URL]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { int } from '../src/config.js';
import { rawPgCopy, tiesImport, writeCsv } from './bench-bulk.js';
import { buildWorkspace, type Workspace } from './bench-fixtures.js';
import { dropPgDbs, freshPgDb, PG_ADMIN_URL, pgAdmin } from './pg-scratch.js';
import { scriptArgs } from './script-args.js';

const USAGE = `usage: node --import tsx bench/pg-lean-load.ts [--rows N] [--as N] [--bs N] [--rounds N] [--pg-url URL]
  --rows N       relations in the CSV (default 50,000)
  --as N, --bs N profiles on each side (default 1,000 each; the full bench: 10,000 each)
  --rounds N     rounds of copy / lean / ties import, alternating (default 3)
  --chunk N      also load it chunk by chunk (two sessions, a transaction per chunk), chunks of N
                 growing as ties import's on PostgreSQL: 8000 with --chunk-max 32000
  --chunk-max N  what the chunks grow to, doubling every eighth (default: --chunk)
  --pg-url URL   a PostgreSQL server's admin URL (scratch databases are made and dropped there)`;
const opts = scriptArgs(
  USAGE,
  () =>
    parseArgs({
      options: {
        rows: { type: 'string' },
        as: { type: 'string' },
        bs: { type: 'string' },
        rounds: { type: 'string' },
        chunk: { type: 'string' },
        'chunk-max': { type: 'string' },
        'pg-url': { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values,
  (v) => ({
    rows: int('--rows', v.rows ?? '50000', 1, 10_000_000),
    as: int('--as', v.as ?? '1000', 1, 1_000_000),
    bs: int('--bs', v.bs ?? '1000', 1, 1_000_000),
    rounds: int('--rounds', v.rounds ?? '3', 1, 100),
    chunk: v.chunk === undefined ? undefined : int('--chunk', v.chunk, 1, 1_000_000),
    chunkMax: v['chunk-max'] === undefined ? undefined : int('--chunk-max', v['chunk-max'], 1, 1_000_000),
    pgUrl: v['pg-url'] ?? PG_ADMIN_URL,
  }),
);

const NOW = '2026-12-04T00:00:00.000Z';
const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** A staged table's columns: ord, a, b and the three property values, as the CSV has them. */
const STAGE_COLUMNS = `ord serial, a text COLLATE "C", b text COLLATE "C", user_like integer, donate integer,
  is_online boolean`;

/**
 * The writes both lean loads make from a staged table `from` (the whole file, or one chunk):
 * relations, their by-B entries, the aggregate merge and the change-log events, as Ties writes
 * them for the bench's type; and the top-keeping properties' values of a row alias `t` (a LATERAL
 * source of (name, v)).
 */
function stagedWrites(w: Workspace, from: string) {
  const rel = w.relId;
  const now = quote(NOW);
  // The weights as Ties stores them (jsonb of the three properties).
  const weights = "jsonb_build_object('user_like', user_like, 'donate', donate, 'is_online', is_online)";
  return {
    relations: `INSERT INTO relations (a, rel_id, b, weights, created_at, updated_at)
       SELECT a, ${rel}, b, ${weights}, ${now}, ${now} FROM ${from} ORDER BY a, b
       ON CONFLICT DO NOTHING;`,
    byB: `INSERT INTO relations_by_b (b, rel_id, a) SELECT b, ${rel}, a FROM ${from} ORDER BY b, a;`,
    // ties_attach_many's grouping and ties_apply's upsert, written out for the bench's type
    // (user_like and donate keep int sums, is_online is counted; no float sum to carry).
    stats: `INSERT INTO relation_stats AS s (profile_id, rel_id, side, prop, slot, count, isum)
       SELECT d.profile_id, ${rel}, d.side, d.prop, ties_slot(), d.n, d.isum
         FROM (SELECT a AS profile_id, 'a' AS side, 0 AS ord, '' AS prop, count(*) AS n, 0::numeric AS isum
                 FROM ${from} GROUP BY a
               UNION ALL SELECT b, 'b', 0, '', count(*), 0 FROM ${from} GROUP BY b
               UNION ALL SELECT a, 'a', 1, 'user_like', count(user_like), sum(user_like)
                 FROM ${from} WHERE user_like IS NOT NULL GROUP BY a
               UNION ALL SELECT a, 'a', 2, 'donate', count(donate), sum(donate)
                 FROM ${from} WHERE donate IS NOT NULL GROUP BY a
               UNION ALL SELECT a, 'a', 3, 'is_online', count(is_online), 0
                 FROM ${from} WHERE is_online IS NOT NULL GROUP BY a) d
        ORDER BY d.profile_id, d.side, d.ord
       ON CONFLICT (profile_id, rel_id, side, prop, slot) DO UPDATE SET
         count = s.count + EXCLUDED.count, isum = s.isum + EXCLUDED.isum;`,
    changeLog: `INSERT INTO change_log (seq, at, call, rel_id, profile_a, db_a, profile_b, db_b, before, after)
       SELECT nextval('change_seq'), ${now}, 'relations/attach_batch', ${rel}, a, ${w.dbA}, b, ${w.dbB}, NULL, ${weights}
         FROM ${from} ORDER BY ord;`,
    topValues: (t: string) =>
      `(VALUES ('donate', ${t}.donate::float8), ('user_like', ${t}.user_like::float8)) AS n(name, v)`,
  };
}

/** The lean load's statements, labelled, in order; each prints one `Time:` line under \timing. */
function leanStatements(w: Workspace, csv: string): [string, string][] {
  const rel = w.relId;
  const writes = stagedWrites(w, 'lean_stage');
  return [
    ['begin', 'BEGIN;'],
    ['stage table', `CREATE TEMP TABLE lean_stage (${STAGE_COLUMNS}) ON COMMIT DROP;`],
    [
      '\\copy into the stage',
      `\\copy lean_stage (a, b, user_like, donate, is_online) FROM ${quote(csv)} WITH (FORMAT csv, HEADER true)`,
    ],
    [
      'lookups (both profiles)',
      // Rows naming a missing profile dropped (none here): the probes without rewriting the stage.
      `DELETE FROM lean_stage s WHERE NOT EXISTS (SELECT 1 FROM profiles p WHERE p.id = s.a AND p.db_id = ${w.dbA})
          OR NOT EXISTS (SELECT 1 FROM profiles p WHERE p.id = s.b AND p.db_id = ${w.dbB});`,
    ],
    ['relations', writes.relations],
    ['relations_by_b', writes.byB],
    ['relation_stats (totals, per property)', writes.stats],
    [
      // Past 64 relations an A keeps top rows (migration 009): marked, then a row per relation and
      // top-keeping property (user_like, donate), written once here where ties import builds them
      // as each A passes the threshold. None below 65 relations per A (the quick bench's size).
      'top-row marks',
      `INSERT INTO relation_stats (profile_id, rel_id, side, prop, slot, count)
       SELECT a, ${rel}, 't', '', 0, 1 FROM lean_stage GROUP BY a HAVING count(*) > 64 ORDER BY a;`,
    ],
    [
      'top rows',
      `INSERT INTO relation_tops (a, rel_id, prop, b, value)
       SELECT s.a, ${rel}, n.name, s.b, n.v
         FROM lean_stage s
         JOIN (SELECT a FROM lean_stage GROUP BY a HAVING count(*) > 64) k USING (a)
        CROSS JOIN LATERAL ${writes.topValues('s')}
        WHERE n.v IS NOT NULL
        ORDER BY s.a, n.name, s.b;`,
    ],
    ['change_log (feed on)', writes.changeLog],
    ['commit', 'COMMIT;'],
  ];
}

/** ties import's chunk sizes on PostgreSQL (src/cli/commands/import.ts): doubling every eighth. */
function chunkSizes(rows: number, first: number, max: number): number[] {
  const sizes: number[] = [];
  for (let done = 0, size = first; done < rows; done += sizes.at(-1)!) {
    sizes.push(Math.min(size, rows - done));
    if (sizes.length % 8 === 0) size = Math.min(max, size * 2);
  }
  return sizes;
}

/**
 * The chunked load's scripts: the \copy into an unlogged table, then one script per session
 * holding every other chunk (ordinals lo..hi of the file), each chunk one transaction.
 */
function chunkedScripts(
  w: Workspace,
  csv: string,
  sizes: readonly number[],
): { stage: string; sessions: string[] } {
  const rel = w.relId;
  const writes = stagedWrites(w, 'c');
  const stage = `CREATE UNLOGGED TABLE lean_all (${STAGE_COLUMNS});
    \\copy lean_all (a, b, user_like, donate, is_online) FROM ${quote(csv)} WITH (FORMAT csv, HEADER true)
    CREATE INDEX ON lean_all (ord);`;
  const chunk = (lo: number, hi: number) => `BEGIN;
    CREATE TEMP TABLE c ON COMMIT DROP AS SELECT s.* FROM lean_all s
     WHERE s.ord BETWEEN ${lo} AND ${hi}
       AND EXISTS (SELECT 1 FROM profiles p WHERE p.id = s.a AND p.db_id = ${w.dbA})
       AND EXISTS (SELECT 1 FROM profiles p WHERE p.id = s.b AND p.db_id = ${w.dbB});
    ${writes.relations}
    ${writes.byB}
    ${writes.stats}
    SELECT pg_advisory_xact_lock(4242);
    CREATE TEMP TABLE k ON COMMIT DROP AS
    SELECT g.a, coalesce(m.kept, false) AS kept, coalesce(m.total, 0) AS total
      FROM (SELECT DISTINCT a FROM c) g
      LEFT JOIN (SELECT profile_id, bool_or(side = 't') AS kept, sum(count) FILTER (WHERE side = 'a') AS total
                   FROM relation_stats WHERE profile_id IN (SELECT a FROM c) AND rel_id = ${rel}
                    AND side IN ('a', 't') AND prop = '' GROUP BY profile_id) m ON m.profile_id = g.a;
    INSERT INTO relation_stats (profile_id, rel_id, side, prop, slot, count)
    SELECT a, ${rel}, 't', '', 0, 1 FROM k WHERE NOT kept AND total > 64 ORDER BY a;
    INSERT INTO relation_tops (a, rel_id, prop, b, value)
    SELECT r.a, ${rel}, n.name, r.b, n.v
      FROM relations r JOIN k ON k.a = r.a AND NOT k.kept AND k.total > 64
     CROSS JOIN LATERAL (VALUES ('donate', (r.weights -> 'donate')::float8),
                                ('user_like', (r.weights -> 'user_like')::float8)) AS n(name, v)
     WHERE r.rel_id = ${rel} AND n.v IS NOT NULL ORDER BY r.a, n.name, r.b;
    INSERT INTO relation_tops (a, rel_id, prop, b, value)
    SELECT s.a, ${rel}, n.name, s.b, n.v FROM c s JOIN k ON k.a = s.a AND k.kept
     CROSS JOIN LATERAL ${writes.topValues('s')} WHERE n.v IS NOT NULL ORDER BY s.a, n.name, s.b;
    ${writes.changeLog}
    COMMIT;`;
  const sessions = ['', ''];
  let lo = 1;
  sizes.forEach((size, i) => {
    sessions[i % 2] += `${chunk(lo, lo + size - 1)}\n`;
    lo += size;
  });
  return { stage, sessions };
}

/** Runs the chunked load: the stage, then both sessions at once; wall seconds of the whole. */
async function chunkedLoad(
  db: string,
  scripts: { stage: string; sessions: string[] },
  dir: string,
): Promise<number> {
  const run = (name: string, sql: string) => {
    const file = join(dir, name);
    writeFileSync(file, sql);
    return new Promise<void>((resolve, reject) => {
      const child = spawn('psql', ['--no-psqlrc', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, '-f', file], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`chunked load (${name}): ${err}`)),
      );
    });
  };
  const started = performance.now();
  await run('stage.sql', scripts.stage);
  await Promise.all(scripts.sessions.map((sql, i) => run(`session${i}.sql`, sql)));
  return (performance.now() - started) / 1000;
}

/**
 * Runs the lean load in one psql process: wall seconds (process start included), its backend's CPU
 * seconds, and ms per statement.
 */
function leanLoad(db: string, script: string, labels: readonly string[]) {
  const started = performance.now();
  const out = spawnSync('psql', ['--no-psqlrc', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, '-f', script], {
    encoding: 'utf8',
  });
  const seconds = (performance.now() - started) / 1000;
  const times = [...out.stdout.matchAll(/^Time: ([\d.]+) ms/gm)].map((m) => Number(m[1]));
  if (out.status !== 0 || times.length !== labels.length)
    throw new Error(`lean load failed (${out.status}): ${out.stderr}${out.stdout.slice(0, 2000)}`);
  const ticks = /^BACKEND_CPU_TICKS (\d+)/m.exec(out.stdout);
  return {
    seconds,
    backendCpuS: ticks ? Number(ticks[1]) / 100 : Number.NaN,
    ms: Object.fromEntries(labels.map((l, i) => [l, times[i]!])),
  };
}

/** What both loads must have written alike (slots summed: Ties spreads a type's rows over them). */
const FINGERPRINT = `SELECT
  (SELECT md5(string_agg(concat_ws('|', a, rel_id, b, weights::text), ',' ORDER BY a, b)) FROM relations) AS rel,
  (SELECT md5(string_agg(concat_ws('|', b, rel_id, a), ',' ORDER BY b, a)) FROM relations_by_b) AS by_b,
  (SELECT md5(string_agg(concat_ws('|', profile_id, rel_id, side, prop, n, s), ',' ORDER BY profile_id, side, prop))
     FROM (SELECT profile_id, rel_id, side, prop, sum(count) AS n, sum(isum) AS s FROM relation_stats
            GROUP BY 1, 2, 3, 4) x) AS stats,
  (SELECT md5(string_agg(concat_ws('|', profile_a, profile_b, after::text), ',' ORDER BY profile_a, profile_b)) FROM change_log) AS feed,
  (SELECT count(*) FROM relation_tops)::int AS tops,
  (SELECT count(*) FROM relations)::int AS relations`;

const tag = `ties_lean_${process.pid}`;
const dir = join(tmpdir(), tag);
mkdirSync(dir, { recursive: true });
const template = `${tag}_t`;
const databases = [template];
const log = (line: string) => process.stdout.write(`${line}\n`);
try {
  const w = await buildWorkspace(await freshPgDb(opts.pgUrl, template), {
    as: opts.as,
    bs: opts.bs,
    hub: 0,
    get100: false,
  });
  const csv = join(dir, 'bulk.csv');
  await writeCsv(csv, { as: w.as, bs: w.bs }, 0, opts.rows);
  const statements = leanStatements(w, csv);
  const script = join(dir, 'lean.sql');
  // The backend's CPU (utime + stime, clock ticks of /proc/<pid>/stat) read by psql itself after
  // COMMIT, while the backend still lives: connection start included, a few ms.
  // (\! takes its line verbatim: the pid goes to it through the environment.)
  const cpuTicks = 'awk \'{print "BACKEND_CPU_TICKS", $14 + $15}\' /proc/$LEAN_BACKEND_PID/stat';
  writeFileSync(
    script,
    `SELECT pg_backend_pid() AS backend_pid \\gset\n\\setenv LEAN_BACKEND_PID :backend_pid\n\\timing on\n${statements.map(([, sql]) => sql).join('\n')}\n\\! ${cpuTicks}\n`,
  );
  const labels = statements.map(([label]) => label);
  type Side = 'copy' | 'lean' | 'import' | 'chunked';
  const seconds: Record<Side, number[]> = { copy: [], lean: [], import: [], chunked: [] };
  const chunked =
    opts.chunk === undefined
      ? undefined
      : chunkedScripts(
          w,
          csv,
          chunkSizes(opts.rows, opts.chunk, Math.max(opts.chunk, opts.chunkMax ?? opts.chunk)),
        );
  for (let round = 0; round < opts.rounds; round++) {
    const line: Record<string, unknown> = { round: round + 1, rows: opts.rows, load_avg: loadavg()[0] };
    const db = async (side: Side) => {
      databases.push(`${tag}_${side}_${round}`);
      return freshPgDb(opts.pgUrl, `${tag}_${side}_${round}`, side === 'copy' ? undefined : template);
    };
    const urls = {
      copy: await db('copy'),
      lean: await db('lean'),
      import: await db('import'),
      chunked: chunked ? await db('chunked') : '',
    };
    const steps: [Side, () => Promise<number>][] = [
      ['copy', async () => rawPgCopy(urls.copy, csv).seconds],
      [
        'lean',
        async () => {
          const r = leanLoad(urls.lean, script, labels);
          line.lean_ms = r.ms;
          line.lean_backend_cpu_s = r.backendCpuS;
          return r.seconds;
        },
      ],
      ['import', async () => (await tiesImport(csv, w.relId, urls.import)).seconds],
    ];
    if (chunked) steps.push(['chunked', () => chunkedLoad(urls.chunked, chunked, dir)]);
    // Each side first once in three rounds.
    for (let i = 0; i < steps.length; i++) {
      const [side, step] = steps[(i + round) % steps.length]!;
      seconds[side].push(await step());
    }
    const [lean, ties, inChunks] = await Promise.all(
      [urls.lean, urls.import, ...(chunked ? [urls.chunked] : [])].map((url) =>
        pgAdmin(url, async (c) => (await c.query(FINGERPRINT)).rows[0]),
      ),
    );
    if (JSON.stringify(lean) !== JSON.stringify(ties) || lean.relations !== opts.rows)
      throw new Error(`the lean load wrote other rows than ties import: ${JSON.stringify({ lean, ties })}`);
    if (chunked && JSON.stringify(inChunks) !== JSON.stringify(ties))
      throw new Error(
        `the chunked load wrote other rows than ties import: ${JSON.stringify({ inChunks, ties })}`,
      );
    const rate = (side: Side) => opts.rows / seconds[side].at(-1)!;
    const ms = line.lean_ms as Record<string, number>;
    Object.assign(line, {
      copy_rows_per_s: Math.round(rate('copy')),
      lean_rows_per_s: Math.round(rate('lean')),
      import_rows_per_s: Math.round(rate('import')),
      lean_vs_copy: +(rate('lean') / rate('copy')).toFixed(3),
      import_vs_copy: +(rate('import') / rate('copy')).toFixed(3),
      import_vs_lean: +(rate('import') / rate('lean')).toFixed(3),
      ...(chunked
        ? {
            chunked_rows_per_s: Math.round(rate('chunked')),
            chunked_vs_copy: +(rate('chunked') / rate('copy')).toFixed(3),
            import_vs_chunked: +(rate('import') / rate('chunked')).toFixed(3),
          }
        : {}),
      // The same without the change log's statement (a server with TIES_FEED=off writes none).
      lean_nofeed_vs_copy: +(
        seconds.copy.at(-1)! /
        (seconds.lean.at(-1)! - ms['change_log (feed on)']! / 1000)
      ).toFixed(3),
      load_avg_end: loadavg()[0],
    });
    log(JSON.stringify(line));
  }
} finally {
  await dropPgDbs(opts.pgUrl, databases);
  rmSync(dir, { recursive: true, force: true });
}
