// `ties backup` and `ties restore`: a backup taken while another process keeps writing is one
// consistent snapshot that passes `ties check` (every profile's aggregates agree with its
// relations, and the count lies between the counts before and after), a restore checks the backup
// first and replaces data only when asked, and PostgreSQL is refused with the tools to use.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { runTies } from './support/cli.js';
import { tempPaths, withTies } from './support/store-files.js';

const path = tempPaths('ties-backup-');

interface World {
  readonly db: string;
  readonly relId: number;
  readonly as: readonly string[];
  readonly bs: readonly string[];
}

/** How many relations the store holds, and whether every A's counter agrees with its list. */
async function census(w: World, db: string): Promise<{ relations: number; disagreements: string[] }> {
  return withTies(db, async (ties) => {
    let relations = 0;
    const disagreements: string[] = [];
    for (const profile_id of w.as) {
      const list = await ties.relations.get({ rel_id: w.relId, profile_id, side: 'a', limit: 1000 });
      const counter = await ties.relations.getCounter({ rel_id: w.relId, profile_id });
      const sum = list.data.value().reduce((s, r) => s + Number(r.props.n?.value ?? 0), 0);
      if (counter.data.total !== list.total_count || counter.data.props.n?.sum !== (sum || undefined)) {
        disagreements.push(
          `${profile_id}: counter ${JSON.stringify(counter.data)} vs ${list.total_count} rows`,
        );
      }
      relations += list.total_count;
    }
    return { relations, disagreements };
  });
}

describe('ties backup and ties restore (SQLite)', () => {
  let w: World;
  before(async () => {
    const db = path('live.db');
    w = await withTies(db, async (ties) => {
      const dbId = (await ties.catalog.createDatabase({ name: 'people' })).data.id;
      const relId = (
        await ties.catalog.createRelationType({
          name: 'knows',
          db_a: dbId,
          db_b: dbId,
          properties: [{ name: 'n', type: 'int', top: 3, sum: true }],
        })
      ).data.rel_id;
      const as: string[] = [];
      const bs: string[] = [];
      for (let i = 0; i < 40; i++) {
        as.push(
          (await ties.profiles.add({ db_id: dbId, data: { email: `a${i}@x.example` } }, 'typed')).profile_id,
        );
        bs.push(
          (await ties.profiles.add({ db_id: dbId, data: { email: `b${i}@x.example` } }, 'typed')).profile_id,
        );
      }
      return { db, relId, as, bs };
    });
  });

  test('a backup taken while another process writes is one consistent snapshot and passes ties check', async () => {
    const backup = path('backup.db');
    const before = (await census(w, w.db)).relations;
    let written = 0;
    let stop = false;
    // This process writes (group commits of 40 attaches) while the CLI's process backs up.
    const writer = withTies(w.db, async (ties) => {
      let round = 0;
      const dbId = (await ties.store.getRelationType(w.relId))!.dbB;
      while (!stop && round < 2_000) {
        round++;
        const b = (await ties.profiles.add({ db_id: dbId, data: { email: `w${round}@x.example` } }, 'typed'))
          .profile_id;
        const outcomes = await ties.relations.attachBatch(
          {
            rel_id: w.relId,
            items: w.as.map((a, i) => ({
              profile_a: { profile_id: a },
              profile_b: { profile_id: b },
              weights: { n: i + round },
            })),
          },
          { encoding: 'typed' },
        );
        written += outcomes.filter((o) => o.ok).length;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    });
    // Let the writer get going first.
    while (written === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const result = await runTies(['backup', '--db', w.db, '--to', backup]);
    stop = true;
    await writer;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Backed up .* one consistent snapshot/);

    const check = await runTies(['check', '--db', backup]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /integrity check passed/);
    const copy = await census(w, backup);
    assert.deepEqual(copy.disagreements, []);
    assert.ok(
      copy.relations > before && copy.relations <= before + written,
      `${copy.relations} of ${written}`,
    );
    // Whole group commits only: every batch added one relation to each of the 40 profiles A.
    assert.equal(copy.relations % w.as.length, 0);

    // Restore: checked first, refuses to replace data unasked, then answers as the backup does.
    const target = path('restored.db');
    const fresh = await runTies(['restore', '--from', backup, '--db', target]);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.deepEqual(await census(w, target), copy);
    const refused = await runTies(['restore', '--from', backup, '--db', w.db]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /holds data; pass --force/);
    const forced = await runTies(['restore', '--from', backup, '--db', w.db, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(await census(w, w.db), copy);
  });

  test('a damaged backup is not restored; existing files are not overwritten unasked', async () => {
    const bad = path('bad.db');
    writeFileSync(bad, 'SQLite format 3\0 but nothing else');
    const target = path('target.db');
    const result = await runTies(['restore', '--from', bad, '--db', target]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /nothing restored/);
    assert.equal(existsSync(target), false);

    const exists = path('exists.db');
    writeFileSync(exists, 'x');
    const backup = await runTies(['backup', '--db', w.db, '--to', exists]);
    assert.equal(backup.code, 2);
    assert.match(backup.stderr, /--to: .* exists; pass --force/);
    assert.equal(readFileSync(exists, 'utf8'), 'x');
  });

  test('PostgreSQL is refused with the tools to use instead', async () => {
    const result = await runTies([
      'backup',
      '--db',
      'postgres://nobody@127.0.0.1:1/none',
      '--to',
      path('x.db'),
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /pg_dump -Fc/);
    assert.match(result.stderr, /pg_basebackup/);
    assert.match(result.stderr, /ties copy --from/);
  });
});
