// `ties import relations`: CSV and NDJSON files streamed through core, bad lines reported with their
// numbers, and a second run that resumes (existing relations are counted, not failed). On every
// engine: on PostgreSQL and Citus the batches go through the set-based path (ties_attach_many).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { coerceParams } from '../src/api/coerce.js';
import * as S from '../src/api/schemas.js';
import { BATCH_ITEM_JSON } from '../src/api/schemas-json.generated.js';
import {
  csvColumns,
  csvItem,
  csvItemIsCoerced,
  importCommand,
  importRelations,
} from '../src/cli/commands/import.js';
import { USAGE } from '../src/cli/main.js';
import type { RelationType } from '../src/core/model.js';
import { createTies, type Ties } from '../src/core/ties.js';
import { openStore } from '../src/store/open-store.js';
import { CITUS_URL } from './support/citus-engine.js';
import { runTies } from './support/cli.js';
import { dropSchema, freshSchemaName, PG_URL } from './support/pg-engine.js';

const dir = mkdtempSync(join(tmpdir(), 'ties-import-'));
const schemas: [string, string][] = [];
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  for (const [schema, url] of schemas) await dropSchema(schema, url);
});
let files = 0;

/** A fresh schema of a test PostgreSQL (plain or a Citus coordinator), dropped at the end. */
function inFreshSchema(base: string): string {
  const schema = freshSchemaName();
  schemas.push([schema, base]);
  const url = new URL(base);
  url.searchParams.set('schema', schema);
  return url.toString();
}

/** Where each engine's stores go: a fresh SQLite file, or a fresh schema of the test PostgreSQL or Citus. */
const ENGINES: readonly { readonly name: string; readonly db: () => string }[] = [
  { name: 'sqlite', db: () => join(dir, `${++files}.db`) },
  ...(PG_URL ? [{ name: 'postgres', db: () => inFreshSchema(PG_URL!) }] : []),
  ...(CITUS_URL ? [{ name: 'citus', db: () => inFreshSchema(CITUS_URL!) }] : []),
];
const file = (name: string, text: string) => {
  const path = join(dir, `${++files}-${name}`);
  writeFileSync(path, text);
  return path;
};

interface World {
  readonly db: string;
  readonly relId: number;
  readonly as: readonly string[];
  readonly bs: readonly string[];
}

/** A store with a type (user_like int with top and sum, is_online bool) and 3 + 3 profiles. */
async function world(db: string): Promise<World> {
  const ties = createTies({ store: await openStore(db, undefined, { sqliteWriter: 'inline' }) });
  try {
    const dbA = (await ties.catalog.createDatabase({ name: 'authors' })).data.id;
    const dbB = (await ties.catalog.createDatabase({ name: 'readers' })).data.id;
    const relId = (
      await ties.catalog.createRelationType({
        name: 'donates',
        db_a: dbA,
        db_b: dbB,
        properties: [
          { name: 'user_like', type: 'int', top: 5, sum: true },
          { name: 'is_online', type: 'bool' },
        ],
      })
    ).data.rel_id;
    const add = async (dbId: number, email: string) =>
      (await ties.profiles.add({ db_id: dbId, data: { email } }, 'typed')).profile_id;
    const as = [
      await add(dbA, 'a0@x.example'),
      await add(dbA, 'a1@x.example'),
      await add(dbA, 'a2@x.example'),
    ];
    const bs = [
      await add(dbB, 'b0@x.example'),
      await add(dbB, 'b1@x.example'),
      await add(dbB, 'b2@x.example'),
    ];
    return { db, relId, as, bs };
  } finally {
    await ties.close();
  }
}

async function withTies<T>(db: string, fn: (ties: Ties) => Promise<T>): Promise<T> {
  // Inline writer: a worker thread per store would only slow the tests (the command test uses it).
  const ties = createTies({ store: await openStore(db, undefined, { sqliteWriter: 'inline' }) });
  try {
    return await fn(ties);
  } finally {
    await ties.close();
  }
}

async function run(w: World, path: string, format: 'csv' | 'ndjson', batch = 2) {
  const failures: string[] = [];
  const summary = await withTies(w.db, (ties) =>
    importRelations({
      ties,
      file: path,
      format,
      relId: w.relId,
      batch,
      report: (line, error) => failures.push(`${line}: ${error}`),
    }),
  );
  return { summary, failures: failures.sort((x, y) => Number.parseInt(x, 10) - Number.parseInt(y, 10)) };
}

async function counter(w: World, a: string) {
  return withTies(w.db, (ties) => ties.relations.getCounter({ rel_id: w.relId, profile_id: a }));
}

test('a long import batches double every eighth batch up to batchMax; without batchMax they keep their size', async () => {
  const w = await world(join(dir, `${++files}.db`));
  // 40 lines over the 9 pairs (repeats are counted as existing): enough for three sizes.
  const lines = Array.from(
    { length: 40 },
    (_, i) => `${w.as[i % 3]},${w.bs[Math.floor(i / 3) % 3]},${i},true`,
  );
  const path = file('grow.csv', `profile_a,profile_b,user_like,is_online\n${lines.join('\n')}\n`);
  const sizes = async (batchMax: number | undefined) =>
    withTies(w.db, async (ties) => {
      const seen: number[] = [];
      const attachBatch = ties.relations.attachBatch.bind(ties.relations);
      ties.relations.attachBatch = (params, ctx) => {
        seen.push(params.items.length);
        return attachBatch(params, ctx);
      };
      const summary = await importRelations({
        ties,
        file: path,
        format: 'csv',
        relId: w.relId,
        batch: 1,
        ...(batchMax === undefined ? {} : { batchMax }),
        report: () => undefined,
      });
      assert.equal(summary.created + summary.existed, 40);
      return seen;
    });
  assert.deepEqual(await sizes(4), [...Array(8).fill(1), ...Array(8).fill(2), 4, 4, 4, 4]);
  assert.deepEqual(await sizes(undefined), Array(40).fill(1));
});

for (const engine of ENGINES)
  describe(`ties import relations (${engine.name})`, () => {
    let w: World;
    before(async () => {
      w = await world(engine.db());
    });

    test('CSV: ids or matching columns, typed weights, bad lines named by number; a re-run resumes', async () => {
      const [a0, a1] = w.as as [string, string];
      const [b0, b1, b2] = w.bs as [string, string, string];
      const csv = file(
        'rel.csv',
        [
          'profile_a,b_email,user_like,is_online',
          `${a0},b0@x.example,3,true`,
          `${a0},"B1@X.example",4,`, // quoted, matched case-insensitively, no is_online
          `${a0},nobody@x.example,1,true`, // no such profile
          `${a1},b2@x.example,lots,false`, // not an int
          `${a1},b0@x.example`, // too few fields
          '',
          `${a1},b1@x.example,7,false`,
        ].join('\r\n'),
      );
      const first = await run(w, csv, 'csv');
      assert.deepEqual(first.summary, { created: 3, existed: 0, failed: 3, lines: 6 });
      assert.deepEqual(first.failures, [
        '4: 404 profile_b: no profile matches',
        '5: 400 weights.user_like: expected an integer',
        '6: 400 expected 4 fields as the header has, found 2',
      ]);
      const c = await counter(w, a0);
      assert.equal(c.data.total, 2);
      assert.equal(c.data.props.user_like?.sum, 7);
      assert.deepEqual(c.data.props.user_like?.top, [
        { profile_id: b1, value: 4 },
        { profile_id: b0, value: 3 },
      ]);
      assert.equal(c.data.props.is_online?.total, 1);

      // Fixed file, run again: what exists is reported as such, the rest is created.
      writeFileSync(
        csv,
        readFileSync(csv, 'utf8').replace('lots', '5').replace(`${a1},b0@x.example\r\n`, ''),
      );
      const second = await run(w, csv, 'csv');
      assert.deepEqual(second.summary, { created: 1, existed: 3, failed: 1, lines: 5 });
      assert.equal((await counter(w, a1)).data.total, 2);
      assert.ok(b2);
    });

    test('CSV: a header naming no side or an unknown property is refused before anything is read', async () => {
      await assert.rejects(
        run(w, file('x.csv', 'profile_a,user_like\n'), 'csv'),
        /identifies no profile_b: add profile_b \(an id\) or a column like b_email/,
      );
      await assert.rejects(
        run(w, file('y.csv', 'profile_a,profile_b,colour\n'), 'csv'),
        /CSV column colour is neither an identification .* nor a property of relation type \d+ \(user_like, is_online\)/,
      );
      await assert.rejects(run(w, file('z.csv', ''), 'csv'), /needs a header line/);
    });

    test('NDJSON: one attach_batch item per line; malformed lines fail alone', async () => {
      const [, , a2] = w.as as [string, string, string];
      const [b0, b1] = w.bs as [string, string];
      const ndjson = file(
        'rel.ndjson',
        [
          JSON.stringify({
            profile_a: { profile_id: a2 },
            profile_b: { profile_id: b0 },
            weights: { user_like: 2 },
          }),
          '{"profile_a": ',
          JSON.stringify({
            profile_a: { profile_id: a2 },
            profile_b: { email: 'b1@x.example' },
            weights: { user_like: '2' },
          }),
          JSON.stringify({ profile_a: { profile_id: a2 }, weights: {} }),
          '',
          JSON.stringify({
            profile_a: { email: 'a2@x.example' },
            profile_b: { profile_id: b1 },
            weights: { is_online: true },
          }),
        ].join('\n'),
      );
      const { summary, failures } = await run(w, ndjson, 'ndjson', 1000);
      assert.deepEqual(summary, { created: 2, existed: 0, failed: 3, lines: 5 });
      assert.equal(failures.length, 3);
      assert.match(failures[0]!, /^2: 400 malformed JSON/);
      assert.match(
        failures[1]!,
        /^3: 400 weights\.user_like: expected an integer/,
        'JSON values keep their JSON types',
      );
      assert.match(failures[2]!, /^4: 400 profile_b: required/);
      const c = await counter(w, a2);
      assert.equal(c.data.total, 2);
    });

    test('the command: summary on stdout, failed lines in --errors, exit 1; usage errors exit 2', async () => {
      const w2 = await world(engine.db());
      const csv = file(
        'cmd.csv',
        `profile_a,profile_b,user_like\n${w2.as[0]},${w2.bs[0]},1\n${w2.as[0]},${w2.as[1]},1\n`,
      );
      const errors = join(dir, 'errors.txt');
      const result = await runTies([
        'import',
        'relations',
        csv,
        '--rel-id',
        String(w2.relId),
        '--db',
        w2.db,
        '--errors',
        errors,
      ]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stdout, /1 created, 0 already existed, 1 failed \(2 lines/);
      assert.match(result.stdout, /Failed lines are listed in/);
      assert.equal(readFileSync(errors, 'utf8'), 'line 3: 404 profile_b: no profile matches\n');
      assert.match(result.stderr, /importing\s+100%\s+2 rows/, 'plain progress lines off a terminal');

      const again = await runTies(['import', 'relations', csv, '--rel-id', String(w2.relId), '--db', w2.db]);
      assert.equal(again.code, 1);
      assert.match(again.stdout, /0 created, 1 already existed, 1 failed/);

      const usage = await runTies(['import', 'relations', csv, '--db', w2.db]);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /--rel-id: expected a positive integer/);
      assert.match(USAGE, /ties import relations FILE\.csv\|FILE\.ndjson --rel-id N/, '--help lists it');
    });

    test("the store's bulk chunk (8,000 on PostgreSQL and Citus) answers every line as batches of 2 do", async () => {
      // 1,200 lines over 9 pairs: the first of each pair created (or failed), the rest already
      // existing, whether the earlier line is in the same chunk or an earlier one; bad lines spread.
      const lines = ['profile_a,profile_b,user_like'];
      for (let i = 0; i < 1200; i++) {
        const like = i % 97 === 5 ? 'lots' : String(i % 7);
        lines.push(i % 131 === 3 ? 'x,y' : `A${i % 3},B${Math.floor(i / 3) % 3},${like}`);
      }
      const results = [];
      for (const chunk of ['store', 2] as const) {
        const w2 = await world(engine.db());
        const text = lines
          .join('\n')
          .replace(/A(\d)/g, (_, k) => w2.as[Number(k)]!)
          .replace(/B(\d)/g, (_, k) => w2.bs[Number(k)]!);
        const failures: string[] = [];
        const summary = await withTies(w2.db, (ties) => {
          const batch = chunk === 'store' ? (ties.store.bulkChunk ?? 1000) : chunk;
          if (chunk === 'store') assert.equal(batch, engine.name === 'sqlite' ? 1000 : 8000);
          return importRelations({
            ties,
            file: file('chunk.csv', text),
            format: 'csv',
            relId: w2.relId,
            batch,
            report: (line, error) => failures.push(`${line}: ${error}`),
          });
        });
        const totals = [];
        for (const a of w2.as) totals.push((await counter(w2, a)).data);
        results.push({
          summary,
          failures: failures.sort(),
          totals: JSON.stringify(totals).replace(/"[0-9a-f]{16,24}"/g, 'id'),
        });
      }
      assert.equal(results[0]!.summary.created, 9);
      assert.ok(results[0]!.failures.length > 10);
      assert.deepEqual(results[0], results[1]);
    });

    test('a file whose format cannot be told is refused with exit 2', async () => {
      const written: string[] = [];
      const write = process.stderr.write;
      process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof write;
      try {
        const code = await importCommand(['relations', file('rel.txt', ''), '--rel-id', '1', '--db', w.db]);
        assert.equal(code, 2);
      } finally {
        process.stderr.write = write;
      }
      assert.match(written.join(''), /cannot tell the format of .*rel\.txt: name it \.csv or \.ndjson/);
    });
  });

test('a CSV line ties import takes without coercion is what the coercion answers; others are coerced', () => {
  const type = {
    relId: 7,
    name: 't',
    dbA: 1,
    dbB: 1,
    properties: [{ name: 'w' }, { name: 'flag' }],
    createdAt: '',
  } as unknown as RelationType;
  const columns = csvColumns(
    ['profile_a', 'b_email', 'b_phone', 'a_field_name', 'a_field_value', 'a_resource_id', 'w', 'flag'],
    type,
  );
  const id = '0123456789abcdef01234567';
  const plain = [
    [id, 'x@example.com', '', '', '', '', '5', 'true'],
    [id, '', '+1 555', '', '', '', '', ''],
    [`${id}  `, '😀@example.com', '', 'f', '', '', 'not a number', 'x\ny'],
    [id, `${'e'.repeat(318)}@x`, '9'.repeat(64), '', '', '', '', ''],
  ];
  // Each needs the coercion: a column that converts (field_value, resource_id), text an engine
  // cannot store, or a string longer than the schema allows (or longer in UTF-16 than its limit).
  const coerced = [
    [id, 'x@example.com', '', '', 'v', '', '', ''],
    [id, 'x@example.com', '', '', '', '3', '', ''],
    [id, 'x\u0000@example.com', '', '', '', '', '', ''],
    [id, '', '', '', '', '', '\uD800', ''],
    [id, `${'e'.repeat(319)}@x`, '', '', '', '', '', ''],
    [id, '', '😀'.repeat(40), '', '', '', '', ''],
  ];
  for (const fields of plain) {
    assert.equal(csvItemIsCoerced(columns, fields), true, fields.join(','));
    const item = csvItem(columns, fields);
    assert.deepStrictEqual(item, coerceParams(BATCH_ITEM_JSON, item, 'text'));
  }
  for (const fields of coerced) assert.equal(csvItemIsCoerced(columns, fields), false, fields.join(','));
  // An unknown header column never reaches the check; rel_id always takes the coercion's integer.
  const withRelId = csvColumns(['profile_a', 'profile_b', 'rel_id'], type);
  assert.equal(csvItemIsCoerced(withRelId, [id, id, '7']), false);
  assert.equal(csvItemIsCoerced(withRelId, [id, id, '']), true);
});

test('the JSON schema ties import coerces lines with is BatchItem of schemas.ts (else: npm run schemas:embed)', () => {
  assert.deepEqual(BATCH_ITEM_JSON, JSON.parse(JSON.stringify(S.BatchItem)));
});

/** Node's --import of a module hook that prints `PACKAGE <name>` for each package module loaded. */
const PACKAGE_HOOK = (() => {
  const hook = `export async function load(url, context, next) {
    const m = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(url);
    if (m) process.stderr.write('PACKAGE ' + m[1] + '\\n');
    return next(url, context);
  }`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  return ['--import', `data:text/javascript,${encodeURIComponent(register)}`];
})();

test('ties import on a SQLite file loads neither TypeBox nor the PostgreSQL driver (~0.45 s of start)', async () => {
  const w = await world(join(dir, `${++files}.db`));
  const csv = file('header.csv', 'profile_a,profile_b\n');
  const result = await runTies(
    ['import', 'relations', csv, '--rel-id', String(w.relId), '--db', w.db],
    {},
    PACKAGE_HOOK,
  );
  assert.equal(result.code, 0, result.stderr);
  const loaded = new Set([...result.stderr.matchAll(/^PACKAGE (\S+)$/gm)].map((m) => m[1]));
  assert.ok(loaded.has('better-sqlite3'), `the hook sees the packages loaded: ${[...loaded].join(', ')}`);
  assert.ok(!loaded.has('typebox'), 'TypeBox is loaded');
  assert.ok(!loaded.has('pg'), 'the PostgreSQL driver is loaded');
});

test('ties import on PostgreSQL does not make Node load undici (pg asks for Response: ~15 ms of start)', {
  skip: !PG_URL && 'no TIES_TEST_PG_URL',
}, async () => {
  const w = await world(inFreshSchema(PG_URL!));
  const csv = file('header.csv', 'profile_a,profile_b\n');
  // At exit: whether Node loaded its undici, and that Response is still Node's lazy global.
  const probe = `process.on('exit', () => process.stderr.write('UNDICI ' + process.moduleLoadList.some((m) => m.includes('undici')) + ' RESPONSE ' + typeof Object.getOwnPropertyDescriptor(globalThis, 'Response').get + '\\n'));`;
  const result = await runTies(['import', 'relations', csv, '--rel-id', String(w.relId), '--db', w.db], {}, [
    '--import',
    `data:text/javascript,${encodeURIComponent(probe)}`,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^UNDICI false RESPONSE function$/m);
});
