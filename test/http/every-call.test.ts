// A guard: every call of the catalogue succeeds (error 0) in JSON and in XML, each from a fresh
// workspace, and adding a call without a scenario here fails. Also the documentation and health routes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CALLS } from '../../src/api/calls.js';
import { testEngines } from '../support/engines.js';
import { type Format, type Harness, startHarness } from '../support/harness.js';
import {
  addProfile,
  adminCall,
  as,
  byId,
  createWorkspace,
  FORMATS,
  list,
  type Workspace,
} from './helpers.js';

interface Scenario {
  readonly h: Harness;
  readonly w: Workspace;
  readonly format: Format;
  /** Calls in the scenario's format and asserts success; answers the decoded envelope. */
  call(name: string, params: Record<string, unknown>): Promise<Record<string, any>>;
}

/** A recipient and an initiator related by the workspace's main type. */
async function related(s: Scenario, weights: Record<string, unknown> = { count: 2, note: 'n' }) {
  const a = await addProfile(s.h, s.w.dbA, { email: 'a@example.com' });
  const b = await addProfile(s.h, s.w.dbB, { email: 'b@example.com' });
  await adminCall(s.h, 'relations/attach', {
    rel_id: s.w.relId,
    profile_a: byId(a),
    profile_b: byId(b),
    weights,
  });
  return { a, b, pair: { rel_id: s.w.relId, profile_a: byId(a), profile_b: byId(b) } };
}

const SCENARIOS = new Map<string, (s: Scenario) => Promise<void>>([
  [
    'relations/attach',
    async (s) => {
      const a = await addProfile(s.h, s.w.dbA);
      const b = await addProfile(s.h, s.w.dbB);
      const body = await s.call('relations/attach', {
        rel_id: s.w.relId,
        profile_a: byId(a),
        profile_b: byId(b),
        weights: { count: 1, amount: 0.5, active: true, note: 'hi' },
      });
      assert.deepEqual(
        body,
        as(s.format, { error: 0, error_text: '', profile_a: a, profile_b: b, relation_id: s.w.relId }),
      );
    },
  ],
  [
    'relations/detach',
    async (s) => {
      const { a, b, pair } = await related(s);
      const body = await s.call('relations/detach', pair);
      assert.deepEqual(
        body,
        as(s.format, { error: 0, error_text: '', profile_a: a, profile_b: b, relation_id: s.w.relId }),
      );
    },
  ],
  [
    'relations/strengthen',
    async (s) => {
      const { a, b, pair } = await related(s);
      await s.call('relations/strengthen', { ...pair, weights: { count: 5 } });
      const got = await adminCall(s.h, 'relations/get', { rel_id: s.w.relId, profile_id: a });
      assert.deepEqual(got.data[0].props.count, { value: 7 });
      assert.equal(got.data[0].profile_id_b, b);
    },
  ],
  [
    'relations/edit',
    async (s) => {
      const { a, pair } = await related(s);
      await s.call('relations/edit', { ...pair, weights: { count: 9, note: null } });
      const got = await adminCall(s.h, 'relations/get', { rel_id: s.w.relId, profile_id: a });
      assert.deepEqual(got.data[0].props, { count: { value: 9 } });
    },
  ],
  [
    'relations/attach_batch',
    async (s) => {
      const { a, pair } = await related(s);
      const b2 = await addProfile(s.h, s.w.dbB);
      const body = await s.call('relations/attach_batch', {
        rel_id: s.w.relId,
        items: [
          { profile_a: pair.profile_a, profile_b: byId(b2), weights: { count: 1 } },
          { ...pair, weights: {} },
        ],
      });
      const items = list(body.data);
      assert.deepEqual(
        items[0],
        as(s.format, { error: 0, error_text: '', profile_a: a, profile_b: b2, relation_id: s.w.relId }),
      );
      assert.equal(items[1].error, as(s.format, 409));
    },
  ],
  [
    'relations/strengthen_batch',
    async (s) => {
      const { a, b, pair } = await related(s);
      await s.call('relations/strengthen_batch', {
        rel_id: s.w.relId,
        items: [
          { profile_a: pair.profile_a, profile_b: pair.profile_b, weights: { count: 5 } },
          { profile_a: pair.profile_a, profile_b: pair.profile_b, weights: { count: 1 } },
        ],
      });
      const got = await adminCall(s.h, 'relations/get', { rel_id: s.w.relId, profile_id: a });
      assert.deepEqual(got.data[0].props.count, { value: 8 });
      assert.equal(got.data[0].profile_id_b, b);
    },
  ],
  [
    'relations/get',
    async (s) => {
      const { a, b } = await related(s);
      const body = await s.call('relations/get', { rel_id: s.w.relId, email: 'a@example.com' });
      assert.equal(body.error_text, 'Successful operation');
      const rows = list(body.data);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].profile_id_a, a);
      assert.equal(rows[0].profile_id_b, b);
      assert.deepEqual(rows[0].props, as(s.format, { count: { value: 2 }, note: { value: 'n' } }));
    },
  ],
  [
    'relations/get_counter',
    async (s) => {
      const { a, b } = await related(s);
      const body = await s.call('relations/get_counter', { rel_id: s.w.relId, profile_id: a });
      assert.deepEqual(
        body.data.props.count,
        as(s.format, { total: 1, top: [{ profile_id: b, value: 2 }], sum: 2 }),
      );
      assert.equal(body.data.total, as(s.format, 1));
    },
  ],
  [
    'relations/changes',
    async (s) => {
      const { a, b } = await related(s);
      const body = await s.call('relations/changes', { after: 0, profile_id: b, limit: 10 });
      const events = list(body.data);
      assert.equal(events.length, 1);
      assert.deepEqual(
        { call: events[0].call, profile_a: events[0].profile_a, profile_b: events[0].profile_b },
        { call: 'relations/attach', profile_a: a, profile_b: b },
      );
      assert.equal(String(body.next_after), String(events[0].seq));
    },
  ],
  [
    'profiles/import',
    async (s) => {
      const body = await s.call('profiles/import', {
        db_id: s.w.dbA,
        email: 'new@example.com',
        data: { score: 1 },
      });
      const got = await adminCall(s.h, 'profiles/get', { db_id: s.w.dbA, profile_id: body.profile_id });
      assert.equal(got.data.email, 'new@example.com');
    },
  ],
  [
    'profiles/add',
    async (s) => {
      const body = await s.call('profiles/add', {
        db_id: s.w.dbA,
        data: { crm: 'X-1', interests: ['a', 'b'] },
      });
      const got = await adminCall(s.h, 'profiles/get', { db_id: s.w.dbA, profile_id: body.profile_id });
      assert.deepEqual(got.data.interests, ['a', 'b']);
    },
  ],
  [
    'profiles/update',
    async (s) => {
      const id = await addProfile(s.h, s.w.dbA, { email: 'u@example.com' });
      const body = await s.call('profiles/update', {
        db_id: s.w.dbA,
        email: 'u@example.com',
        data: { _fname: 'U' },
      });
      assert.equal(body.profile_id, id);
    },
  ],
  [
    'profiles/import_batch',
    async (s) => {
      const known = await addProfile(s.h, s.w.dbA, { email: 'known@example.com' });
      const body = await s.call('profiles/import_batch', {
        db_id: s.w.dbA,
        data: [
          { email: 'known@example.com', score: 5 },
          { email: 'fresh@example.com', _fname: 'Fresh' },
          { email: 'bad@example.com', score: 'many' },
        ],
      });
      const result = list(body.result);
      assert.deepEqual(
        result[0],
        as(s.format, { error: 0, error_text: 'Successful operation', profile_id: known }),
      );
      assert.equal(result[1].error, as(s.format, 0));
      assert.equal(result[2].error, as(s.format, 400));
      assert.match(result[2].error_text, /data\[2\]\.score/);
      const got = await adminCall(s.h, 'profiles/get', { db_id: s.w.dbA, profile_id: known });
      assert.equal(got.data.score, 5);
    },
  ],
  [
    'profiles/add_batch',
    async (s) => {
      const body = await s.call('profiles/add_batch', {
        db_id: s.w.dbA,
        data: [{ _fname: 'One' }, { _fname: 'Two', crm: 'C-2' }],
      });
      const ids = list(body.result).map((r) => r.profile_id);
      assert.equal(ids.length, 2);
      const two = await adminCall(s.h, 'profiles/get', { db_id: s.w.dbA, profile_id: ids[1] });
      assert.equal(two.data.crm, 'C-2');
    },
  ],
  [
    'profiles/update_batch',
    async (s) => {
      const id = await addProfile(s.h, s.w.dbA, { email: 'upd@example.com' });
      const body = await s.call('profiles/update_batch', {
        db_id: s.w.dbA,
        data: [
          { email: 'upd@example.com', _lname: 'Updated' },
          { email: 'nobody@example.com', _lname: 'X' },
        ],
      });
      const result = list(body.result);
      assert.equal(result[0].profile_id, id);
      assert.equal(result[1].error, as(s.format, 404));
      const got = await adminCall(s.h, 'profiles/get', { db_id: s.w.dbA, profile_id: id });
      assert.equal(got.data._lname, 'Updated');
    },
  ],
  [
    'profiles/get',
    async (s) => {
      const id = await addProfile(s.h, s.w.dbA, { email: 'g@example.com', score: 3 });
      const body = await s.call('profiles/get', { db_id: s.w.dbA, profile_id: id });
      assert.equal(body.data.id, id);
      assert.equal(body.data.score, as(s.format, 3));
      assert.equal(body.data.db_id, as(s.format, s.w.dbA));
    },
  ],
  [
    'profiles/get_batch',
    async (s) => {
      const id = await addProfile(s.h, s.w.dbA, { email: 'g@example.com', score: 3 });
      const missing = 'abcdefabcdefabcdefabcdef';
      const body = await s.call('profiles/get_batch', {
        db_id: s.w.dbA,
        profile_ids: [id, missing],
        fields: ['email'],
      });
      const data = list(body.data);
      assert.equal(data.length, 2);
      assert.equal(data[0].profile_id, id);
      assert.equal(data[0].found, as(s.format, true));
      assert.deepEqual(data[0].profile, { id, db_id: as(s.format, s.w.dbA), email: 'g@example.com' });
      assert.deepEqual(data[1], { profile_id: missing, found: as(s.format, false) });
    },
  ],
  [
    'profiles/delete',
    async (s) => {
      const { b, pair } = await related(s);
      const body = await s.call('profiles/delete', { db_id: s.w.dbB, profile_id: b });
      assert.deepEqual(body.data, { profile_id: b });
      const left = await s.h.call('relations/detach', pair);
      assert.equal(left.body.error, 404);
    },
  ],
  [
    'databases/list',
    async (s) => {
      const body = await s.call('databases/list', {});
      assert.deepEqual(
        list(body.data).map((d) => Number(d.id)),
        [s.w.dbA, s.w.dbB],
      );
      assert.equal(body.total_count, as(s.format, 2));
    },
  ],
  [
    'databases/get',
    async (s) => {
      const body = await s.call('databases/get', { id: s.w.dbB });
      assert.equal(body.data.name, 'Initiators');
    },
  ],
  [
    'databases/fields_get',
    async (s) => {
      const body = await s.call('databases/fields_get', { id: s.w.dbA });
      const crm = list(body.data).find((f) => f.name === 'crm');
      assert.deepEqual(crm, as(s.format, { name: 'crm', type: 'string', is_custom: true }));
    },
  ],
  [
    'databases/create',
    async (s) => {
      const body = await s.call('databases/create', { name: 'Third', fields: [{ name: 'x', type: 'json' }] });
      const id = Number(body.data.id);
      assert.ok(![s.w.dbA, s.w.dbB].includes(id));
      assert.equal((await adminCall(s.h, 'databases/get', { id })).data.name, 'Third');
    },
  ],
  [
    'databases/fields_add',
    async (s) => {
      const body = await s.call('databases/fields_add', {
        id: s.w.dbA,
        fields: [{ name: 'extra', type: 'float' }],
      });
      assert.deepEqual(body.data, as(s.format, { id: s.w.dbA, fields: ['extra'] }));
    },
  ],
  [
    'resources/list',
    async (s) => {
      const body = await s.call('resources/list', {});
      assert.deepEqual(
        list(body.data).map((r) => r.name),
        ['News', 'Offers'],
      );
    },
  ],
  [
    'resources/get',
    async (s) => {
      const body = await s.call('resources/get', { id: s.w.res2 });
      assert.equal(body.data.name, 'Offers');
      assert.equal(body.data.url, '');
      assert.deepEqual(body.data.channels, ['email', 'sms']);
    },
  ],
  [
    'resources/create',
    async (s) => {
      const body = await s.call('resources/create', {
        name: 'Push',
        channels: ['push'],
        dbs_ids: [s.w.dbA],
        url: 'https://app.example',
        trk_domain: 'trk.example',
      });
      const id = Number(body.data.id);
      const got = await adminCall(s.h, 'resources/get', { id });
      assert.deepEqual([got.data.url, got.data.trk_domain], ['https://app.example', 'trk.example']);
      assert.ok(![s.w.res1, s.w.res2].includes(id));
      assert.deepEqual((await adminCall(s.h, 'resources/get', { id })).data.channels, ['push']);
    },
  ],
  [
    'relations/types/create',
    async (s) => {
      const body = await s.call('relations/types/create', {
        name: 'follows',
        db_a: s.w.dbB,
        db_b: s.w.dbA,
        properties: [{ name: 'since', type: 'int', top: 1 }],
      });
      const relId = Number(body.data.rel_id);
      assert.ok(![s.w.relId, s.w.sameRel].includes(relId));
      assert.equal((await adminCall(s.h, 'relations/types/get', { rel_id: relId })).data.name, 'follows');
    },
  ],
  [
    'relations/types/list',
    async (s) => {
      const body = await s.call('relations/types/list', {});
      assert.deepEqual(
        list(body.data).map((t) => t.name),
        ['likes', 'knows'],
      );
    },
  ],
  [
    'relations/types/get',
    async (s) => {
      const body = await s.call('relations/types/get', { rel_id: s.w.sameRel });
      assert.equal(body.data.name, 'knows');
    },
  ],
  [
    'relations/types/update',
    async (s) => {
      const body = await s.call('relations/types/update', {
        rel_id: s.w.sameRel,
        properties: [{ name: 'since', type: 'string' }],
      });
      assert.deepEqual(
        list(body.data.properties).map((p) => p.name),
        ['n', 'since'],
      );
    },
  ],
  [
    'relations/types/delete',
    async (s) => {
      const body = await s.call('relations/types/delete', { rel_id: s.w.sameRel });
      assert.deepEqual(body.data, as(s.format, { rel_id: s.w.sameRel }));
    },
  ],
  [
    'tokens/create',
    async (s) => {
      const body = await s.call('tokens/create', { name: 'ci', rights: ['read'] });
      const works = await s.h.call('databases/list', {}, { token: body.data.token });
      assert.equal(works.body.error, 0);
    },
  ],
  [
    'tokens/list',
    async (s) => {
      const body = await s.call('tokens/list', {});
      assert.ok(list(body.data).some((t) => t.name === 'admin (TIES_ADMIN_TOKEN)'));
    },
  ],
  [
    'tokens/revoke',
    async (s) => {
      const created = await adminCall(s.h, 'tokens/create', { name: 'gone', rights: ['read'] });
      const body = await s.call('tokens/revoke', { id: created.data.id });
      assert.deepEqual(body.data, as(s.format, { id: created.data.id }));
    },
  ],
  [
    'webhooks/create',
    async (s) => {
      const body = await s.call('webhooks/create', { url: 'http://127.0.0.1:9/in', rel_id: s.w.relId });
      assert.match(body.data.secret, /^whsec_/);
      assert.equal(String(body.data.rel_id), String(s.w.relId));
    },
  ],
  [
    'webhooks/list',
    async (s) => {
      await adminCall(s.h, 'webhooks/create', { url: 'http://127.0.0.1:9/in' });
      const body = await s.call('webhooks/list', {});
      assert.equal(list(body.data).length, 1);
      assert.equal(String(list(body.data)[0].lag), '0');
    },
  ],
  [
    'webhooks/delete',
    async (s) => {
      const created = await adminCall(s.h, 'webhooks/create', { url: 'http://127.0.0.1:9/in' });
      const body = await s.call('webhooks/delete', { id: created.data.id });
      assert.deepEqual(body.data, as(s.format, { id: created.data.id }));
    },
  ],
]);

test('every call of the catalogue has a scenario, and every scenario names a call', () => {
  assert.deepEqual([...SCENARIOS.keys()].sort(), CALLS.map((c) => c.name).sort());
});

for (const engine of testEngines()) {
  describe(engine.name, () => {
    for (const format of FORMATS) {
      describe(format, () => {
        for (const [name, scenario] of SCENARIOS) {
          test(name, async () => {
            const h = await startHarness({ engine });
            try {
              const succeeded = new Set<string>();
              const s: Scenario = {
                h,
                w: await createWorkspace(h),
                format,
                async call(callName, params) {
                  const answer = await h.call(callName, params, { format });
                  assert.equal(String(answer.body.error), '0', `${callName}: ${answer.raw}`);
                  assert.equal(answer.status, 200);
                  assert.match(answer.contentType, new RegExp(`^application/${format}`));
                  const call = CALLS.find((c) => c.name === callName)!;
                  assert.equal(answer.body.error_text, call.successText);
                  succeeded.add(callName);
                  return answer.body;
                },
              };
              await scenario(s);
              assert.ok(succeeded.has(name), `the scenario for ${name} must call it`);
            } finally {
              await h.close();
            }
          });
        }
      });
    }

    describe('documentation and health', () => {
      test('GET /openapi.json lists a POST path for every call', async () => {
        const h = await startHarness({ engine });
        try {
          const res = await h.app.inject({ method: 'GET', url: '/openapi.json' });
          assert.equal(res.statusCode, 200);
          const doc = JSON.parse(res.body);
          assert.match(String(doc.openapi), /^3\./);
          for (const call of CALLS) {
            const op = doc.paths[`/api/v1.1/${call.name}`]?.post;
            assert.ok(op, `openapi has ${call.name}`);
            assert.ok(op.requestBody.content['application/json'].schema, call.name);
            assert.ok(op.requestBody.content['application/xml'], call.name);
            assert.match(op.description, new RegExp(`\`${call.right}\``));
          }
          assert.equal(Object.keys(doc.paths).filter((p) => p.startsWith('/api/v1.1/')).length, CALLS.length);
          // The schemas are the ones that validate: attach needs rel_id, profile_a, profile_b and weights.
          const attach =
            doc.paths['/api/v1.1/relations/attach'].post.requestBody.content['application/json'].schema;
          assert.deepEqual([...attach.required].sort(), ['profile_a', 'profile_b', 'rel_id', 'weights']);
        } finally {
          await h.close();
        }
      });

      test('GET /docs answers HTML', async () => {
        const h = await startHarness({ engine });
        try {
          let res = await h.app.inject({ method: 'GET', url: '/docs' });
          for (let hops = 0; res.statusCode >= 300 && res.statusCode < 400 && hops < 3; hops++) {
            res = await h.app.inject({
              method: 'GET',
              url: new URL(String(res.headers.location), 'http://x/docs/').pathname,
            });
          }
          assert.equal(res.statusCode, 200);
          assert.match(String(res.headers['content-type']), /text\/html/);
          assert.match(res.body, /<html/i);
        } finally {
          await h.close();
        }
      });

      test('GET /health answers 200 with status ok, without a token', async () => {
        const h = await startHarness({ engine });
        try {
          const res = await h.app.inject({ method: 'GET', url: '/health' });
          assert.equal(res.statusCode, 200);
          const body = JSON.parse(res.body);
          assert.equal(body.status, 'ok');
          assert.equal(body.engine, engine.store);
          const store = h.ties.store as any;
          const ping = store.ping;
          store.ping = async () => {
            throw new Error('down');
          };
          try {
            const down = await h.app.inject({ method: 'GET', url: '/health' });
            assert.equal(down.statusCode, 503);
            assert.equal(JSON.parse(down.body).status, 'unavailable');
            assert.doesNotMatch(down.body, /down/);
          } finally {
            store.ping = ping;
          }
        } finally {
          await h.close();
        }
      });
    });
  });
}
