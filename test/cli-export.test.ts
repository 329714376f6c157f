// `ties export relations`: a type's relations written as CSV or NDJSON, read back by
// `ties import relations` into a store holding the same profiles, give the same relations and
// aggregates (every value type, quoting, absent properties); usage errors name what is wrong.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { importRelations } from '../src/cli/commands/import.js';
import { runTies } from './support/cli.js';
import { tempPaths, withTies } from './support/store-files.js';

const path = tempPaths('ties-export-');

interface World {
  /** Profiles and relations. */
  readonly full: string;
  /** The same profiles (a copy of the file made before any relation). */
  readonly empty: string;
  readonly relId: number;
  readonly as: readonly string[];
  readonly bs: readonly string[];
}

async function world(): Promise<World> {
  const full = path('full.db');
  const setup = await withTies(full, async (ties) => {
    const dbA = (await ties.catalog.createDatabase({ name: 'a' })).data.id;
    const dbB = (await ties.catalog.createDatabase({ name: 'b' })).data.id;
    const relId = (
      await ties.catalog.createRelationType({
        name: 'rates',
        db_a: dbA,
        db_b: dbB,
        properties: [
          { name: 'hits', type: 'int', top: 3, sum: true },
          { name: 'score', type: 'float', top: 2, sum: true },
          { name: 'fan', type: 'bool' },
          { name: 'note', type: 'string' },
        ],
      })
    ).data.rel_id;
    const as: string[] = [];
    const bs: string[] = [];
    for (let i = 0; i < 4; i++) {
      as.push(
        (await ties.profiles.add({ db_id: dbA, data: { email: `a${i}@x.example` } }, 'typed')).profile_id,
      );
      bs.push(
        (await ties.profiles.add({ db_id: dbB, data: { email: `b${i}@x.example` } }, 'typed')).profile_id,
      );
    }
    return { relId, as, bs };
  });
  const empty = path('empty.db');
  copyFileSync(full, empty);
  const notes = ['plain', 'with, comma', 'with "quotes"', 'two\nlines', ' padded '];
  await withTies(full, async (ties) => {
    let n = 0;
    for (const a of setup.as) {
      for (const b of setup.bs) {
        n++;
        const weights: Record<string, unknown> = { hits: n * 3 - 20, score: n / 7 };
        if (n % 2 === 0) weights.fan = n % 4 === 0;
        if (n % 3 !== 0) weights.note = notes[n % notes.length];
        await ties.relations.attach(
          { rel_id: setup.relId, profile_a: { profile_id: a }, profile_b: { profile_id: b }, weights },
          { encoding: 'typed' },
        );
      }
    }
  });
  return { full, empty, ...setup };
}

/** Every relations/get and get_counter answer of the type, on both sides. */
async function answers(w: World, db: string): Promise<unknown[]> {
  return withTies(db, async (ties) => {
    const out: unknown[] = [];
    for (const profile_id of w.as) {
      out.push(await ties.relations.get({ rel_id: w.relId, profile_id, side: 'a' }));
      out.push(await ties.relations.getCounter({ rel_id: w.relId, profile_id }));
    }
    for (const profile_id of w.bs)
      out.push(await ties.relations.get({ rel_id: w.relId, profile_id, side: 'b' }));
    return out;
  });
}

describe('ties export relations', () => {
  let w: World;
  before(async () => {
    w = await world();
  });

  for (const format of ['csv', 'ndjson'] as const) {
    test(`${format}: export → import into the same profiles gives the same relations`, async () => {
      const out = path(`rel.${format}`);
      const exported = await runTies([
        'export',
        'relations',
        '--rel-id',
        String(w.relId),
        '--db',
        w.full,
        '--out',
        out,
      ]);
      assert.equal(exported.code, 0, exported.stderr);
      assert.match(exported.stderr, /Exported 16 relations of type \d+ \(rates\) as /);
      const text = readFileSync(out, 'utf8');
      if (format === 'csv') assert.match(text, /^profile_a,profile_b,hits,score,fan,note\n/);
      else assert.equal(text.trim().split('\n').length, 16);

      const target = path('target.db');
      copyFileSync(w.empty, target);
      const failures: string[] = [];
      const summary = await withTies(target, (ties) =>
        importRelations({
          ties,
          file: out,
          format,
          relId: w.relId,
          batch: 5,
          report: (line, error) => failures.push(`${line}: ${error}`),
        }),
      );
      assert.deepEqual(failures, []);
      assert.equal(summary.created, 16);
      assert.deepEqual(await answers(w, target), await answers(w, w.full));
    });
  }

  test('writes to standard output by default (NDJSON) and names a wrong type or option', async () => {
    const out = await runTies(['export', 'relations', '--rel-id', String(w.relId), '--db', w.full]);
    assert.equal(out.code, 0, out.stderr);
    const first = JSON.parse(out.stdout.split('\n')[0]!);
    assert.deepEqual(Object.keys(first), ['profile_a', 'profile_b', 'weights']);
    assert.equal(first.profile_a.profile_id, [...w.as].sort()[0]);

    const missing = await runTies(['export', 'relations', '--rel-id', '999', '--db', w.full]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /relation type 999 does not exist/);
    const badId = await runTies(['export', 'relations', '--rel-id', 'x', '--db', w.full]);
    assert.equal(badId.code, 2);
    assert.match(badId.stderr, /--rel-id: expected a positive integer, got "x"/);
    const badFormat = await runTies([
      'export',
      'relations',
      '--rel-id',
      '1',
      '--format',
      'xml',
      '--db',
      w.full,
    ]);
    assert.equal(badFormat.code, 2);
    assert.match(badFormat.stderr, /--format: expected csv or ndjson, got "xml"/);
  });
});
