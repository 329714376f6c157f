// SPEC §3 and §6 over HTTP, in JSON and XML: profiles/import, add, update, get and delete,
// field typing and validation, subscriptions, and delete removing every relation on both sides.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadDemo } from '../../src/demo.js';
import { testEngines } from '../support/engines.js';
import { type Harness, startHarness } from '../support/harness.js';
import {
  addProfile,
  adminCall,
  as,
  byId,
  counterOf,
  createWorkspace,
  FORMATS,
  list,
  ok,
  refused,
  relationsOf,
  type Workspace,
} from './helpers.js';

for (const engine of testEngines()) {
  describe(engine.name, () => {
    let h: Harness;
    let w: Workspace;
    let writeToken: string;
    let deleteToken: string;
    let readToken: string;

    before(async () => {
      h = await startHarness({ engine });
      w = await createWorkspace(h);
      const token = async (rights: string[]) =>
        (await adminCall(h, 'tokens/create', { name: rights.join('+'), rights })).data.token as string;
      writeToken = await token(['write']);
      deleteToken = await token(['delete']);
      readToken = await token(['read']);
    });
    after(() => h.close());

    const getProfile = async (params: Record<string, unknown>) =>
      (await adminCall(h, 'profiles/get', { db_id: w.dbA, ...params })).data as Record<string, any>;

    for (const format of FORMATS) {
      const o = { format };
      const tag = (name: string) => `${name}-${format}`;

      describe(`${format}: profiles/import`, () => {
        test('creates a profile with the email it was matched by, then updates that profile', async () => {
          const email = `${tag('import')}@example.com`;
          const created = await ok(
            h,
            'profiles/import',
            { db_id: w.dbA, email, data: { _fname: 'Ann', score: 1 } },
            o,
          );
          assert.match(created.profile_id, /^[0-9a-f]{24}$/);
          assert.equal(created.error_text, 'Successful operation');
          let profile = await getProfile({ profile_id: created.profile_id });
          assert.equal(profile.email, email);
          assert.equal(profile._fname, 'Ann');
          const updated = await ok(
            h,
            'profiles/import',
            { db_id: w.dbA, email: email.toUpperCase(), data: { score: 2, _lname: 'Lee' } },
            o,
          );
          assert.equal(updated.profile_id, created.profile_id);
          profile = await getProfile({ profile_id: created.profile_id });
          assert.equal(profile.score, 2);
          assert.equal(profile._fname, 'Ann');
          assert.equal(profile._lname, 'Lee');
          assert.equal(profile.email, email);
        });

        test('a created profile gets the phone it was matched by', async () => {
          const phone = format === 'json' ? '+1 (555) 000-0101' : '+1 (555) 000-0102';
          const created = await ok(h, 'profiles/import', { db_id: w.dbA, phone, data: {} }, o);
          const profile = await getProfile({ profile_id: created.profile_id });
          assert.deepEqual(profile.phones, [phone]);
          const again = await ok(
            h,
            'profiles/import',
            { db_id: w.dbA, phone: phone.replace(/\D/g, ''), data: { _city: 'Oslo' } },
            o,
          );
          assert.equal(again.profile_id, created.profile_id);
        });

        test('data setting the matched field wins over the identification', async () => {
          const created = await ok(
            h,
            'profiles/import',
            {
              db_id: w.dbA,
              email: `${tag('matched')}@example.com`,
              data: { email: `${tag('given')}@example.com` },
            },
            o,
          );
          assert.equal(
            (await getProfile({ profile_id: created.profile_id })).email,
            `${tag('given')}@example.com`,
          );
        });

        test('custom matching gives a created profile the field value', async () => {
          const crm = tag('CRM-import');
          const created = await ok(
            h,
            'profiles/import',
            { db_id: w.dbA, field_name: 'crm', field_value: crm, data: {} },
            o,
          );
          assert.equal((await getProfile({ profile_id: created.profile_id })).crm, crm);
          const again = await ok(
            h,
            'profiles/import',
            { db_id: w.dbA, field_name: 'crm', field_value: crm, data: { score: 3 } },
            o,
          );
          assert.equal(again.profile_id, created.profile_id);
        });

        test('profile_id matching updates but never creates (404)', async () => {
          const id = await addProfile(h, w.dbA, { score: 1 });
          const updated = await ok(
            h,
            'profiles/import',
            { db_id: w.dbA, profile_id: id, data: { score: 5 } },
            o,
          );
          assert.equal(updated.profile_id, id);
          assert.equal((await getProfile({ profile_id: id })).score, 5);
          await refused(
            h,
            'profiles/import',
            { db_id: w.dbA, profile_id: 'eeeeeeeeeeeeeeeeeeeeeeee', data: { score: 1 } },
            404,
            'profile',
            o,
          );
          await refused(
            h,
            'profiles/get',
            { db_id: w.dbA, profile_id: 'eeeeeeeeeeeeeeeeeeeeeeee' },
            404,
            'profile',
            o,
          );
        });

        test('an ambiguous match is 409 and changes nothing', async () => {
          const crm = tag('twin');
          const p1 = await addProfile(h, w.dbA, { crm, score: 1 });
          const p2 = await addProfile(h, w.dbA, { crm, score: 1 });
          await refused(
            h,
            'profiles/import',
            { db_id: w.dbA, field_name: 'crm', field_value: crm, data: { score: 9 } },
            409,
            'more than one',
            o,
          );
          assert.equal((await getProfile({ profile_id: p1 })).score, 1);
          assert.equal((await getProfile({ profile_id: p2 })).score, 1);
        });

        test('an unknown db_id is 404 naming it; a missing one is 400', async () => {
          await refused(
            h,
            'profiles/import',
            { db_id: 999, email: 'x@example.com', data: {} },
            404,
            'db_id',
            o,
          );
          await refused(h, 'profiles/import', { email: 'x@example.com', data: {} }, 400, 'db_id', o);
        });
      });

      describe(`${format}: profiles/add and update`, () => {
        test('add always creates, but never a second profile with an email (EMAIL_TAKEN)', async () => {
          const email = `${tag('add')}@example.com`;
          const first = await ok(h, 'profiles/add', { db_id: w.dbA, data: { _fname: 'A' } }, o);
          const second = await ok(h, 'profiles/add', { db_id: w.dbA, data: { _fname: 'A', email } }, o);
          assert.notEqual(first.profile_id, second.profile_id);
          await refused(h, 'profiles/add', { db_id: w.dbA, data: { email } }, 409, 'data.email', o);
          const got = await ok(h, 'profiles/get', { db_id: w.dbA, email }, o);
          assert.equal(got.data.id, second.profile_id);
        });

        test('add with no data creates an empty profile', async () => {
          const created = await ok(h, 'profiles/add', { db_id: w.dbB }, o);
          const profile = (
            await adminCall(h, 'profiles/get', { db_id: w.dbB, profile_id: created.profile_id })
          ).data;
          assert.equal(profile.id, created.profile_id);
          assert.equal(profile.db_id, w.dbB);
          assert.deepEqual(profile.subscriptions, []);
        });

        test('update changes the matched profile; null removes a field; 404 when none', async () => {
          const email = `${tag('update')}@example.com`;
          const id = await addProfile(h, w.dbA, { email, _fname: 'Old', score: 3 });
          const updated = await ok(
            h,
            'profiles/update',
            { db_id: w.dbA, email, data: { _fname: 'New', score: null } },
            o,
          );
          assert.equal(updated.profile_id, id);
          const profile = await getProfile({ profile_id: id });
          assert.equal(profile._fname, 'New');
          assert.equal(profile.score, undefined);
          await refused(
            h,
            'profiles/update',
            { db_id: w.dbA, email: `${tag('nobody')}@example.com`, data: { _fname: 'X' } },
            404,
            'profile',
            o,
          );
          await refused(
            h,
            'profiles/get',
            { db_id: w.dbA, email: `${tag('nobody')}@example.com` },
            404,
            'profile',
            o,
          );
        });
      });

      describe(`${format}: field values`, () => {
        test('profiles/get answers fields with id, db_id, _xxh and subscriptions', async () => {
          const email = `${tag('full')}@example.com`;
          const n = format === 'json' ? 1 : 2;
          const data = {
            email,
            phones: [`+7 900 000-00-0${n}`, `8 800 555 35 3${n}`],
            _fname: 'Full',
            _sex: 2,
            crm: 'C-1',
            score: -42,
            ratio: 0.25,
            vip: true,
            interests: ['jazz', 'chess', 'jazz'],
            subscriptions: [
              { resource_id: w.res1, channel: 'email', email, status: 'subscribed' },
              {
                resource_id: w.res2,
                channel: 'sms',
                phone: `+7 900 000-00-0${n}`,
                status: 'unsubscribed',
                priority: 5,
              },
            ],
          };
          const created = await ok(h, 'profiles/add', { db_id: w.dbA, data }, o);
          const body = await ok(h, 'profiles/get', { db_id: w.dbA, profile_id: created.profile_id }, o);
          const profile = body.data;
          const { subscriptions: _s, interests: _i, ...fields } = data;
          for (const [name, value] of Object.entries(fields)) {
            assert.deepEqual(profile[name], as(format, value), name);
          }
          assert.deepEqual(profile.interests, as(format, ['jazz', 'chess']));
          assert.equal(profile.id, created.profile_id);
          assert.equal(profile.db_id, as(format, w.dbA));
          assert.match(profile._xxh, /^[0-9a-f]{16}$/);
          assert.deepEqual(
            profile.subscriptions,
            as(format, [
              {
                resource_id: w.res1,
                channel: 'email',
                email,
                email_data: { email },
                status: 'subscribed',
                priority: 0,
                is_delete: false,
              },
              {
                resource_id: w.res2,
                channel: 'sms',
                phone: `+7 900 000-00-0${n}`,
                status: 'unsubscribed',
                priority: 5,
                is_delete: false,
              },
            ]),
          );
          // The profile is found by its subscription phone and by its field phone.
          const bySms = await ok(
            h,
            'profiles/get',
            { db_id: w.dbA, matching: 'phone_sub', phone: `7900000000${n}` },
            o,
          );
          assert.equal(bySms.data.id, created.profile_id);
          const byPhone = await ok(h, 'profiles/get', { db_id: w.dbA, phone: `8800555353${n}` }, o);
          assert.equal(byPhone.data.id, created.profile_id);
        });

        test('dates and datetimes are answered as ISO, whether sent as ISO or epoch milliseconds', async () => {
          const bornMs = Date.UTC(1990, 4, 17);
          const seenMs = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
          const asIso = await addProfile(h, w.dbA, {
            born: '1990-05-17',
            seen: '2024-01-02T06:04:05.678+03:00',
            _bdate: '2001-02-03',
            _regdate: '2024-01-02T03:04:05.678Z',
          });
          const created = await ok(
            h,
            'profiles/add',
            {
              db_id: w.dbA,
              data: { born: bornMs, seen: seenMs, _bdate: Date.UTC(2001, 1, 3), _regdate: seenMs },
            },
            o,
          );
          for (const id of [asIso, created.profile_id]) {
            const profile = (await ok(h, 'profiles/get', { db_id: w.dbA, profile_id: id }, o)).data;
            assert.equal(profile.born, '1990-05-17');
            assert.equal(profile.seen, '2024-01-02T03:04:05.678Z');
            assert.equal(profile._bdate, '2001-02-03');
            assert.equal(profile._regdate, '2024-01-02T03:04:05.678Z');
          }
          await refused(
            h,
            'profiles/add',
            { db_id: w.dbA, data: { born: '1990-02-31' } },
            400,
            'data.born',
            o,
          );
          await refused(
            h,
            'profiles/add',
            { db_id: w.dbA, data: { seen: 'yesterday' } },
            400,
            'data.seen',
            o,
          );
        });

        test('empty values: "" for a string, [] for tags and phones, 400 for a number (empty elements in XML)', async () => {
          const created = await ok(
            h,
            'profiles/add',
            { db_id: w.dbA, data: { crm: '', interests: [], phones: [], subscriptions: [] } },
            o,
          );
          const profile = await getProfile({ profile_id: created.profile_id });
          assert.equal(profile.crm, '');
          assert.deepEqual(profile.interests, []);
          assert.deepEqual(profile.phones, []);
          assert.deepEqual(profile.subscriptions, []);
          await refused(h, 'profiles/add', { db_id: w.dbA, data: { score: '' } }, 400, 'data.score', o);
        });

        test('an unknown field in data is 400 naming data.<name>, and nothing is created', async () => {
          const email = `${tag('unknown-field')}@example.com`;
          await refused(
            h,
            'profiles/add',
            { db_id: w.dbA, data: { email, shoe_size: 42 } },
            400,
            'data.shoe_size',
            o,
          );
          await refused(
            h,
            'profiles/import',
            { db_id: w.dbA, email, data: { Score: 1 } },
            400,
            'data.Score',
            o,
          );
          await refused(h, 'profiles/get', { db_id: w.dbA, email }, 404, 'profile', o);
        });

        test('_status and _sex are Altcraft numbers in and out; a date keeps the day the client wrote', async () => {
          const email = `${tag('numbers')}@example.com`;
          // The shape of Altcraft's profile data object: _status 0, _sex 0, dates with an offset.
          const created = await ok(
            h,
            'profiles/import',
            {
              db_id: w.dbA,
              email,
              data: {
                _status: 0,
                _sex: 0,
                _bdate: '2001-12-31T00:00+03:00',
                _regdate: '2019-03-14T22:00:00Z',
              },
            },
            o,
          );
          const got = (await ok(h, 'profiles/get', { db_id: w.dbA, profile_id: created.profile_id }, o)).data;
          assert.equal(got._status, as(format, 0));
          assert.equal(got._sex, as(format, 0));
          assert.equal(got._bdate, '2001-12-31');
          assert.equal(got._regdate, '2019-03-14T22:00:00.000Z');
          await ok(
            h,
            'profiles/update',
            { db_id: w.dbA, email, data: { _status: 1, _sex: 2, born: '1990-02-22T21:00:00Z' } },
            o,
          );
          const updated = (await ok(h, 'profiles/get', { db_id: w.dbA, email }, o)).data;
          assert.equal(updated._status, as(format, 1));
          assert.equal(updated._sex, as(format, 2));
          assert.equal(updated.born, '1990-02-22');
          // A profile that never wrote _status answers 0.
          const plain = await ok(h, 'profiles/add', { db_id: w.dbA, data: {} }, o);
          const answered = (await ok(h, 'profiles/get', { db_id: w.dbA, profile_id: plain.profile_id }, o))
            .data;
          assert.equal(answered._status, as(format, 0));
        });

        test('an ill-typed field is 400 naming it, and nothing is created', async () => {
          const email = `${tag('ill-typed')}@example.com`;
          const bad: Record<string, unknown>[] = [
            { score: 'many' },
            { score: 1.5 },
            { ratio: 'half' },
            { vip: 'perhaps' },
            { email: 'not an email' },
            { phones: ['12'] },
            { interests: ['a,b'] },
            { _xxh: '0000000000000000' },
            { _status: 'blocked' },
            { _status: 256 },
            { _sex: 3 },
            { _sex: -1 },
            { _bdate: '2026-02-31T00:00+03:00' },
          ];
          if (format === 'json')
            bad.push({ score: '5' }, { vip: 1 }, { crm: 5 }, { phones: '+7 900 000 00 00' });
          for (const data of bad) {
            const name = Object.keys(data)[0]!;
            await refused(h, 'profiles/import', { db_id: w.dbA, email, data }, 400, `data.${name}`, o);
          }
          await refused(h, 'profiles/get', { db_id: w.dbA, email }, 404, 'profile', o);
        });

        test('subscriptions must name a resource open to the database and its channel', async () => {
          const other = (await adminCall(h, 'databases/create', { name: tag('closed') })).data.id;
          const closed = (
            await adminCall(h, 'resources/create', {
              name: tag('closed'),
              channels: ['email'],
              dbs_ids: [other],
            })
          ).data.id;
          const sub = (s: Record<string, unknown>) => ({ db_id: w.dbA, data: { subscriptions: [s] } });
          await refused(
            h,
            'profiles/add',
            sub({ resource_id: 999, channel: 'email', email: 'a@b.c' }),
            404,
            'resource 999',
            o,
          );
          await refused(
            h,
            'profiles/add',
            sub({ resource_id: closed, channel: 'email', email: 'a@b.c' }),
            400,
            'data.subscriptions[0].resource_id',
            o,
          );
          await refused(
            h,
            'profiles/add',
            sub({ resource_id: w.res1, channel: 'push', subscription_id: 'x' }),
            400,
            'data.subscriptions[0].channel',
            o,
          );
          await refused(
            h,
            'profiles/add',
            sub({ resource_id: w.res1, channel: 'email', email: 'a@b.c', status: 'maybe' }),
            400,
            'status',
            o,
          );
          await refused(
            h,
            'profiles/add',
            sub({ resource_id: w.res1, channel: 'sms' }),
            400,
            'data.subscriptions[0].phone',
            o,
          );
        });
      });

      describe(`${format}: profiles/delete`, () => {
        test('needs the delete right: write and read tokens get 403 and the profile stays', async () => {
          const id = await addProfile(h, w.dbA, { email: `${tag('keep')}@example.com` });
          for (const token of [writeToken, readToken]) {
            await refused(h, 'profiles/delete', { db_id: w.dbA, profile_id: id }, 403, 'delete', {
              ...o,
              token,
            });
          }
          assert.equal((await getProfile({ profile_id: id })).id, id);
          const body = await ok(
            h,
            'profiles/delete',
            { db_id: w.dbA, email: `${tag('keep')}@example.com` },
            { ...o, token: deleteToken },
          );
          assert.deepEqual(body.data, { profile_id: id });
          await refused(h, 'profiles/get', { db_id: w.dbA, profile_id: id }, 404, 'profile', o);
          await refused(h, 'profiles/delete', { db_id: w.dbA, profile_id: id }, 404, 'profile', {
            ...o,
            token: deleteToken,
          });
        });

        test('removes every relation the profile takes part in, on both sides', async () => {
          // P (in db_b) initiates likes to A1 and A2, and both knows (db_b → db_b) directions with Q.
          const [a1, a2] = [await addProfile(h, w.dbA), await addProfile(h, w.dbA)];
          const p = await addProfile(h, w.dbB, { email: `${tag('victim')}@example.com` });
          const q = await addProfile(h, w.dbB);
          const keep = await addProfile(h, w.dbB);
          const likes = (a: string, b: string, count: number) =>
            ok(h, 'relations/attach', {
              rel_id: w.relId,
              profile_a: byId(a),
              profile_b: byId(b),
              weights: { count },
            });
          const knows = (a: string, b: string) =>
            ok(h, 'relations/attach', {
              rel_id: w.sameRel,
              profile_a: byId(a),
              profile_b: byId(b),
              weights: { n: 1 },
            });
          await likes(a1, p, 50);
          await likes(a2, p, 60);
          await likes(a1, keep, 5);
          await knows(p, q);
          await knows(q, p);
          await knows(q, keep);

          const body = await ok(
            h,
            'profiles/delete',
            { db_id: w.dbB, profile_id: p },
            { ...o, token: deleteToken },
          );
          assert.deepEqual(body.data, as(format, { profile_id: p }));

          // As B of likes: gone from A1's and A2's lists and counters.
          const r1 = await relationsOf(h, w.relId, a1);
          assert.deepEqual(
            r1.data.map((r) => r.profile_id_b),
            [keep],
          );
          assert.equal(r1.total_count, 1);
          assert.deepEqual((await relationsOf(h, w.relId, a2)).data, []);
          const c1 = await counterOf(h, w.relId, a1);
          assert.equal(c1.total, 1);
          assert.deepEqual(c1.props.count, { total: 1, top: [{ profile_id: keep, value: 5 }], sum: 5 });
          const c2 = await counterOf(h, w.relId, a2);
          assert.equal(c2.total, 0);
          assert.deepEqual(c2.props, {});
          // As A and as B of knows: Q keeps only its relation to keep.
          const qAsA = await relationsOf(h, w.sameRel, q);
          assert.deepEqual(
            qAsA.data.map((r) => r.profile_id_b),
            [keep],
          );
          const qAsB = await adminCall(h, 'relations/get', { rel_id: w.sameRel, profile_id: q, side: 'b' });
          assert.deepEqual(qAsB.data, []);
          assert.equal(qAsB.total_count, 0);
          // The profile itself is gone from every call.
          await refused(h, 'relations/get', { rel_id: w.relId, profile_id: p, side: 'b' }, 404, 'profile', o);
          await refused(h, 'relations/get_counter', { rel_id: w.sameRel, profile_id: p }, 404, 'profile', o);
          await refused(
            h,
            'profiles/get',
            { db_id: w.dbB, email: `${tag('victim')}@example.com` },
            404,
            'profile',
            o,
          );
          // A relation to it cannot be made any more.
          await refused(
            h,
            'relations/strengthen',
            { rel_id: w.relId, profile_a: byId(a1), profile_b: byId(p), weights: { count: 1 } },
            404,
            'profile_b',
            o,
          );
        });

        test("deleting a profile A removes its relations from its initiators' side-b lists", async () => {
          const a = await addProfile(h, w.dbA);
          const b = await addProfile(h, w.dbB);
          await ok(h, 'relations/attach', {
            rel_id: w.relId,
            profile_a: byId(a),
            profile_b: byId(b),
            weights: { count: 1 },
          });
          await ok(h, 'profiles/delete', { db_id: w.dbA, profile_id: a }, { ...o, token: deleteToken });
          const side = await ok(h, 'relations/get', { rel_id: w.relId, profile_id: b, side: 'b' }, o);
          assert.deepEqual(list(side.data), []);
          assert.equal(side.total_count, as(format, 0));
        });

        test('delete looks in the given database only', async () => {
          const b = await addProfile(h, w.dbB);
          await refused(h, 'profiles/delete', { db_id: w.dbA, profile_id: b }, 404, 'profile', {
            ...o,
            token: deleteToken,
          });
          assert.equal((await adminCall(h, 'profiles/get', { db_id: w.dbB, profile_id: b })).data.id, b);
        });
      });
    }

    test("_xxh is XXH64 of the id: Altcraft's test vectors (demo profiles)", async () => {
      const t = await startHarness({ engine });
      try {
        await loadDemo(t.ties);
        const vectors: [string, string][] = [
          ['669e6968ebf4ac52b623a997', '5af1023c84f66195'],
          ['6751b8f1c5e3db9bcb75befa', '879cebbb0e6b6723'],
          ['5c910f6bc484d023b1309bee', '54ec2d76ac22a964'],
        ];
        const dbs = (await ok(t, 'databases/list', {})).data.map((d: any) => d.id as number);
        for (const [id, xxh] of vectors) {
          let found = false;
          for (const db_id of dbs) {
            const answer = await t.call('profiles/get', { db_id, profile_id: id });
            if (answer.body.error !== 0) continue;
            found = true;
            assert.equal(answer.body.data._xxh, xxh);
            const rel = await t.call('relations/get', { rel_id: 3, profile_id: id, side: 'b' });
            for (const row of rel.body.data ?? []) assert.equal(row.xxh_b, xxh);
          }
          assert.ok(found, `demo profile ${id}`);
        }
        const counter = await ok(t, 'relations/get_counter', {
          rel_id: 3,
          profile_id: '5c910f6bc484d023b1309bee',
        });
        assert.equal(counter.data.profile_xxh, '54ec2d76ac22a964');
      } finally {
        await t.close();
      }
    });
  });
}
