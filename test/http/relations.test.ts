// SPEC §5 over HTTP, in JSON and XML: attach, detach, strengthen, edit, get and get_counter,
// including paging, the other direction, aggregates, overflow and concurrent strengthening.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../support/engines.js';
import { type Harness, startHarness } from '../support/harness.js';
import {
  addProfile,
  addProfiles,
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
  weightsOf,
} from './helpers.js';

const MAX = Number.MAX_SAFE_INTEGER;

for (const engine of testEngines()) {
  describe(engine.name, () => {
    let h: Harness;
    let w: Workspace;

    before(async () => {
      h = await startHarness({ engine });
      w = await createWorkspace(h);
    });
    after(() => h.close());

    /** A fresh recipient and initiator. */
    const pair = async () => ({ a: await addProfile(h, w.dbA), b: await addProfile(h, w.dbB) });
    const rel = (a: string, b: string, weights?: unknown) => ({
      rel_id: w.relId,
      profile_a: byId(a),
      profile_b: byId(b),
      ...(weights === undefined ? {} : { weights }),
    });

    for (const format of FORMATS) {
      const o = { format };

      describe(`${format}: attach`, () => {
        test('creates the relation with typed weights and answers the pair', async () => {
          const { a, b } = await pair();
          const weights = { count: 5, amount: 1.25, active: false, note: 'first', plain: -3 };
          const answer = await ok(h, 'relations/attach', rel(a, b, weights), o);
          assert.deepEqual(
            answer,
            as(format, { error: 0, error_text: '', profile_a: a, profile_b: b, relation_id: w.relId }),
          );
          assert.deepEqual(await weightsOf(h, w.relId, a, b), weights);
        });

        test('weights {} is allowed', async () => {
          const { a, b } = await pair();
          await ok(h, 'relations/attach', rel(a, b, {}), o);
          assert.deepEqual(await weightsOf(h, w.relId, a, b), {});
        });

        test('an unknown weight is 400 naming weights.<name>, and nothing is written', async () => {
          const { a, b } = await pair();
          await refused(
            h,
            'relations/attach',
            rel(a, b, { count: 1, colour: 'red' }),
            400,
            'weights.colour',
            o,
          );
          await refused(h, 'relations/attach', rel(a, b, { constructor: 1 }), 400, 'weights.constructor', o);
          assert.equal(await weightsOf(h, w.relId, a, b), undefined);
          assert.equal((await counterOf(h, w.relId, a)).total, 0);
        });

        test('a value of the wrong type is 400 naming the weight', async () => {
          const { a, b } = await pair();
          const wrong: Record<string, unknown>[] = [
            { count: 1.5 },
            { count: 'many' },
            { count: MAX + 2 },
            { amount: 'lots' },
            { active: 'maybe' },
          ];
          if (format === 'json')
            wrong.push({ count: '3' }, { active: 'true' }, { active: 1 }, { note: 5 }, { count: true });
          for (const weights of wrong) {
            await refused(
              h,
              'relations/attach',
              rel(a, b, weights),
              400,
              `weights.${Object.keys(weights)[0]}`,
              o,
            );
          }
          assert.equal(await weightsOf(h, w.relId, a, b), undefined);
        });

        test('missing or non-object weights is 400 naming weights', async () => {
          const { a, b } = await pair();
          await refused(h, 'relations/attach', rel(a, b), 400, 'weights', o);
          await refused(h, 'relations/attach', rel(a, b, 'heavy'), 400, 'weights', o);
          if (format === 'json') await refused(h, 'relations/attach', rel(a, b, [1]), 400, 'weights', o);
          assert.equal(await weightsOf(h, w.relId, a, b), undefined);
        });

        test('a self-relation is 400, however the sides name the profile', async () => {
          const p = await addProfile(h, w.dbB, { email: `self-${format}@example.com` });
          const params = { rel_id: w.sameRel, profile_a: byId(p), profile_b: byId(p), weights: { n: 1 } };
          await refused(h, 'relations/attach', params, 400, 'itself', o);
          await refused(h, 'relations/strengthen', params, 400, 'itself', o);
          await refused(h, 'relations/edit', params, 400, 'itself', o);
          await refused(
            h,
            'relations/attach',
            { ...params, profile_b: { email: `SELF-${format}@example.com` } },
            400,
            'itself',
            o,
          );
          assert.equal((await counterOf(h, w.sameRel, p)).total, 0);
        });

        test('an unknown rel_id is 404 naming it', async () => {
          const { a, b } = await pair();
          await refused(
            h,
            'relations/attach',
            { ...rel(a, b, {}), rel_id: 999 },
            404,
            'rel_id: relation type 999',
            o,
          );
        });

        test('an unknown profile is 404 naming the side', async () => {
          const { a, b } = await pair();
          await refused(h, 'relations/attach', rel('aaaaaaaaaaaaaaaaaaaaaaaa', b, {}), 404, 'profile_a', o);
          await refused(h, 'relations/attach', rel(a, 'bbbbbbbbbbbbbbbbbbbbbbbb', {}), 404, 'profile_b', o);
        });

        test('attaching an existing relation is 409 and changes nothing', async () => {
          const { a, b } = await pair();
          await ok(h, 'relations/attach', rel(a, b, { count: 1 }), o);
          await refused(h, 'relations/attach', rel(a, b, { count: 9, note: 'x' }), 409, 'already', o);
          assert.deepEqual(await weightsOf(h, w.relId, a, b), { count: 1 });
        });

        test('concurrent attaches of one pair: exactly one succeeds, the others are 409', async () => {
          const { a, b } = await pair();
          const answers = await Promise.all(
            Array.from({ length: 20 }, (_, i) => h.call('relations/attach', rel(a, b, { count: i }), o)),
          );
          const errors = answers.map((x) => Number(x.body.error)).sort((x, y) => x - y);
          assert.deepEqual(errors, [0, ...Array(19).fill(409)]);
          assert.equal((await relationsOf(h, w.relId, a)).total_count, 1);
        });
      });

      describe(`${format}: detach`, () => {
        test('removes the relation; detaching again is 404', async () => {
          const { a, b } = await pair();
          const other = await addProfile(h, w.dbB);
          await ok(h, 'relations/attach', rel(a, b, { count: 2 }), o);
          await ok(h, 'relations/attach', rel(a, other, { count: 3 }), o);
          const answer = await ok(h, 'relations/detach', rel(a, b), o);
          assert.deepEqual(
            answer,
            as(format, { error: 0, error_text: '', profile_a: a, profile_b: b, relation_id: w.relId }),
          );
          assert.equal(await weightsOf(h, w.relId, a, b), undefined);
          const counter = await counterOf(h, w.relId, a);
          assert.equal(counter.total, 1);
          assert.equal(counter.props.count.sum, 3);
          await refused(h, 'relations/detach', rel(a, b), 404, 'relation', o);
          assert.deepEqual(await weightsOf(h, w.relId, a, other), { count: 3 });
        });

        test('404 when the profiles exist but are not related; the direction matters', async () => {
          const { a, b } = await pair();
          await refused(h, 'relations/detach', rel(a, b), 404, 'has no relation', o);
          const p = await addProfile(h, w.dbB);
          const q = await addProfile(h, w.dbB);
          await ok(
            h,
            'relations/attach',
            { rel_id: w.sameRel, profile_a: byId(p), profile_b: byId(q), weights: {} },
            o,
          );
          await refused(
            h,
            'relations/detach',
            { rel_id: w.sameRel, profile_a: byId(q), profile_b: byId(p) },
            404,
            'has no relation',
            o,
          );
          await ok(h, 'relations/detach', { rel_id: w.sameRel, profile_a: byId(p), profile_b: byId(q) }, o);
        });

        test('unknown profiles are 404 naming the side; weights are ignored', async () => {
          const { a, b } = await pair();
          await refused(h, 'relations/detach', rel(a, 'cccccccccccccccccccccccc'), 404, 'profile_b', o);
          await ok(h, 'relations/attach', rel(a, b, {}), o);
          await ok(h, 'relations/detach', rel(a, b, { count: 1 }), o);
        });
      });

      describe(`${format}: strengthen`, () => {
        test('adds to numbers, subtracts negatives, sets bool and string', async () => {
          const { a, b } = await pair();
          await ok(h, 'relations/attach', rel(a, b, { count: 5, amount: 1.5, active: false, note: 'a' }), o);
          const answer = await ok(
            h,
            'relations/strengthen',
            rel(a, b, { count: 3, amount: 2.25, active: true, note: 'b' }),
            o,
          );
          assert.deepEqual(
            answer,
            as(format, { error: 0, error_text: '', profile_a: a, profile_b: b, relation_id: w.relId }),
          );
          assert.deepEqual(await weightsOf(h, w.relId, a, b), {
            count: 8,
            amount: 3.75,
            active: true,
            note: 'b',
          });
          await ok(h, 'relations/strengthen', rel(a, b, { count: -10, amount: -3.75 }), o);
          assert.deepEqual(await weightsOf(h, w.relId, a, b), {
            count: -2,
            amount: 0,
            active: true,
            note: 'b',
          });
        });

        test('a missing value counts as 0; unlisted ones are kept', async () => {
          const { a, b } = await pair();
          await ok(h, 'relations/attach', rel(a, b, { count: 1 }), o);
          await ok(h, 'relations/strengthen', rel(a, b, { plain: 4, amount: -0.5 }), o);
          assert.deepEqual(await weightsOf(h, w.relId, a, b), { count: 1, plain: 4, amount: -0.5 });
        });

        test('creates the relation when missing', async () => {
          const { a, b } = await pair();
          await ok(h, 'relations/strengthen', rel(a, b, { count: 2, note: 'new' }), o);
          assert.deepEqual(await weightsOf(h, w.relId, a, b), { count: 2, note: 'new' });
          const counter = await counterOf(h, w.relId, a);
          assert.equal(counter.total, 1);
          assert.equal(counter.props.count.sum, 2);
        });

        test('an int result beyond ±(2^53 − 1) is 400 and the whole call is refused', async () => {
          const { a, b } = await pair();
          await ok(
            h,
            'relations/attach',
            rel(a, b, { count: MAX - 1, plain: -(MAX - 1), note: 'before', amount: 1 }),
            o,
          );
          const before = await counterOf(h, w.relId, a);
          await refused(
            h,
            'relations/strengthen',
            rel(a, b, { note: 'after', amount: 5, count: 2 }),
            400,
            'weights.count',
            o,
          );
          await refused(
            h,
            'relations/strengthen',
            rel(a, b, { plain: -2, active: true }),
            400,
            'weights.plain',
            o,
          );
          assert.deepEqual(await weightsOf(h, w.relId, a, b), {
            count: MAX - 1,
            plain: -(MAX - 1),
            note: 'before',
            amount: 1,
          });
          assert.deepEqual(await counterOf(h, w.relId, a), before);
          // Reaching the bound exactly is fine.
          await ok(h, 'relations/strengthen', rel(a, b, { count: 1, plain: -1 }), o);
          assert.deepEqual(await weightsOf(h, w.relId, a, b), {
            count: MAX,
            plain: -MAX,
            note: 'before',
            amount: 1,
          });
        });

        test('a float result that would be infinite is 400', async () => {
          const { a, b } = await pair();
          await ok(h, 'relations/attach', rel(a, b, { amount: 1.7e308 }), o);
          await refused(h, 'relations/strengthen', rel(a, b, { amount: 1.7e308 }), 400, 'weights.amount', o);
          assert.deepEqual(await weightsOf(h, w.relId, a, b), { amount: 1.7e308 });
        });

        test('an unknown weight is refused and nothing is created', async () => {
          const { a, b } = await pair();
          await refused(
            h,
            'relations/strengthen',
            rel(a, b, { count: 1, bogus: 1 }),
            400,
            'weights.bogus',
            o,
          );
          assert.equal(await weightsOf(h, w.relId, a, b), undefined);
        });

        test('200 concurrent strengthens of one relation lose no increment', async () => {
          const { a, b } = await pair();
          await ok(h, 'relations/attach', rel(a, b, { count: 0, amount: 0 }), o);
          const answers = await Promise.all(
            Array.from({ length: 200 }, (_, i) =>
              h.call('relations/strengthen', rel(a, b, { count: i % 2 === 0 ? 3 : -1, amount: 0.5 }), o),
            ),
          );
          assert.deepEqual(
            answers.filter((x) => String(x.body.error) !== '0').map((x) => x.raw),
            [],
          );
          assert.deepEqual(await weightsOf(h, w.relId, a, b), { count: 100 * 3 - 100, amount: 100 });
          const counter = await counterOf(h, w.relId, a);
          assert.equal(counter.props.count.sum, 200);
          assert.deepEqual(counter.props.count.top, [{ profile_id: b, value: 200 }]);
        });

        test('200 concurrent strengthens of a missing relation create it once and count every one', async () => {
          const { a, b } = await pair();
          const answers = await Promise.all(
            Array.from({ length: 200 }, () => h.call('relations/strengthen', rel(a, b, { count: 1 }), o)),
          );
          assert.equal(answers.filter((x) => String(x.body.error) === '0').length, 200);
          const { total_count, data } = await relationsOf(h, w.relId, a);
          assert.equal(total_count, 1);
          assert.deepEqual(data[0].props, { count: { value: 200 } });
        });
      });

      describe(`${format}: edit`, () => {
        test('sets the given properties and keeps the others', async () => {
          const { a, b } = await pair();
          await ok(h, 'relations/attach', rel(a, b, { count: 5, note: 'keep', active: true }), o);
          const answer = await ok(h, 'relations/edit', rel(a, b, { count: 1, amount: 9.5 }), o);
          assert.deepEqual(
            answer,
            as(format, { error: 0, error_text: '', profile_a: a, profile_b: b, relation_id: w.relId }),
          );
          assert.deepEqual(await weightsOf(h, w.relId, a, b), {
            count: 1,
            note: 'keep',
            active: true,
            amount: 9.5,
          });
        });

        test('null removes a property (nil="true" in XML)', async () => {
          const { a, b } = await pair();
          await ok(h, 'relations/attach', rel(a, b, { count: 5, note: 'gone', active: true }), o);
          await ok(h, 'relations/edit', rel(a, b, { note: null, count: null, active: false }), o);
          assert.deepEqual(await weightsOf(h, w.relId, a, b), { active: false });
          const counter = await counterOf(h, w.relId, a);
          assert.equal(counter.props.count, undefined);
          // Removing what is not there is fine.
          await ok(h, 'relations/edit', rel(a, b, { plain: null }), o);
          assert.deepEqual(await weightsOf(h, w.relId, a, b), { active: false });
        });

        test('creates the relation when missing', async () => {
          const { a, b } = await pair();
          await ok(h, 'relations/edit', rel(a, b, { count: 7, note: null }), o);
          assert.deepEqual(await weightsOf(h, w.relId, a, b), { count: 7 });
        });

        test('a wrong value or unknown name is 400 and changes nothing', async () => {
          const { a, b } = await pair();
          await ok(h, 'relations/attach', rel(a, b, { count: 5 }), o);
          await refused(h, 'relations/edit', rel(a, b, { count: 1, nope: 1 }), 400, 'weights.nope', o);
          await refused(h, 'relations/edit', rel(a, b, { note: 'x', count: 'x' }), 400, 'weights.count', o);
          assert.deepEqual(await weightsOf(h, w.relId, a, b), { count: 5 });
        });
      });

      describe(`${format}: get`, () => {
        /** A recipient with n initiators attached in reverse id order; answers them sorted. */
        const fan = async (n: number) => {
          const a = await addProfile(h, w.dbA);
          const bs = await addProfiles(h, w.dbB, n);
          for (const [i, b] of [...bs].reverse().entries()) {
            await ok(h, 'relations/attach', rel(a, b, { count: i, note: `n${i}` }));
          }
          return { a, bs };
        };

        test('rows are ordered by profile_id_b and carry ids, hashes, db_b and props', async () => {
          const { a, bs } = await fan(4);
          const body = await ok(h, 'relations/get', { rel_id: w.relId, profile_id: a }, o);
          const rows = list(body.data);
          assert.deepEqual(
            rows.map((r) => r.profile_id_b),
            bs,
          );
          const xxh = async (id: string, db: number) =>
            (await adminCall(h, 'profiles/get', { db_id: db, profile_id: id })).data._xxh as string;
          const expected = [];
          for (const [i, b] of bs.entries()) {
            expected.push({
              profile_id_a: a,
              xxh_a: await xxh(a, w.dbA),
              profile_id_b: b,
              xxh_b: await xxh(b, w.dbB),
              db_b: w.dbB,
              props: { count: { value: 3 - i }, note: { value: `n${3 - i}` } },
            });
          }
          assert.deepEqual(body.data, as(format, expected));
          assert.equal(body.total_count, as(format, 4));
          assert.equal(body.next_from, undefined);
          for (const row of rows) assert.match(row.xxh_b, /^[0-9a-f]{16}$/);
        });

        test('without limit every row is answered', async () => {
          const { a, bs } = await fan(12);
          const body = await ok(h, 'relations/get', { rel_id: w.relId, profile_id: a }, o);
          assert.equal(list(body.data).length, 12);
          assert.equal(body.total_count, as(format, 12));
          assert.deepEqual(
            list(body.data).map((r) => r.profile_id_b),
            bs,
          );
        });

        for (const limit of [1, 3, 4, 5, 12, 13]) {
          test(`paging with limit ${limit} walks every row exactly once`, async () => {
            const { a, bs } = await fan(12);
            const seen: string[] = [];
            let from: string | undefined;
            let pages = 0;
            for (;;) {
              const body = await ok(
                h,
                'relations/get',
                { rel_id: w.relId, profile_id: a, limit, ...(from ? { from } : {}) },
                o,
              );
              pages++;
              const rows = list(body.data);
              assert.ok(rows.length <= limit);
              assert.equal(body.total_count, as(format, 12));
              seen.push(...rows.map((r) => r.profile_id_b));
              if (body.next_from === undefined) break;
              assert.equal(body.next_from, rows[rows.length - 1].profile_id_b);
              from = body.next_from;
              assert.ok(pages <= 13, 'paging ends');
            }
            assert.deepEqual(seen, bs);
            assert.equal(pages, Math.max(1, Math.ceil(12 / limit)));
          });
        }

        test('from after the last row answers no rows and no next_from', async () => {
          const { a, bs } = await fan(2);
          const body = await ok(
            h,
            'relations/get',
            { rel_id: w.relId, profile_id: a, limit: 5, from: bs[1] },
            o,
          );
          assert.deepEqual(list(body.data), []);
          assert.equal(body.next_from, undefined);
          assert.equal(body.total_count, as(format, 2));
          const between = await ok(
            h,
            'relations/get',
            { rel_id: w.relId, profile_id: a, limit: 5, from: bs[0] },
            o,
          );
          assert.deepEqual(
            list(between.data).map((r) => r.profile_id_b),
            [bs[1]],
          );
          // from without limit also applies.
          const noLimit = await ok(h, 'relations/get', { rel_id: w.relId, profile_id: a, from: bs[0] }, o);
          assert.deepEqual(
            list(noLimit.data).map((r) => r.profile_id_b),
            [bs[1]],
          );
        });

        test('side "b" lists the relations a profile initiated, ordered by profile_id_a, with db_a', async () => {
          const b = await addProfile(h, w.dbB);
          const as_ = await addProfiles(h, w.dbA, 5);
          for (const [i, a] of [...as_].reverse().entries())
            await ok(h, 'relations/attach', rel(a, b, { count: i }));
          const body = await ok(h, 'relations/get', { rel_id: w.relId, profile_id: b, side: 'b' }, o);
          const rows = list(body.data);
          assert.deepEqual(
            rows.map((r) => r.profile_id_a),
            as_,
          );
          for (const [i, row] of rows.entries()) {
            assert.equal(row.profile_id_b, b);
            assert.equal(row.db_a, as(format, w.dbA));
            assert.equal(row.db_b, undefined);
            assert.deepEqual(row.props, as(format, { count: { value: 4 - i } }));
          }
          assert.equal(body.total_count, as(format, 5));
          // Paging the other direction.
          const first = await ok(
            h,
            'relations/get',
            { rel_id: w.relId, profile_id: b, side: 'b', limit: 3 },
            o,
          );
          assert.equal(first.next_from, as_[2]);
          const second = await ok(
            h,
            'relations/get',
            { rel_id: w.relId, profile_id: b, side: 'b', limit: 3, from: first.next_from },
            o,
          );
          assert.deepEqual(
            list(second.data).map((r) => r.profile_id_a),
            as_.slice(3),
          );
          assert.equal(second.next_from, undefined);
          // Side a of the same profile finds nothing: it is in db_b.
          await refused(h, 'relations/get', { rel_id: w.relId, profile_id: b }, 404, 'profile', o);
        });

        test('no relations: data [] and total_count 0', async () => {
          const a = await addProfile(h, w.dbA);
          const body = await ok(h, 'relations/get', { rel_id: w.relId, profile_id: a }, o);
          assert.deepEqual(list(body.data), []);
          if (format === 'json') assert.deepEqual(body.data, []);
          assert.equal(body.total_count, as(format, 0));
          assert.equal(body.next_from, undefined);
          const paged = await ok(h, 'relations/get', { rel_id: w.relId, profile_id: a, limit: 10 }, o);
          assert.deepEqual(list(paged.data), []);
          assert.equal(paged.next_from, undefined);
        });

        test('only relations of the asked type are listed', async () => {
          const b = await addProfile(h, w.dbB);
          const other = await addProfile(h, w.dbB);
          await ok(h, 'relations/attach', {
            rel_id: w.sameRel,
            profile_a: byId(b),
            profile_b: byId(other),
            weights: { n: 1 },
          });
          const body = await ok(h, 'relations/get', { rel_id: w.relId, profile_id: b, side: 'b' }, o);
          assert.deepEqual(list(body.data), []);
          const same = await ok(h, 'relations/get', { rel_id: w.sameRel, profile_id: b }, o);
          assert.equal(same.total_count, as(format, 1));
        });

        test('a malformed from, a bad limit or side is 400 naming it', async () => {
          const a = await addProfile(h, w.dbA);
          await refused(h, 'relations/get', { rel_id: w.relId, profile_id: a, from: 'zzz' }, 400, 'from', o);
          await refused(
            h,
            'relations/get',
            { rel_id: w.relId, profile_id: a, limit: 5, from: 'abc' },
            400,
            'from',
            o,
          );
          for (const limit of [0, -1, 10_001, 'ten']) {
            await refused(h, 'relations/get', { rel_id: w.relId, profile_id: a, limit }, 400, 'limit', o);
          }
          await refused(h, 'relations/get', { rel_id: w.relId, profile_id: a, side: 'c' }, 400, 'side', o);
          await refused(h, 'relations/get', { rel_id: 999, profile_id: a }, 404, 'rel_id', o);
        });
      });

      describe(`${format}: get_counter`, () => {
        test('total and, per property, total, top (descending, ties by profile_id) and sum', async () => {
          const a = await addProfile(h, w.dbA);
          const bs = await addProfiles(h, w.dbB, 5);
          // count: 10, 30, 30, 20, 30 → top 3: the three 30s by id; amount: top 2.
          const counts = [10, 30, 30, 20, 30];
          const amounts = [0.5, 2.5, 1.5, undefined, -1];
          for (const [i, b] of bs.entries()) {
            const weights: Record<string, unknown> = { count: counts[i] };
            if (amounts[i] !== undefined) weights.amount = amounts[i];
            if (i < 2) weights.active = i === 0;
            if (i === 4) weights.note = 'n';
            await ok(h, 'relations/attach', rel(a, b, weights));
          }
          const body = await ok(h, 'relations/get_counter', { rel_id: w.relId, profile_id: a }, o);
          const xxh = (await adminCall(h, 'profiles/get', { db_id: w.dbA, profile_id: a })).data._xxh;
          const expected = {
            profile_id: a,
            profile_xxh: xxh,
            total: 5,
            props: {
              count: {
                total: 5,
                top: [
                  { profile_id: bs[1], value: 30 },
                  { profile_id: bs[2], value: 30 },
                  { profile_id: bs[4], value: 30 },
                ],
                sum: 120,
              },
              amount: {
                total: 4,
                top: [
                  { profile_id: bs[1], value: 2.5 },
                  { profile_id: bs[2], value: 1.5 },
                ],
                sum: 3.5,
              },
              active: { total: 2, top: null, sum: null },
              note: { total: 1, top: null, sum: null },
            },
          };
          assert.deepEqual(body.data, as(format, expected));
          assert.equal(body.error_text, 'Successful operation');
          // plain is kept by no relation, so it is absent.
          assert.equal(body.data.props.plain, undefined);
        });

        test('a property without top or sum answers null for them', async () => {
          const { a, b } = await pair();
          await ok(h, 'relations/attach', rel(a, b, { plain: 5 }));
          const body = await ok(h, 'relations/get_counter', { rel_id: w.relId, profile_id: a }, o);
          assert.deepEqual(body.data.props, as(format, { plain: { total: 1, top: null, sum: null } }));
        });

        test('aggregates follow strengthen, edit and detach', async () => {
          const a = await addProfile(h, w.dbA);
          const [b1, b2] = await addProfiles(h, w.dbB, 2);
          await ok(h, 'relations/strengthen', rel(a, b1!, { count: 4 }), o);
          await ok(h, 'relations/strengthen', rel(a, b2!, { count: 6 }), o);
          await ok(h, 'relations/strengthen', rel(a, b1!, { count: 5 }), o);
          let counter = await counterOf(h, w.relId, a);
          assert.deepEqual(counter.props.count, {
            total: 2,
            top: [
              { profile_id: b1, value: 9 },
              { profile_id: b2, value: 6 },
            ],
            sum: 15,
          });
          await ok(h, 'relations/edit', rel(a, b2!, { count: 20 }), o);
          counter = await counterOf(h, w.relId, a);
          assert.deepEqual(counter.props.count.top[0], { profile_id: b2, value: 20 });
          assert.equal(counter.props.count.sum, 29);
          await ok(h, 'relations/edit', rel(a, b2!, { count: null }), o);
          counter = await counterOf(h, w.relId, a);
          assert.deepEqual(counter.props.count, { total: 1, top: [{ profile_id: b1, value: 9 }], sum: 9 });
          assert.equal(counter.total, 2);
          await ok(h, 'relations/detach', rel(a, b1!), o);
          counter = await counterOf(h, w.relId, a);
          assert.equal(counter.total, 1);
          assert.deepEqual(counter.props, {});
        });

        test('no relations: total 0 and props {}', async () => {
          const a = await addProfile(h, w.dbA);
          const body = await ok(h, 'relations/get_counter', { rel_id: w.relId, profile_id: a }, o);
          assert.equal(body.data.total, as(format, 0));
          assert.deepEqual(body.data.props, as(format, {}));
          assert.equal(body.data.profile_id, a);
        });

        test('unknown profile or relation type is 404', async () => {
          const a = await addProfile(h, w.dbA);
          await refused(
            h,
            'relations/get_counter',
            { rel_id: w.relId, profile_id: 'dddddddddddddddddddddddd' },
            404,
            'profile',
            o,
          );
          await refused(h, 'relations/get_counter', { rel_id: 12345, profile_id: a }, 404, 'rel_id', o);
        });
      });
    }

    test('relations/get over the cap without limit is 400 telling to page; with limit it pages', async () => {
      const t = await startHarness({ engine, maxGetRows: 3 });
      try {
        const tw = await createWorkspace(t);
        const a = await addProfile(t, tw.dbA);
        const bs = await addProfiles(t, tw.dbB, 4);
        for (const b of bs.slice(0, 3)) {
          await ok(t, 'relations/attach', {
            rel_id: tw.relId,
            profile_a: byId(a),
            profile_b: byId(b),
            weights: {},
          });
        }
        for (const format of FORMATS) {
          const atCap = await ok(t, 'relations/get', { rel_id: tw.relId, profile_id: a }, { format });
          assert.equal(list(atCap.data).length, 3);
        }
        await ok(t, 'relations/attach', {
          rel_id: tw.relId,
          profile_a: byId(a),
          profile_b: byId(bs[3]!),
          weights: {},
        });
        for (const format of FORMATS) {
          await refused(
            t,
            'relations/get',
            { rel_id: tw.relId, profile_id: a },
            400,
            /^limit: .*pass limit and from/,
            { format },
          );
          const page = await ok(
            t,
            'relations/get',
            { rel_id: tw.relId, profile_id: a, limit: 10 },
            { format },
          );
          assert.equal(list(page.data).length, 4);
          assert.equal(String(page.total_count), '4');
        }
      } finally {
        await t.close();
      }
    });
  });
}
