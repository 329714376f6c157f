// relations/attach_batch and relations/strengthen_batch over HTTP, in JSON and XML, on every engine:
// each item is its own call answered in order, failed items change nothing, and a malformed batch
// is refused whole before anything is applied.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isCommitObservable } from '../../src/core/store-stats.js';
import { testEngines } from '../support/engines.js';
import { type Harness, startHarness } from '../support/harness.js';
import {
  addProfile,
  adminCall,
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

for (const engine of testEngines()) {
  describe(engine.name, () => {
    let h: Harness;
    let w: Workspace;

    before(async () => {
      h = await startHarness({ engine });
      w = await createWorkspace(h);
    });
    after(() => h.close());

    const item = (a: string, b: string, weights: Record<string, unknown> = {}) => ({
      profile_a: byId(a),
      profile_b: byId(b),
      weights,
    });
    /** Items of an answer as JSON-typed values, whatever the format (XML carries text). */
    const items = (body: Record<string, any>) =>
      list(body.data).map((d) => ({
        ...d,
        error: Number(d.error),
        relation_id: Number(d.relation_id),
      }));

    for (const format of FORMATS) {
      const o = { format };

      describe(`${format}: attach_batch`, () => {
        test('answers every item in order with its own error; failed items change nothing', async () => {
          const a = await addProfile(h, w.dbA);
          const [b1, b2, b3] = [
            await addProfile(h, w.dbB),
            await addProfile(h, w.dbB),
            await addProfile(h, w.dbB),
          ];
          await adminCall(h, 'relations/attach', { rel_id: w.relId, ...item(a, b3, { count: 1 }) });
          const missing = 'ffffffffffffffffffffffff';
          const body = await ok(
            h,
            'relations/attach_batch',
            {
              rel_id: w.relId,
              items: [
                item(a, b1, { count: 2, note: 'one' }),
                item(a, b3, { count: 5 }), // exists already
                item(a, missing, { count: 1 }),
                item(a, b2, { count: 'x' }), // ill-typed weight
                // Two items on one pair run like two concurrent calls: one creates, one is a duplicate.
                item(a, b2, { count: 3 }),
                item(a, b2, { count: 3 }),
              ],
            },
            o,
          );
          assert.equal(body.error_text, 'Successful operation');
          const got = items(body);
          assert.deepEqual(
            got.slice(0, 4).map((d) => d.error),
            [0, 409, 404, 400],
          );
          assert.deepEqual(
            got
              .slice(4)
              .map((d) => d.error)
              .sort(),
            [0, 409],
          );
          assert.deepEqual(got[0], {
            error: 0,
            error_text: '',
            profile_a: a,
            profile_b: b1,
            relation_id: w.relId,
          });
          assert.equal(got[1].profile_a, a, 'a duplicate names the pair');
          assert.equal(got[1].profile_b, b3);
          assert.match(got[2].error_text, /profile_b: no profile matches/);
          assert.equal(got[2].profile_a, undefined, 'ids appear only when found');
          assert.match(got[3].error_text, /weights\.count/);
          assert.ok(got.every((d) => d.relation_id === w.relId));

          assert.deepEqual(await weightsOf(h, w.relId, a, b1), { count: 2, note: 'one' });
          assert.deepEqual(await weightsOf(h, w.relId, a, b2), { count: 3 });
          assert.deepEqual(await weightsOf(h, w.relId, a, b3), { count: 1 }, 'the duplicate changed nothing');
          const counter = await counterOf(h, w.relId, a);
          assert.equal(counter.total, 3);
          assert.equal(counter.props.count.sum, 6);
        });

        test('items take their own rel_id and identification, else the top-level ones', async () => {
          const a = await addProfile(h, w.dbA, { email: `batch-${format}@example.com` });
          const b = await addProfile(h, w.dbB, { crm: `B-${format}` });
          const b2 = await addProfile(h, w.dbB);
          const other = await addProfile(h, w.dbB);
          const body = await ok(
            h,
            'relations/attach_batch',
            {
              rel_id: w.relId,
              field_name: 'crm',
              items: [
                {
                  profile_a: { email: `BATCH-${format}@example.com` },
                  profile_b: { field_value: `B-${format}` },
                  weights: { count: 1 },
                },
                // Its own type (B ← B) and its own matching.
                {
                  rel_id: w.sameRel,
                  matching: 'profile_id',
                  profile_a: byId(b2),
                  profile_b: byId(other),
                  weights: { n: 2 },
                },
              ],
            },
            o,
          );
          const got = items(body);
          assert.deepEqual(
            got.map((d) => [d.error, d.profile_a, d.profile_b, d.relation_id]),
            [
              [0, a, b, w.relId],
              [0, b2, other, w.sameRel],
            ],
          );
        });

        test('catalogue errors, looked up once per batch, are each item the answer of a single attach', async () => {
          const [a, a2] = [await addProfile(h, w.dbA), await addProfile(h, w.dbA)];
          const [b, b2, other] = [
            await addProfile(h, w.dbB),
            await addProfile(h, w.dbB),
            await addProfile(h, w.dbB),
          ];
          const noResource = 987_654;
          const withItems = [
            item(a, b, { count: 1 }),
            { rel_id: 987_654, ...item(a, b2) }, // no such type
            {
              ...item(a, b2),
              profile_b: { matching: 'email', email: 'x@example.com', resource_id: noResource },
            },
            {
              ...item(a, b2),
              profile_a: { matching: 'email', email: 'y@example.com', resource_id: noResource },
            },
            { ...item(a, b2), profile_a: {} }, // no identification
            { rel_id: w.sameRel, ...item(b2, other, { n: 1 }) }, // a second type in the same batch
            { rel_id: 987_654, ...item(a2, b) }, // the unknown type again
            item(a2, b, { count: 2 }),
          ];
          const got = items(await ok(h, 'relations/attach_batch', { rel_id: w.relId, items: withItems }, o));
          assert.deepEqual(
            got.map((d) => d.error),
            [0, 404, 404, 404, 400, 0, 404, 0],
          );
          assert.deepEqual([got[5].profile_a, got[5].profile_b, got[5].relation_id], [b2, other, w.sameRel]);
          for (const i of [1, 2, 3, 4, 6]) {
            const single = await h.call('relations/attach', { rel_id: w.relId, ...withItems[i] }, o);
            assert.equal(got[i].error, Number(single.body.error), `item ${i}`);
            assert.equal(got[i].error_text, single.body.error_text, `item ${i}`);
          }
          assert.match(got[2].error_text, /profile_b\.resource_id/);
          assert.match(got[3].error_text, /profile_a\.resource_id/);
          assert.equal((await counterOf(h, w.relId, a2)).total, 1);
        });

        test('a malformed item refuses the whole batch, naming it, before anything is written', async () => {
          const a = await addProfile(h, w.dbA);
          const b = await addProfile(h, w.dbB);
          await refused(
            h,
            'relations/attach_batch',
            { rel_id: w.relId, items: [item(a, b, { count: 1 }), { profile_a: byId(a), weights: {} }] },
            400,
            'items[1].profile_b',
            o,
          );
          await refused(
            h,
            'relations/attach_batch',
            { rel_id: w.relId, items: [{ ...item(a, b), profile_a: { profile_id: a, colour: 'red' } }] },
            400,
            'items[0].profile_a.colour',
            o,
          );
          assert.equal((await relationsOf(h, w.relId, a)).total_count, 0);
        });

        test('items is required, with 1 to 1,000 entries', async () => {
          await refused(h, 'relations/attach_batch', { rel_id: w.relId }, 400, 'items', o);
          if (format === 'json') {
            await refused(h, 'relations/attach_batch', { rel_id: w.relId, items: [] }, 400, 'items', o);
          }
          const a = await addProfile(h, w.dbA);
          const many = Array.from({ length: 1001 }, () => item(a, a));
          await refused(h, 'relations/attach_batch', { rel_id: w.relId, items: many }, 400, 'items', o);
        });

        test('needs the write right', async () => {
          const read = (await adminCall(h, 'tokens/create', { name: 'reader', rights: ['read'] })).data.token;
          const a = await addProfile(h, w.dbA);
          const b = await addProfile(h, w.dbB);
          await refused(h, 'relations/attach_batch', { rel_id: w.relId, items: [item(a, b)] }, 403, 'write', {
            ...o,
            token: read,
          });
        });
      });

      describe(`${format}: strengthen_batch`, () => {
        test('adds per item, creating relations; a repeated pair accumulates; overflow fails alone', async () => {
          const a = await addProfile(h, w.dbA);
          const b = await addProfile(h, w.dbB);
          const c = await addProfile(h, w.dbB);
          await adminCall(h, 'relations/attach', {
            rel_id: w.relId,
            ...item(a, c, { count: Number.MAX_SAFE_INTEGER - 1 }),
          });
          const body = await ok(
            h,
            'relations/strengthen_batch',
            {
              rel_id: w.relId,
              items: [
                item(a, b, { count: 2, active: true }),
                item(a, b, { count: 3 }),
                item(a, c, { count: 5 }), // past 2^53 - 1
                item(a, b, { amount: 0.5 }),
              ],
            },
            o,
          );
          assert.deepEqual(
            items(body).map((d) => d.error),
            [0, 0, 400, 0],
          );
          assert.match(items(body)[2].error_text, /weights\.count/);
          assert.deepEqual(await weightsOf(h, w.relId, a, b), { count: 5, active: true, amount: 0.5 });
          assert.deepEqual(await weightsOf(h, w.relId, a, c), { count: Number.MAX_SAFE_INTEGER - 1 });
        });
      });
    }

    test('the items of one call share one group commit', async (t) => {
      if (!isCommitObservable(h.ties.store)) {
        t.skip('this store does not report its commits');
        return;
      }
      const a = await addProfile(h, w.dbA);
      const bs: string[] = [];
      for (let i = 0; i < 50; i++) bs.push(await addProfile(h, w.dbB));
      const commits: number[] = [];
      const stop = h.ties.store.onCommit((info) => commits.push(info.ops));
      try {
        const body = await ok(h, 'relations/attach_batch', {
          rel_id: w.relId,
          items: bs.map((b, i) => item(a, b, { count: i })),
        });
        assert.ok(items(body).every((d) => d.error === 0));
      } finally {
        stop();
      }
      assert.ok(commits.includes(50), `the 50 items were committed as ${JSON.stringify(commits)}`);
    });
  });
}
