// profiles/import_batch, add_batch and update_batch over HTTP, in JSON and XML, on every engine:
// `data` is a list of flat profiles (Altcraft's shape), each matched by its own fields and answered
// in order in `result`; a failed item changes nothing; the items share one group commit.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isCommitObservable } from '../../src/core/store-stats.js';
import { testEngines } from '../support/engines.js';
import { type Harness, startHarness } from '../support/harness.js';
import { adminCall, createWorkspace, FORMATS, list, ok, refused, type Workspace } from './helpers.js';

for (const engine of testEngines()) {
  describe(engine.name, () => {
    let h: Harness;
    let w: Workspace;
    let n = 0;
    const tag = (name: string) => `${name}-${++n}`;

    before(async () => {
      h = await startHarness({ engine });
      w = await createWorkspace(h);
    });
    after(() => h.close());

    /** The answer's items with numeric errors, whatever the format. */
    const results = (body: Record<string, any>) =>
      list(body.result).map((r) => ({ ...r, error: Number(r.error) }));
    const profile = async (query: Record<string, unknown>) =>
      (await adminCall(h, 'profiles/get', { db_id: w.dbA, ...query })).data;

    for (const format of FORMATS) {
      const o = { format };

      describe(`${format}: import_batch`, () => {
        test("Altcraft's example: flat profiles with an email_data subscription, matched by email", async () => {
          const email = `${tag('john')}@example.com`;
          const body = await ok(
            h,
            'profiles/import_batch',
            {
              db_id: w.dbA,
              skip_triggers: true,
              data: [
                {
                  _fname: 'John',
                  _lname: 'Doe',
                  crm: 'abc',
                  email,
                  subscriptions: [{ channel: 'email', email_data: { email }, resource_id: w.res1 }],
                },
              ],
            },
            o,
          );
          const [r] = results(body);
          assert.equal(r!.error, 0);
          assert.equal(r!.error_text, 'Successful operation');
          const got = await profile({ email });
          assert.equal(got.id, r!.profile_id);
          assert.equal(got._fname, 'John');
          const [sub] = list(got.subscriptions);
          assert.equal(sub.email, email);
          assert.deepEqual(sub.email_data, { email });
        });

        test('each item is matched by its own fields: phone (or the first of phones), profile_id, custom', async () => {
          const phone = `+7 901 ${String(++n).padStart(7, '0')}`;
          const byPhone = await ok(
            h,
            'profiles/add',
            { db_id: w.dbA, data: { phones: [phone], crm: tag('crm') } },
            o,
          );
          const crm = tag('crm');
          const byCrm = await ok(h, 'profiles/add', { db_id: w.dbA, data: { crm } }, o);
          const body = await ok(
            h,
            'profiles/import_batch',
            {
              db_id: w.dbA,
              matching: 'phone',
              data: [
                { phones: [phone], _fname: 'By phones' },
                { phone, _lname: 'By phone' },
                { matching: 'profile_id', profile_id: byCrm.profile_id, _fname: 'By id' },
                { matching: 'custom', field_name: 'crm', crm, score: 7 },
                { _fname: 'No phone' },
                { matching: 'nonsense', phone },
                { resource_id: 'x', phone },
              ],
            },
            o,
          );
          const r = results(body);
          assert.deepEqual(
            r.slice(0, 4).map((x) => [x.error, x.profile_id]),
            [
              [0, byPhone.profile_id],
              [0, byPhone.profile_id],
              [0, byCrm.profile_id],
              [0, byCrm.profile_id],
            ],
          );
          assert.equal(r[4]!.error, 400);
          assert.match(r[4]!.error_text, /^data\[4\]/);
          assert.deepEqual(
            r.slice(5).map((x) => [x.error, x.error_text.split(':')[0]]),
            [
              [400, 'data[5].matching'],
              [400, 'data[6].resource_id'],
            ],
          );
          const a = await profile({ profile_id: byPhone.profile_id });
          assert.deepEqual([a._fname, a._lname], ['By phones', 'By phone']);
          const b = await profile({ profile_id: byCrm.profile_id });
          assert.equal(b._fname, 'By id');
          assert.equal(String(b.score), '7');
        });

        test('a failed item changes nothing and names its parameter; the others are applied', async () => {
          const good = `${tag('good')}@example.com`;
          const bad = `${tag('bad')}@example.com`;
          const body = await ok(
            h,
            'profiles/import_batch',
            {
              db_id: w.dbA,
              data: [
                { email: bad, _fname: 'Bad', score: 'lots' },
                { email: good, _fname: 'Good' },
                { email: `${tag('sub')}@example.com`, subscriptions: [{ resource_id: 999, email: good }] },
              ],
            },
            o,
          );
          const r = results(body);
          assert.deepEqual(
            r.map((x) => x.error),
            [400, 0, 404],
          );
          assert.match(r[0]!.error_text, /^data\[0\]\.score: /);
          assert.match(r[2]!.error_text, /^data\[2\]\.subscriptions\[0\]\.resource_id: /);
          assert.equal(r[0]!.profile_id, undefined);
          await refused(h, 'profiles/get', { db_id: w.dbA, email: bad }, 404, 'profile', o);
          assert.equal((await profile({ email: good }))._fname, 'Good');
        });

        test('a malformed call is refused whole', async () => {
          await refused(h, 'profiles/import_batch', { db_id: w.dbA, data: [] }, 400, 'data', o);
          await refused(h, 'profiles/import_batch', { db_id: 999, data: [{ _fname: 'x' }] }, 404, 'db_id', o);
          await refused(h, 'profiles/import_batch', { data: [{ _fname: 'x' }] }, 400, 'db_id', o);
          if (format === 'json') {
            await refused(
              h,
              'profiles/import_batch',
              { db_id: w.dbA, data: { email: 'x@example.com' } },
              400,
              'data',
              o,
            );
            await refused(h, 'profiles/import_batch', { db_id: w.dbA, data: ['x'] }, 400, 'data', o);
          }
        });
      });

      describe(`${format}: add_batch and update_batch`, () => {
        test('add_batch always creates, even when the email matches (identification keys are refused)', async () => {
          const body = await ok(
            h,
            'profiles/add_batch',
            { db_id: w.dbA, data: [{ _fname: 'A' }, { _fname: 'B', matching: 'email' }] },
            o,
          );
          const r = results(body);
          assert.equal(r[0]!.error, 0);
          assert.equal(r[1]!.error, 400, 'matching is not a field of the database');
          assert.match(r[1]!.error_text, /^data\[1\]\.matching/);
        });

        test('update_batch never creates: an unmatched item is 404, the rest is applied', async () => {
          const email = `${tag('upd')}@example.com`;
          const created = await ok(h, 'profiles/add', { db_id: w.dbA, data: { email } }, o);
          const missing = `${tag('missing')}@example.com`;
          const body = await ok(
            h,
            'profiles/update_batch',
            {
              db_id: w.dbA,
              data: [
                { email: missing, _fname: 'X' },
                { email, _fname: 'Y' },
              ],
            },
            o,
          );
          const r = results(body);
          assert.deepEqual(
            r.map((x) => x.error),
            [404, 0],
          );
          assert.equal(r[1]!.profile_id, created.profile_id);
          await refused(h, 'profiles/get', { db_id: w.dbA, email: missing }, 404, 'profile', o);
        });
      });
    }

    test('the items of one call share one group commit', async (t) => {
      if (!isCommitObservable(h.ties.store)) {
        t.skip('this store does not report its commits');
        return;
      }
      const commits: number[] = [];
      const stop = h.ties.store.onCommit((info) => commits.push(info.ops));
      try {
        const body = await ok(h, 'profiles/add_batch', {
          db_id: w.dbA,
          data: Array.from({ length: 40 }, (_, i) => ({ _fname: `P${i}` })),
        });
        assert.ok(results(body).every((r) => r.error === 0));
      } finally {
        stop();
      }
      assert.ok(commits.includes(40), `the 40 items were committed as ${JSON.stringify(commits)}`);
    });
  });
}
