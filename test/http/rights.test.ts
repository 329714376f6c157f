// Rights (SPEC §7), table-driven: for every call of the catalogue and every right, a token holding
// only that right is refused (403) exactly when the call needs another right, and otherwise gets past
// the token check; a token holding every other right is refused too (rights do not imply each other).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CALLS } from '../../src/api/calls.js';
import { RIGHTS, type Right } from '../../src/core/model.js';
import { testEngines } from '../support/engines.js';
import { type Harness, startHarness } from '../support/harness.js';
import {
  addProfile,
  adminCall,
  assertNoLeak,
  byId,
  createWorkspace,
  FORMATS,
  type Workspace,
} from './helpers.js';

/** The right each call needs, as SPEC §7 states it (independent of the catalogue it checks). */
const NEEDED: Record<string, Right> = {
  'relations/attach': 'write',
  'relations/detach': 'write',
  'relations/strengthen': 'write',
  'relations/edit': 'write',
  'relations/attach_batch': 'write',
  'relations/strengthen_batch': 'write',
  'relations/get': 'read',
  'relations/get_counter': 'read',
  'relations/changes': 'read',
  'profiles/import': 'write',
  'profiles/add': 'write',
  'profiles/update': 'write',
  'profiles/import_batch': 'write',
  'profiles/add_batch': 'write',
  'profiles/update_batch': 'write',
  'profiles/get': 'read',
  'profiles/get_batch': 'read',
  'profiles/delete': 'delete',
  'databases/list': 'read',
  'databases/get': 'read',
  'databases/fields_get': 'read',
  'databases/create': 'admin',
  'databases/fields_add': 'admin',
  'resources/list': 'read',
  'resources/get': 'read',
  'resources/create': 'admin',
  'relations/types/create': 'admin',
  'relations/types/list': 'read',
  'relations/types/get': 'read',
  'relations/types/update': 'admin',
  'relations/types/delete': 'admin',
  'tokens/create': 'admin',
  'tokens/list': 'admin',
  'tokens/revoke': 'admin',
  'webhooks/create': 'admin',
  'webhooks/list': 'admin',
  'webhooks/delete': 'admin',
};

/** Plausible parameters for each call; those that would destroy fixtures name things that do not exist. */
function plausible(w: Workspace, a: string, b: string, n: number): Record<string, Record<string, unknown>> {
  const pair = { rel_id: w.relId, profile_a: byId(a), profile_b: byId(b) };
  return {
    'relations/attach': { ...pair, weights: { count: 1 } },
    'relations/detach': { ...pair },
    'relations/strengthen': { ...pair, weights: { count: 1 } },
    'relations/edit': { ...pair, weights: { note: 'x' } },
    'relations/attach_batch': { rel_id: w.relId, items: [{ ...pair, weights: {} }] },
    'relations/strengthen_batch': { rel_id: w.relId, items: [{ ...pair, weights: { count: 1 } }] },
    'relations/get': { rel_id: w.relId, profile_id: a },
    'relations/get_counter': { rel_id: w.relId, profile_id: a },
    'relations/changes': { after: 0, rel_id: w.relId, limit: 5 },
    'profiles/import': { db_id: w.dbA, email: `rights-${n}@example.com`, data: { _fname: 'R' } },
    'profiles/add': { db_id: w.dbA, data: { _fname: 'R' } },
    'profiles/update': { db_id: w.dbA, profile_id: a, data: { _fname: 'R' } },
    'profiles/import_batch': {
      db_id: w.dbA,
      data: [{ email: `rights-batch-${n}@example.com`, _fname: 'R' }],
    },
    'profiles/add_batch': { db_id: w.dbA, data: [{ _fname: 'R' }] },
    'profiles/update_batch': { db_id: w.dbA, matching: 'profile_id', data: [{ profile_id: a, _fname: 'R' }] },
    'profiles/get': { db_id: w.dbA, profile_id: a },
    'profiles/get_batch': { db_id: w.dbA, profile_ids: [a] },
    'profiles/delete': { db_id: w.dbA, profile_id: 'abcdefabcdefabcdefabcdef' },
    'databases/list': { limit: 10 },
    'databases/get': { id: w.dbA },
    'databases/fields_get': { id: w.dbA },
    'databases/create': { name: `rights-${n}` },
    'databases/fields_add': { id: w.dbB, fields: [{ name: `f${n}`, type: 'int' }] },
    'resources/list': {},
    'resources/get': { id: w.res1 },
    'resources/create': { name: `rights-${n}`, channels: ['email'], dbs_ids: [w.dbA] },
    'relations/types/create': { name: `rights-${n}`, db_a: w.dbA, db_b: w.dbB },
    'relations/types/list': {},
    'relations/types/get': { rel_id: w.relId },
    'relations/types/update': { rel_id: w.relId, properties: [{ name: `p${n}`, type: 'int' }] },
    'relations/types/delete': { rel_id: 999 },
    'tokens/create': { name: `rights-${n}`, rights: ['read'] },
    'tokens/list': {},
    'tokens/revoke': { id: 9999 },
    'webhooks/create': { url: `http://127.0.0.1:9/rights-${n}` },
    'webhooks/list': {},
    'webhooks/delete': { id: 9999 },
  };
}

test('the table covers exactly the calls of the catalogue, and the catalogue agrees with it', () => {
  assert.deepEqual(Object.keys(NEEDED).sort(), CALLS.map((c) => c.name).sort());
  for (const call of CALLS) assert.equal(call.right, NEEDED[call.name], call.name);
});

for (const engine of testEngines()) {
  describe(engine.name, () => {
    let h: Harness;
    let w: Workspace;
    let a: string;
    let b: string;
    const only = new Map<Right, string>();
    const allBut = new Map<Right, string>();
    let n = 0;

    before(async () => {
      h = await startHarness({ engine });
      w = await createWorkspace(h);
      a = await addProfile(h, w.dbA);
      b = await addProfile(h, w.dbB);
      for (const right of RIGHTS) {
        only.set(
          right,
          (await adminCall(h, 'tokens/create', { name: `only-${right}`, rights: [right] })).data.token,
        );
        const others = RIGHTS.filter((r) => r !== right);
        allBut.set(
          right,
          (await adminCall(h, 'tokens/create', { name: `all-but-${right}`, rights: others })).data.token,
        );
      }
    });
    after(() => h.close());

    for (const format of FORMATS) {
      for (const call of CALLS) {
        test(`${format}: ${call.name}`, async () => {
          const needed = NEEDED[call.name]!;
          for (const right of RIGHTS) {
            const params = plausible(w, a, b, ++n)[call.name]!;
            const answer = await h.call(call.name, params, { format, token: only.get(right)! });
            const error = Number(answer.body.error);
            assertNoLeak(answer);
            if (right === needed) {
              assert.ok(![401, 403].includes(error), `${right} token on ${call.name}: ${answer.raw}`);
              assert.ok([0, 400, 404, 409].includes(error), `${right} token on ${call.name}: ${answer.raw}`);
            } else {
              assert.equal(error, 403, `${right} token on ${call.name}: ${answer.raw}`);
              assert.equal(answer.status, 403);
              assert.equal(answer.body.error_text, `token: lacks the ${needed} right needed by ${call.name}`);
            }
          }
          const params = plausible(w, a, b, ++n)[call.name]!;
          const denied = await h.call(call.name, params, { format, token: allBut.get(needed)! });
          assert.equal(
            Number(denied.body.error),
            403,
            `every right but ${needed} on ${call.name}: ${denied.raw}`,
          );
        });
      }
    }

    test('the plausible parameters succeed with the needed right (so the table tests real calls)', async () => {
      const outcomes: Record<string, number> = {};
      for (const call of CALLS) {
        const answer = await h.call(call.name, plausible(w, a, b, ++n)[call.name]!, {
          token: only.get(NEEDED[call.name]!)!,
        });
        outcomes[call.name] = answer.body.error;
      }
      // Only the calls aimed at things that do not exist fail, and with 404.
      const failing = Object.entries(outcomes).filter(([, e]) => e !== 0);
      assert.deepEqual(failing.sort(), [
        ['profiles/delete', 404],
        ['relations/attach', 409],
        ['relations/types/delete', 404],
        ['tokens/revoke', 404],
        ['webhooks/delete', 404],
      ]);
    });
  });
}
