// profiles/get_batch (Ties extension, docs/decisions.md): many profiles of one database by id in one
// call, in JSON and XML on every engine — order kept, missing ids answered found: false, fields
// chosen, and each bad parameter a 400 that names it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_GET_BATCH } from '../../src/api/schemas.js';
import { testEngines } from '../support/engines.js';
import { type Harness, startHarness } from '../support/harness.js';
import { addProfile, as, createWorkspace, FORMATS, list, ok, refused, type Workspace } from './helpers.js';

const MISSING = 'abcdefabcdefabcdefabcdef';

for (const engine of testEngines()) {
  describe(`profiles/get_batch — ${engine.name}`, () => {
    let h: Harness;
    let w: Workspace;
    let ids: string[];

    before(async () => {
      h = await startHarness({ engine });
      w = await createWorkspace(h);
      ids = [];
      for (let i = 0; i < 5; i++)
        ids.push(await addProfile(h, w.dbA, { email: `p${i}@example.com`, _fname: `P${i}`, score: i }));
    });
    after(() => h.close());

    for (const format of FORMATS) {
      test(`${format}: one entry per id, in the order asked, missing ones found: false`, async () => {
        const asked = [ids[3]!, MISSING, ids[0]!.toUpperCase(), ids[3]!];
        const body = await ok(h, 'profiles/get_batch', { db_id: w.dbA, profile_ids: asked }, { format });
        const data = list(body.data);
        assert.deepEqual(
          data.map((d) => [d.profile_id, d.found]),
          [
            [ids[3], as(format, true)],
            [MISSING, as(format, false)],
            [ids[0], as(format, true)],
            [ids[3], as(format, true)],
          ],
        );
        assert.equal(data[0].profile.email, 'p3@example.com');
        assert.equal(data[0].profile._fname, 'P3');
        assert.equal(data[0].profile.score, as(format, 3));
        assert.equal(data[0].profile.db_id, as(format, w.dbA));
        assert.equal(data[1].profile, undefined);
      });

      test(`${format}: fields limits each profile to id, db_id and those fields`, async () => {
        const body = await ok(
          h,
          'profiles/get_batch',
          { db_id: w.dbA, profile_ids: [ids[1]!], fields: ['_fname', 'score'] },
          { format },
        );
        assert.deepEqual(
          list(body.data)[0].profile,
          as(format, { id: ids[1], db_id: w.dbA, _fname: 'P1', score: 1 }),
        );
      });
    }

    test('bad parameters are 400s naming them; an unknown database 404', async () => {
      await refused(h, 'profiles/get_batch', { db_id: w.dbA, profile_ids: [] }, 400, 'profile_ids');
      await refused(
        h,
        'profiles/get_batch',
        { db_id: w.dbA, profile_ids: [ids[0], 'nope'] },
        400,
        'profile_ids[1]: expected 24 hexadecimal characters',
      );
      await refused(
        h,
        'profiles/get_batch',
        { db_id: w.dbA, profile_ids: [ids[0]], fields: ['score', 'shoe_size'] },
        400,
        'fields[1]: no field shoe_size',
      );
      const tooMany = Array.from({ length: MAX_GET_BATCH + 1 }, () => MISSING);
      await refused(h, 'profiles/get_batch', { db_id: w.dbA, profile_ids: tooMany }, 400, 'profile_ids');
      await refused(h, 'profiles/get_batch', { db_id: 999_999, profile_ids: [ids[0]] }, 404, 'db_id');
      // A profile of another database is simply not found in this one.
      const other = await ok(h, 'profiles/get_batch', { db_id: w.dbB, profile_ids: [ids[0]] });
      assert.equal(list(other.data)[0].found, false);
    });

    test(`${MAX_GET_BATCH} ids in one call`, async () => {
      const asked = Array.from({ length: MAX_GET_BATCH }, (_, i) => ids[i % ids.length]!);
      const body = await ok(h, 'profiles/get_batch', { db_id: w.dbA, profile_ids: asked, fields: ['email'] });
      const data = list(body.data);
      assert.equal(data.length, MAX_GET_BATCH);
      assert.ok(data.every((d) => d.found === true));
    });
  });
}
