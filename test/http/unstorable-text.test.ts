// Strings PostgreSQL cannot store — U+0000 and lone surrogates — get the same answer on every engine
// (issue #12, item 12): 400 naming the parameter, and nothing stored. JSON only: XML cannot carry
// U+0000, and UTF-8 cannot carry a lone surrogate.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../support/engines.js';
import { type Harness, startHarness } from '../support/harness.js';
import { addProfile, createWorkspace, type Workspace } from './helpers.js';

/** Hostile texts as JSON escapes, so that the request carries exactly these code units. */
const HOSTILE: readonly { name: string; escaped: string }[] = [
  { name: 'U+0000', escaped: 'a\\u0000b' },
  { name: 'a lone high surrogate', escaped: 'a\\ud800b' },
  { name: 'a lone low surrogate', escaped: '\\udc00' },
];

for (const engine of testEngines()) {
  describe(engine.name, () => {
    let h: Harness;
    let w: Workspace;
    let a: string;
    let b: string;

    before(async () => {
      h = await startHarness({ engine });
      w = await createWorkspace(h);
      a = await addProfile(h, w.dbA, { email: 'a@example.com' });
      b = await addProfile(h, w.dbB, { email: 'b@example.com' });
    });
    after(() => h.close());

    /** Sends a JSON body in which HOLE is replaced by the escaped hostile text. */
    const send = (call: string, template: Record<string, unknown>, escaped: string) =>
      h.send(
        `/api/v1.1/${call}`,
        JSON.stringify({ token: h.admin, ...template }).replaceAll('HOLE', escaped),
        { 'content-type': 'application/json' },
      );

    const cases = (): { call: string; params: Record<string, unknown>; param: string }[] => [
      {
        call: 'relations/attach',
        params: {
          rel_id: w.relId,
          profile_a: { profile_id: a },
          profile_b: { profile_id: b },
          weights: { note: 'HOLE' },
        },
        param: 'weights.note',
      },
      { call: 'profiles/add', params: { db_id: w.dbA, data: { crm: 'HOLE' } }, param: 'data.crm' },
      { call: 'profiles/add', params: { db_id: w.dbA, data: { _fname: 'HOLE' } }, param: 'data._fname' },
      {
        call: 'profiles/add',
        params: { db_id: w.dbA, data: { meta: { deep: ['ok', { x: 'HOLE' }] } } },
        param: 'data.meta.deep[1].x',
      },
      {
        call: 'profiles/add',
        params: { db_id: w.dbA, data: { interests: ['HOLE'] } },
        param: 'data.interests',
      },
      { call: 'databases/create', params: { name: 'HOLE' }, param: 'name' },
      { call: 'tokens/create', params: { name: 'HOLE', rights: ['read'] }, param: 'name' },
      {
        call: 'relations/types/create',
        params: { name: 'HOLE', db_a: w.dbA, db_b: w.dbB, properties: [] },
        param: 'name',
      },
    ];

    for (const hostile of HOSTILE) {
      test(`${hostile.name}: 400 naming the parameter, nothing stored`, async () => {
        for (const { call, params, param } of cases()) {
          const answer = await send(call, params, hostile.escaped);
          assert.equal(answer.status, 400, `${call} ${param}: ${answer.raw}`);
          assert.ok(
            String(answer.body.error_text).startsWith(param),
            `${call}: names ${param}: ${answer.body.error_text}`,
          );
          assert.match(String(answer.body.error_text), /U\+0000|surrogate/);
        }
        const rows = await h.call('relations/get', { rel_id: w.relId, profile_id: a });
        assert.equal(rows.body.total_count, 0, 'no relation was stored');
      });
    }
  });
}
