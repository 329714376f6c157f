// Altcraft's update functions on profile fields ("Database fields functional update"): a field of
// `data` written as {action, value} — set, unset, incr (a negative value decrements), add and
// delete (tags) — on import, update, add and the batch calls, in JSON and XML, on every engine;
// the wrong field type is a 400 naming the field; concurrent increments and tag additions on one
// profile never lose an update.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../support/engines.js';
import { type Harness, startHarness } from '../support/harness.js';
import { adminCall, as, createWorkspace, FORMATS, list, ok, refused, type Workspace } from './helpers.js';

const MAX = 2 ** 53 - 1;

for (const engine of testEngines()) {
  describe(engine.name, () => {
    let h: Harness;
    let w: Workspace;

    before(async () => {
      h = await startHarness({ engine });
      w = await createWorkspace(h);
    });
    after(() => h.close());

    const getProfile = async (profile_id: string) =>
      (await adminCall(h, 'profiles/get', { db_id: w.dbA, profile_id })).data as Record<string, any>;
    const addProfile = async (data: Record<string, unknown>) =>
      (await adminCall(h, 'profiles/add', { db_id: w.dbA, data })).profile_id as string;

    for (const format of FORMATS) {
      const o = { format };
      const tag = (name: string) => `${name}-${format}`;

      describe(`${format}: update functions`, () => {
        test("the page's example: incr increases one field and decreases another", async () => {
          const id = await addProfile({ score: 5, ratio: 0.5 });
          const data = { score: { action: 'incr', value: 1000 }, ratio: { action: 'incr', value: -1000 } };
          const answer = await ok(h, 'profiles/update', { db_id: w.dbA, profile_id: id, data }, o);
          assert.equal(answer.profile_id, id);
          const profile = await getProfile(id);
          assert.equal(profile.score, 1005);
          assert.equal(profile.ratio, -999.5);
          // A float field takes a fractional step; an absent field counts from 0.
          await ok(
            h,
            'profiles/update',
            { db_id: w.dbA, profile_id: id, data: { ratio: { action: 'incr', value: 0.25 } } },
            o,
          );
          assert.equal((await getProfile(id)).ratio, -999.25);
          const empty = await addProfile({});
          await ok(
            h,
            'profiles/update',
            { db_id: w.dbA, profile_id: empty, data: { score: { action: 'incr', value: -3 } } },
            o,
          );
          assert.equal((await getProfile(empty)).score, -3);
        });

        test('add and delete change a tags field as a set; set and unset write and remove', async () => {
          const id = await addProfile({ interests: ['jazz'], crm: 'C-1', _fname: 'Ann' });
          const update = (data: Record<string, unknown>) =>
            ok(h, 'profiles/update', { db_id: w.dbA, profile_id: id, data }, o);
          await update({ interests: { action: 'add', value: ['cars', 'cats', 'jazz'] } });
          assert.deepEqual((await getProfile(id)).interests, ['jazz', 'cars', 'cats']);
          await update({ interests: { action: 'delete', value: ['jazz', 'nothing'] } });
          assert.deepEqual((await getProfile(id)).interests, ['cars', 'cats']);
          await update({ crm: { action: 'set', value: 'C-2' }, _fname: { action: 'unset' } });
          const profile = await getProfile(id);
          assert.equal(profile.crm, 'C-2');
          assert.equal(profile._fname, undefined);
          // The names of issue #13 are accepted too: decr subtracts, remove deletes tags.
          await update({
            score: { action: 'decr', value: 2 },
            interests: { action: 'remove', value: ['cars'] },
          });
          const after = await getProfile(id);
          assert.equal(after.score, -2);
          assert.deepEqual(list(after.interests), ['cats']);
        });

        test('functions combine with plain values; a creating import applies them to the new profile', async () => {
          const email = `${tag('combined')}@example.com`;
          const step = format === 'json' ? 7 : 9;
          const data = {
            _fname: 'Bob',
            score: { action: 'incr', value: step },
            interests: { action: 'add', value: ['a', 'b'] },
          };
          const created = await ok(h, 'profiles/import', { db_id: w.dbA, email, data }, o);
          let profile = await getProfile(created.profile_id);
          assert.equal(profile.email, email);
          assert.equal(profile._fname, 'Bob');
          assert.equal(profile.score, step);
          assert.deepEqual(profile.interests, ['a', 'b']);
          const again = await ok(
            h,
            'profiles/import',
            { db_id: w.dbA, email, data: { ...data, _fname: 'Bo' } },
            o,
          );
          assert.equal(again.profile_id, created.profile_id);
          profile = await getProfile(created.profile_id);
          assert.equal(profile._fname, 'Bo');
          assert.equal(profile.score, 2 * step);
          assert.deepEqual(profile.interests, ['a', 'b']);
          // The new value is what matching finds (the match keys follow the function's result).
          const found = await ok(
            h,
            'profiles/get',
            { db_id: w.dbA, matching: 'custom', field_name: 'score', field_value: 2 * step },
            o,
          );
          assert.equal(found.data.id, created.profile_id);
          // profiles/add starts from nothing.
          const added = await ok(
            h,
            'profiles/add',
            {
              db_id: w.dbA,
              data: { score: { action: 'incr', value: 2 }, interests: { action: 'delete', value: ['x'] } },
            },
            o,
          );
          const fresh = await getProfile(added.profile_id);
          assert.equal(fresh.score, 2);
          assert.equal(fresh.interests, undefined);
        });

        test('batch calls take functions in every item, each applied in its own call', async () => {
          const id = await addProfile({ score: 1 });
          const emails = [`${tag('batch1')}@example.com`, `${tag('batch2')}@example.com`];
          const answer = await ok(
            h,
            'profiles/import_batch',
            {
              db_id: w.dbA,
              data: [
                { email: emails[0], score: { action: 'incr', value: 10 } },
                { email: emails[1], interests: { action: 'add', value: ['x'] } },
                { email: emails[0], score: { action: 'incr', value: 'ten' } },
              ],
            },
            o,
          );
          const result = list(answer.result);
          assert.equal(String(result[0].error), '0');
          assert.equal(String(result[1].error), '0');
          assert.equal(String(result[2].error), '400');
          assert.match(result[2].error_text, /data\[2\]\.score\.value: expected an integer/);
          assert.equal((await getProfile(result[0].profile_id)).score, 10);
          assert.deepEqual(list((await getProfile(result[1].profile_id)).interests), ['x']);
          const updated = await ok(
            h,
            'profiles/update_batch',
            {
              db_id: w.dbA,
              matching: 'profile_id',
              data: [
                { profile_id: id, score: { action: 'incr', value: 5 } },
                { profile_id: id, score: { action: 'incr', value: 5 } },
              ],
            },
            o,
          );
          assert.deepEqual(
            list(updated.result).map((r) => String(r.error)),
            ['0', '0'],
          );
          assert.equal((await getProfile(id)).score, 11);
        });

        test('a function on the wrong field type, or malformed, is a 400 naming the field; nothing changes', async () => {
          const id = await addProfile({ score: 3, crm: 'C', interests: ['t'] });
          const refuse = (data: Record<string, unknown>, mentions: string | RegExp) =>
            refused(
              h,
              'profiles/update',
              { db_id: w.dbA, profile_id: id, data: { _fname: 'X', ...data } },
              400,
              mentions,
              o,
            );
          await refuse(
            { crm: { action: 'incr', value: 1 } },
            'data.crm: incr applies to int and float fields; crm is string',
          );
          await refuse(
            { score: { action: 'add', value: ['a'] } },
            'data.score: add applies to tags fields; score is int',
          );
          await refuse(
            { interests: { action: 'incr', value: 1 } },
            'data.interests: incr applies to int and float fields',
          );
          await refuse({ score: { action: 'incr', value: 1.5 } }, 'data.score.value: expected an integer');
          await refuse({ score: { action: 'incr' } }, 'data.score.value: required for incr');
          await refuse(
            { score: { action: 'multiply', value: 2 } },
            'data.score.action: expected one of set, unset, incr',
          );
          await refuse({ meta: { action: 'upsert', value: 'y' } }, 'data.meta.action: upsert applies to');
          await refuse(
            { score: { action: 'set', value: 1, submatch: 'x' } },
            'data.score.submatch: unknown name',
          );
          await refuse({ score: { action: 'set' } }, 'data.score.value: required for set');
          await refuse({ email: { action: 'unset' } }, 'data.email: email cannot be unset');
          await refuse({ _status: { action: 'incr', value: 1 } }, 'data._status: incr does not apply');
          if (format === 'json') {
            // XML carries text: there 5 is a string, and a fine value for crm.
            await refuse({ crm: { action: 'set', value: 5 } }, 'data.crm.value: expected a string');
            await refuse({ score: { action: 'incr', value: '1' } }, 'data.score.value: expected an integer');
          }
          const profile = await getProfile(id);
          assert.equal(profile.score, 3);
          assert.equal(profile.crm, 'C');
          assert.equal(profile._fname, undefined);
        });

        test('an increment beyond ±(2^53 − 1) is refused and changes nothing', async () => {
          const id = await addProfile({ score: MAX - 1, crm: 'before' });
          const data = { crm: 'after', score: { action: 'incr', value: 2 } };
          await refused(
            h,
            'profiles/update',
            { db_id: w.dbA, profile_id: id, data },
            400,
            /^data\.score: incr would make it \d+, outside/,
            o,
          );
          const profile = await getProfile(id);
          assert.equal(profile.score, MAX - 1);
          assert.equal(profile.crm, 'before');
        });
      });
    }

    test("XML: the page's tags example, its value elements marked array='true'", async () => {
      const id = await addProfile({ interests: ['old'] });
      const body = `<xml>
<token>${h.admin}</token>
<db_id>${w.dbA}</db_id>
<profile_id>${id}</profile_id>
<data>
<interests>
<action>add</action>
<value array='true'>cars</value>
<value array='true'>cats</value>
</interests>
<score>
<action>incr</action>
<value>-1000</value>
</score>
</data>
</xml>`;
      const answer = await h.send('/api/v1.1/profiles/update', body, { 'content-type': 'application/xml' });
      assert.equal(answer.body.error, '0', answer.raw);
      const profile = await getProfile(id);
      assert.deepEqual(profile.interests, ['old', 'cars', 'cats']);
      assert.equal(profile.score, -1000);
      // One value element is a list of one.
      const one = body.replace(/<value array='true'>cats<\/value>\n/, '').replace('cars', 'dogs');
      await h.send('/api/v1.1/profiles/update', one, { 'content-type': 'application/xml' });
      assert.deepEqual((await getProfile(id)).interests, ['old', 'cars', 'cats', 'dogs']);
      assert.equal(as('xml', (await getProfile(id)).score), '-2000');
    });

    test('concurrent increments and tag additions on one profile never lose an update', async () => {
      const id = await addProfile({ score: 0 });
      const n = 24;
      const answers = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          h.call('profiles/update', {
            db_id: w.dbA,
            profile_id: id,
            data: {
              score: { action: 'incr', value: 1 },
              ratio: { action: 'incr', value: 0.5 },
              interests: { action: 'add', value: [`t${i}`] },
            },
          }),
        ),
      );
      for (const a of answers) assert.equal(a.body.error, 0, a.raw);
      const profile = await getProfile(id);
      assert.equal(profile.score, n);
      assert.equal(profile.ratio, n / 2);
      assert.deepEqual([...profile.interests].sort(), Array.from({ length: n }, (_, i) => `t${i}`).sort());
    });

    test('concurrent imports of one new email with incr make one profile holding every increment', async () => {
      const email = 'concurrent-incr@example.com';
      const n = 16;
      const answers = await Promise.all(
        Array.from({ length: n }, () =>
          h.call('profiles/import', { db_id: w.dbA, email, data: { score: { action: 'incr', value: 2 } } }),
        ),
      );
      for (const a of answers) assert.equal(a.body.error, 0, a.raw);
      const ids = new Set(answers.map((a) => a.body.profile_id));
      assert.equal(ids.size, 1, 'one profile');
      assert.equal((await getProfile([...ids][0])).score, 2 * n);
    });
  });
}
