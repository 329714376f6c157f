// Emails are unique within a database (issue #13, docs/decisions.md): a write that would give a
// profile another profile's email is refused with EMAIL_TAKEN (409) and changes nothing, in JSON
// and XML on every engine, and concurrent writes of one new email leave one profile with it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../support/engines.js';
import { type Harness, startHarness } from '../support/harness.js';
import { adminCall, byId, createWorkspace, FORMATS, list, ok, refused, type Workspace } from './helpers.js';

for (const engine of testEngines()) {
  describe(engine.name, () => {
    let h: Harness;
    let w: Workspace;
    let n = 0;
    const fresh = (name: string) => `${name}-${++n}@example.com`;

    before(async () => {
      h = await startHarness({ engine });
      w = await createWorkspace(h);
    });
    after(() => h.close());

    for (const format of FORMATS) {
      const o = { format };

      test(`${format}: add, import and update refuse another profile's email, whatever its case`, async () => {
        const email = fresh('owner');
        const owner = await ok(h, 'profiles/add', { db_id: w.dbA, data: { email } }, o);
        await refused(
          h,
          'profiles/add',
          { db_id: w.dbA, data: { email: email.toUpperCase() } },
          409,
          'data.email',
          o,
        );
        const phone = `+7 903 ${String(++n).padStart(7, '0')}`;
        const other = await ok(h, 'profiles/add', { db_id: w.dbA, data: { phones: [phone] } }, o);
        await refused(
          h,
          'profiles/import',
          { db_id: w.dbA, matching: 'phone', phone, data: { email, _fname: 'X' } },
          409,
          'is the email of another profile',
          o,
        );
        await refused(
          h,
          'profiles/update',
          { db_id: w.dbA, profile_id: other.profile_id, data: { email } },
          409,
          'data.email',
          o,
        );
        // Nothing changed: the refused writes set no field.
        const got = await adminCall(h, 'profiles/get', { db_id: w.dbA, profile_id: other.profile_id });
        assert.equal(got.data.email, undefined);
        assert.equal(got.data._fname, undefined);
        // The owner may write its own email again; import by that email updates the owner.
        await ok(h, 'profiles/update', { db_id: w.dbA, profile_id: owner.profile_id, data: { email } }, o);
        const imported = await ok(h, 'profiles/import', { db_id: w.dbA, email, data: { _lname: 'O' } }, o);
        assert.equal(imported.profile_id, owner.profile_id);
        // Another database is another namespace.
        await ok(h, 'profiles/add', { db_id: w.dbB, data: { email } }, o);
        // Once the owner's email changes, the address is free.
        await ok(
          h,
          'profiles/update',
          { db_id: w.dbA, profile_id: owner.profile_id, data: { email: null } },
          o,
        );
        await ok(h, 'profiles/update', { db_id: w.dbA, profile_id: other.profile_id, data: { email } }, o);
        // Email matching, relation calls included, finds the one profile.
        const b = await ok(h, 'profiles/add', { db_id: w.dbB, data: {} }, o);
        const attached = await ok(
          h,
          'relations/attach',
          { rel_id: w.relId, profile_a: { email }, profile_b: byId(b.profile_id), weights: {} },
          o,
        );
        assert.equal(attached.profile_a, other.profile_id);
      });

      test(`${format}: a batch answers EMAIL_TAKEN for the item that repeats an email`, async () => {
        const email = fresh('batch');
        const body = await ok(h, 'profiles/add_batch', { db_id: w.dbA, data: [{ email }, { email }] }, o);
        const errors = list(body.result).map((r) => Number(r.error));
        assert.deepEqual(errors.sort(), [0, 409]);
      });
    }

    test('concurrent adds of one new email: exactly one profile gets it', async () => {
      const email = fresh('race');
      const answers = await Promise.all(
        Array.from({ length: 12 }, () => h.call('profiles/add', { db_id: w.dbA, data: { email } })),
      );
      const errors = answers.map((a) => a.body.error).sort((x, y) => x - y);
      assert.deepEqual(errors, [0, ...Array(11).fill(409)]);
      assert.ok(answers.every((a) => a.body.error === 0 || /another profile/.test(a.body.error_text)));
      await ok(h, 'profiles/get', { db_id: w.dbA, email });
    });

    test('concurrent imports of one new email: one profile, found by all of them', async () => {
      const email = fresh('import-race');
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          h.call('profiles/import', { db_id: w.dbA, email, data: { score: i } }),
        ),
      );
      assert.ok(
        answers.every((a) => a.body.error === 0),
        JSON.stringify(answers.map((a) => a.body)),
      );
      assert.equal(new Set(answers.map((a) => a.body.profile_id)).size, 1);
    });
  });
}
