// Scratch: one checkout's ties_attach_many on a fresh schema, called directly on one connection,
// chunk by chunk; per-chunk ms, optionally with session settings (--set "plan_cache_mode=force_custom_plan")
// (--ids object for checkouts before 5e46448) and auto_explain of nested statements sent to the client as notices (--explain N: chunk N's plans).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { freshSchemaName } from '../test/support/pg-engine.js';
import { type PairSpace, pairAt } from './bench-bulk.js';
import { ATTACH_WEIGHTS } from './bench-fixtures.js';
import { PG_ADMIN_URL } from './pg-scratch.js';

const { values } = parseArgs({
  options: {
    code: { type: 'string', default: '.' },
    rows: { type: 'string', default: '20000' },
    chunk: { type: 'string', default: '1000' },
    set: { type: 'string', multiple: true, default: [] },
    explain: { type: 'string', multiple: true, default: [] },
    // 'string': a lookup by id as the id's JSON string (the store since 5e46448); 'object': {by, id}
    ids: { type: 'string', default: 'string' },
    keep: { type: 'boolean', default: false },
    // The profiles on each side (the full bench's 10,000 each).
    as: { type: 'string', default: '1000' },
    bs: { type: 'string', default: '1000' },
    'pg-url': { type: 'string', default: PG_ADMIN_URL },
  },
});
const url = values['pg-url']!;
const dir = values.code!.startsWith('/') ? values.code! : join(process.cwd(), values.code!);
const fixtures = (await import(join(dir, 'bench/bench-fixtures.ts'))) as typeof import('./bench-fixtures.js');
// A kept schema is not named as the tests' (they drop those of processes gone).
const schema = values.keep ? `chunk_scratch_${process.pid}` : freshSchemaName();
const space = (await fixtures.buildWorkspace(`${url}?schema=${schema}`, {
  as: Number(values.as),
  bs: Number(values.bs),
  hub: 0,
  get100: false,
})) as PairSpace & { relId: number };
const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
await client.connect();
const notices: string[] = [];
client.on('notice', (n) => notices.push(n.message ?? ''));
for (const s of values.set!) {
  const [k, v] = s.split('=');
  await client.query(`SET ${k} = ${v}`);
}
const explain = new Set(values.explain!.map(Number));
const rows = Number(values.rows);
const CHUNK = Number(values.chunk);
const times: number[] = [];
try {
  for (let start = 0, c = 0; start < rows; start += CHUNK, c++) {
    const items = Array.from({ length: Math.min(CHUNK, rows - start) }, (_, i) => {
      const [a, b] = pairAt(space, start + i);
      return values.ids === 'object'
        ? [{ by: 'id', id: a }, { by: 'id', id: b }, ATTACH_WEIGHTS]
        : [a, b, ATTACH_WEIGHTS];
    });
    if (explain.has(c)) {
      await client.query(`LOAD 'auto_explain'`);
      await client.query(`SET auto_explain.log_min_duration = 0`);
      await client.query(`SET auto_explain.log_nested_statements = on`);
      await client.query(`SET auto_explain.log_analyze = on`);
      await client.query(`SET auto_explain.log_level = notice`);
      notices.length = 0;
    }
    const t0 = performance.now();
    await client.query('BEGIN');
    await client.query('SELECT * FROM ties_attach_many($1, $2, $3)', [
      space.relId,
      JSON.stringify(items),
      '2026-12-04T00:00:00.000Z',
    ]);
    await client.query('COMMIT');
    times.push(performance.now() - t0);
    if (explain.has(c)) {
      await client.query(`SET auto_explain.log_min_duration = -1`);
      console.log(`=== chunk ${c}: ${times.at(-1)!.toFixed(1)} ms`);
      for (const n of notices) console.log(n);
    }
  }
  console.log(JSON.stringify({ code: dir, set: values.set, ms: times.map((t) => +t.toFixed(1)) }));
} finally {
  await client.end();
  if (values.keep) {
    console.log(`kept schema ${schema}`);
    process.exit(0);
  }
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
}
