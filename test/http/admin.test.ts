// SPEC §6–§7 over HTTP, in JSON and XML: databases, resources, relation types and tokens — create,
// list (paging), get, update and delete, with the validation and conflicts of each.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../support/engines.js';
import { type Harness, startHarness } from '../support/harness.js';
import {
  addProfile,
  addProfiles,
  adminCall,
  as,
  byId,
  CUSTOM_FIELDS,
  counterOf,
  createWorkspace,
  FORMATS,
  list,
  ok,
  refused,
  type Workspace,
} from './helpers.js';

const STANDARD = [
  ['email', 'string'],
  ['phones', 'phones'],
  ['_fname', 'string'],
  ['_lname', 'string'],
  ['_bdate', 'date'],
  ['_sex', 'int'],
  ['_regdate', 'datetime'],
  ['_regip', 'string'],
  ['_regcity', 'string'],
  ['_regcountry', 'string'],
  ['_regurl', 'string'],
  ['_ip', 'string'],
  ['_city', 'string'],
  ['_country', 'string'],
  ['_region', 'string'],
  ['_postal_code', 'string'],
  ['_tz', 'string'],
  ['_vendor', 'string'],
  ['_status', 'int'],
  ['_xxh', 'string'],
] as const;

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

for (const engine of testEngines()) {
  describe(engine.name, () => {
    for (const format of FORMATS) {
      describe(format, () => {
        const o = { format };
        let h: Harness;
        let w: Workspace;
        before(async () => {
          h = await startHarness({ engine });
          w = await createWorkspace(h);
        });
        after(() => h.close());

        describe('databases', () => {
          test('create answers the id; get answers the database', async () => {
            const created = await ok(
              h,
              'databases/create',
              { name: 'Customers', description: 'All of them', fields: [{ name: 'loyalty', type: 'int' }] },
              o,
            );
            assert.equal(created.error_text, 'Successful operation');
            const id = Number(created.data.id);
            assert.ok(id > w.dbB);
            const got = await ok(h, 'databases/get', { id }, o);
            const { created_at, ...rest } = got.data;
            assert.match(created_at, ISO);
            assert.deepEqual(
              rest,
              as(format, {
                id,
                name: 'Customers',
                description: 'All of them',
                ui_tags: [],
                Groups: [{ Id: 0, Name: 'main' }],
                suppress_id: null,
              }),
            );
            await refused(h, 'databases/get', { id: 999 }, 404, 'id: database 999', o);
          });

          test('create refuses bad names, types and duplicate fields', async () => {
            await refused(h, 'databases/create', { name: '' }, 400, 'name', o);
            await refused(h, 'databases/create', { fields: [] }, 400, 'name', o);
            await refused(
              h,
              'databases/create',
              { name: 'X', fields: [{ name: 'f', type: 'money' }] },
              400,
              'fields[0].type',
              o,
            );
            for (const name of ['email', '_secret', 'id', 'subscriptions', '1st', 'a-b', '__proto__']) {
              await refused(
                h,
                'databases/create',
                { name: 'X', fields: [{ name, type: 'string' }] },
                400,
                'fields[0].name',
                o,
              );
            }
            await refused(
              h,
              'databases/create',
              {
                name: 'X',
                fields: [
                  { name: 'f', type: 'int' },
                  { name: 'f', type: 'string' },
                ],
              },
              409,
              'fields[1].name',
              o,
            );
          });

          test('fields_get lists the standard fields then the custom ones', async () => {
            const body = await ok(h, 'databases/fields_get', { id: w.dbA }, o);
            const expected = [
              ...STANDARD.map(([name, type]) => ({ name, type, is_custom: false })),
              ...CUSTOM_FIELDS.map(({ name, type }) => ({ name, type, is_custom: true })),
            ];
            assert.deepEqual(body.data, as(format, expected));
            await refused(h, 'databases/fields_get', { id: 999 }, 404, 'database 999', o);
          });

          test('fields_add adds fields; an existing name is 409; the new field is usable', async () => {
            const db = Number((await ok(h, 'databases/create', { name: 'Growing' }, o)).data.id);
            const added = await ok(
              h,
              'databases/fields_add',
              {
                id: db,
                fields: [
                  { name: 'level', type: 'int' },
                  { name: 'tags', type: 'tags' },
                ],
              },
              o,
            );
            assert.deepEqual(added.data, as(format, { id: db, fields: ['level', 'tags'] }));
            await refused(
              h,
              'databases/fields_add',
              { id: db, fields: [{ name: 'level', type: 'string' }] },
              409,
              'fields[0].name: level already exists',
              o,
            );
            await refused(
              h,
              'databases/fields_add',
              { id: db, fields: [{ name: 'email', type: 'string' }] },
              400,
              'fields[0].name',
              o,
            );
            await refused(
              h,
              'databases/fields_add',
              { id: 999, fields: [{ name: 'x', type: 'int' }] },
              404,
              'database 999',
              o,
            );
            const fields = list((await ok(h, 'databases/fields_get', { id: db }, o)).data).filter(
              (f) => String(f.is_custom) === 'true',
            );
            assert.deepEqual(
              fields,
              as(format, [
                { name: 'level', type: 'int', is_custom: true },
                { name: 'tags', type: 'tags', is_custom: true },
              ]),
            );
            const p = await ok(h, 'profiles/add', { db_id: db, data: { level: 3 } }, o);
            const got = await ok(h, 'profiles/get', { db_id: db, field_name: 'level', field_value: 3 }, o);
            assert.equal(got.data.id, p.profile_id);
          });

          test('list pages as Altcraft documents: from_id is the first id, next_from_id the next from_id', async () => {
            const all = list((await ok(h, 'databases/list', {}, o)).data);
            const total = all.length;
            assert.ok(total >= 3);
            const ids = all.map((d) => Number(d.id));
            assert.deepEqual(
              ids,
              [...ids].sort((x, y) => x - y),
            );
            for (const d of all) {
              assert.deepEqual(Object.keys(d).sort(), [
                'Groups',
                'created_at',
                'description',
                'id',
                'name',
                'ui_tags',
              ]);
            }
            // A client that loops until a page is empty, passing next_from_id, sees every database once.
            for (const limit of [1, 2, total]) {
              const seen: number[] = [];
              let from_id: number | undefined;
              for (let pages = 0; ; pages++) {
                assert.ok(pages <= total + 1, 'paging ends');
                const body = await ok(h, 'databases/list', { limit, ...(from_id ? { from_id } : {}) }, o);
                assert.equal(body.total_count, as(format, total));
                const page = list(body.data).map((d) => Number(d.id));
                assert.ok(page.length <= limit);
                from_id = Number(body.next_from_id);
                if (page.length === 0) break;
                seen.push(...page);
                assert.equal(from_id, page[page.length - 1]! + 1);
              }
              assert.deepEqual(seen, ids);
            }
            // from_id is inclusive: 1 (the default) starts at the first database, the last id answers it.
            const first = await ok(h, 'databases/list', { from_id: 1, limit: 1 }, o);
            assert.deepEqual(
              list(first.data).map((d) => Number(d.id)),
              [ids[0]],
            );
            const tail = await ok(h, 'databases/list', { from_id: ids[ids.length - 1] }, o);
            assert.deepEqual(
              list(tail.data).map((d) => Number(d.id)),
              [ids[ids.length - 1]],
            );
            const past = await ok(h, 'databases/list', { from_id: ids[ids.length - 1]! + 1 }, o);
            assert.deepEqual(list(past.data), []);
            assert.equal(past.next_from_id, as(format, ids[ids.length - 1]! + 1));
            await refused(h, 'databases/list', { limit: 0 }, 400, 'limit', o);
            await refused(h, 'databases/list', { limit: 1001 }, 400, 'limit', o);
          });

          test('the documented filters filter: ui_tags, groups, groups_id', async () => {
            const total = list((await ok(h, 'databases/list', {}, o)).data).length;
            const count = async (filter: Record<string, unknown>) => {
              const body = await ok(h, 'databases/list', filter, o);
              assert.equal(body.total_count, as(format, list(body.data).length));
              return list(body.data).length;
            };
            assert.equal(await count({ ui_tags: ['vip'] }), 0, 'Ties keeps no tags: none match');
            assert.equal(await count({ groups: ['main'] }), total);
            assert.equal(await count({ groups: ['subaccount'] }), 0);
            assert.equal(await count({ groups: ['subaccount', 'main'] }), total);
            assert.equal(await count({ groups_id: [0] }), total);
            assert.equal(await count({ groups_id: [1] }), 0);
            assert.equal(await count({ groups_id: [1], groups: ['main'] }), 0, 'filters combine');
            await refused(h, 'databases/list', { groups_id: ['x'] }, 400, 'groups_id', o);
          });
        });

        describe('resources', () => {
          test('create, get and list', async () => {
            const created = await ok(
              h,
              'resources/create',
              {
                name: 'Shop',
                channels: ['email', 'push'],
                dbs_ids: [w.dbB],
                url: 'https://blog.example:8080',
                trk_domain: 'tracking.example.com',
              },
              o,
            );
            const id = Number(created.data.id);
            const got = await ok(h, 'resources/get', { id }, o);
            const { created_at, ...rest } = got.data;
            assert.match(created_at, ISO);
            assert.deepEqual(
              rest,
              as(format, {
                id,
                name: 'Shop',
                channels: ['email', 'push'],
                dbs_ids: [w.dbB],
                groups: [{ id: 0, name: 'main' }],
                url: 'https://blog.example:8080',
                trk_domain: 'tracking.example.com',
              }),
            );
            const listed = await ok(h, 'resources/list', {}, o);
            assert.deepEqual(
              list(listed.data).map((r) => Number(r.id)),
              [w.res1, w.res2, id],
            );
            assert.equal(listed.total_count, as(format, 3));
            const paged = await ok(h, 'resources/list', { limit: 2 }, o);
            assert.equal(paged.next_from_id, as(format, w.res2 + 1));
            const rest2 = await ok(h, 'resources/list', { limit: 2, from_id: w.res2 + 1 }, o);
            assert.deepEqual(
              list(rest2.data).map((r) => Number(r.id)),
              [id],
            );
            assert.equal(rest2.next_from_id, as(format, id + 1));
            // Altcraft's own example: the first resource from id 1.
            const example = await ok(h, 'resources/list', { from_id: 1, limit: 1 }, o);
            assert.deepEqual(
              list(example.data).map((r) => Number(r.id)),
              [w.res1],
            );
            const filtered = await ok(h, 'resources/list', { groups: ['other'] }, o);
            assert.deepEqual(list(filtered.data), []);
            assert.equal(filtered.total_count, as(format, 0));
            assert.equal(list((await ok(h, 'resources/list', { groups_id: [0] }, o)).data).length, 3);
            await refused(h, 'resources/get', { id: 999 }, 404, 'resource 999', o);
          });

          test('an empty dbs_ids list is allowed', async () => {
            const created = await ok(
              h,
              'resources/create',
              { name: 'Lonely', channels: ['sms'], dbs_ids: [] },
              o,
            );
            const got = await adminCall(h, 'resources/get', { id: created.data.id });
            assert.deepEqual(got.data.dbs_ids, []);
          });

          test('create refuses unknown databases and channels', async () => {
            await refused(
              h,
              'resources/create',
              { name: 'X', channels: ['email'], dbs_ids: [w.dbA, 999] },
              404,
              'dbs_ids[1]: database 999',
              o,
            );
            await refused(
              h,
              'resources/create',
              { name: 'X', channels: ['fax'], dbs_ids: [w.dbA] },
              400,
              'channels',
              o,
            );
            await refused(
              h,
              'resources/create',
              { name: 'X', channels: [], dbs_ids: [w.dbA] },
              400,
              'channels',
              o,
            );
            await refused(h, 'resources/create', { name: 'X', dbs_ids: [w.dbA] }, 400, 'channels', o);
          });
        });

        describe('relation types', () => {
          test('create, get and list', async () => {
            const properties = [
              { name: 'score', type: 'int', top: 10, sum: true },
              { name: 'weight', type: 'float' },
              { name: 'flag', type: 'bool' },
              { name: 'label', type: 'string' },
            ];
            const created = await ok(
              h,
              'relations/types/create',
              { name: 'rates', db_a: w.dbA, db_b: w.dbA, properties },
              o,
            );
            const relId = Number(created.data.rel_id);
            const got = await ok(h, 'relations/types/get', { rel_id: relId }, o);
            const { created_at, ...rest } = got.data;
            assert.match(created_at, ISO);
            assert.deepEqual(
              rest,
              as(format, {
                rel_id: relId,
                name: 'rates',
                db_a: w.dbA,
                db_b: w.dbA,
                properties: [
                  { name: 'score', type: 'int', top: 10, sum: true },
                  { name: 'weight', type: 'float', top: 0, sum: false },
                  { name: 'flag', type: 'bool', top: 0, sum: false },
                  { name: 'label', type: 'string', top: 0, sum: false },
                ],
              }),
            );
            const listed = list((await ok(h, 'relations/types/list', {}, o)).data);
            assert.deepEqual(
              listed.map((t) => Number(t.rel_id)),
              [w.relId, w.sameRel, relId],
            );
            assert.deepEqual(listed[2], got.data);
            await refused(h, 'relations/types/get', { rel_id: 999 }, 404, 'relation type 999', o);
          });

          test('create refuses aggregates on bool and string, bad names and unknown databases', async () => {
            const make = (property: Record<string, unknown>) => ({
              name: 't',
              db_a: w.dbA,
              db_b: w.dbB,
              properties: [property],
            });
            await refused(
              h,
              'relations/types/create',
              make({ name: 'f', type: 'bool', top: 3 }),
              400,
              'properties[0].top',
              o,
            );
            await refused(
              h,
              'relations/types/create',
              make({ name: 'f', type: 'bool', sum: true }),
              400,
              'properties[0].sum',
              o,
            );
            await refused(
              h,
              'relations/types/create',
              make({ name: 'f', type: 'string', sum: true }),
              400,
              'properties[0].sum',
              o,
            );
            await refused(
              h,
              'relations/types/create',
              make({ name: 'f', type: 'int', top: 101 }),
              400,
              'properties[0].top',
              o,
            );
            await refused(
              h,
              'relations/types/create',
              make({ name: 'f', type: 'date' }),
              400,
              'properties[0].type',
              o,
            );
            for (const name of [
              '__proto__',
              'constructor',
              'prototype',
              '1st',
              'a-b',
              'a b',
              '',
              'x'.repeat(65),
            ]) {
              await refused(
                h,
                'relations/types/create',
                make({ name, type: 'int' }),
                400,
                'properties[0].name',
                o,
              );
            }
            await refused(
              h,
              'relations/types/create',
              {
                name: 't',
                db_a: w.dbA,
                db_b: w.dbB,
                properties: [
                  { name: 'x', type: 'int' },
                  { name: 'x', type: 'float' },
                ],
              },
              400,
              'properties[1].name',
              o,
            );
            await refused(h, 'relations/types/create', { name: 't', db_a: 999, db_b: w.dbB }, 404, 'db_a', o);
            await refused(h, 'relations/types/create', { name: 't', db_a: w.dbA, db_b: 998 }, 404, 'db_b', o);
            await refused(h, 'relations/types/create', { db_a: w.dbA, db_b: w.dbB }, 400, 'name', o);
            const count = list((await ok(h, 'relations/types/list', {}, o)).data).length;
            assert.equal(count, list((await adminCall(h, 'relations/types/list', {})).data).length);
          });

          test('update adds properties, keeps the others, renames; changing a type is 400', async () => {
            const relId = Number(
              (
                await ok(
                  h,
                  'relations/types/create',
                  {
                    name: 'evolving',
                    db_a: w.dbA,
                    db_b: w.dbB,
                    properties: [{ name: 'a', type: 'int', sum: true }],
                  },
                  o,
                )
              ).data.rel_id,
            );
            const updated = await ok(
              h,
              'relations/types/update',
              { rel_id: relId, name: 'evolved', properties: [{ name: 'b', type: 'string' }] },
              o,
            );
            assert.equal(updated.data.name, 'evolved');
            assert.deepEqual(
              updated.data.properties,
              as(format, [
                { name: 'a', type: 'int', top: 0, sum: true },
                { name: 'b', type: 'string', top: 0, sum: false },
              ]),
            );
            await refused(
              h,
              'relations/types/update',
              { rel_id: relId, properties: [{ name: 'a', type: 'float' }] },
              400,
              'properties[0].type',
              o,
            );
            await refused(
              h,
              'relations/types/update',
              { rel_id: relId, properties: [{ name: 'b', type: 'string', top: 2 }] },
              400,
              'properties[0].top',
              o,
            );
            await refused(
              h,
              'relations/types/update',
              { rel_id: 999, properties: [] },
              404,
              'relation type 999',
              o,
            );
            const got = await ok(h, 'relations/types/get', { rel_id: relId }, o);
            assert.deepEqual(got.data.properties, updated.data.properties);
            // The new property takes weights.
            const [a, b] = [await addProfile(h, w.dbA), await addProfile(h, w.dbB)];
            await ok(
              h,
              'relations/attach',
              { rel_id: relId, profile_a: byId(a), profile_b: byId(b), weights: { a: 1, b: 'x' } },
              o,
            );
          });

          test('turning on top and sum rebuilds the aggregates of existing relations', async () => {
            const relId = Number(
              (
                await ok(
                  h,
                  'relations/types/create',
                  { name: 'late', db_a: w.dbA, db_b: w.dbB, properties: [{ name: 'v', type: 'int' }] },
                  o,
                )
              ).data.rel_id,
            );
            const a = await addProfile(h, w.dbA);
            const bs = await addProfiles(h, w.dbB, 3);
            for (const [i, b] of bs.entries()) {
              await ok(h, 'relations/attach', {
                rel_id: relId,
                profile_a: byId(a),
                profile_b: byId(b),
                weights: { v: (i + 1) * 10 },
              });
            }
            assert.deepEqual((await counterOf(h, relId, a)).props.v, { total: 3, top: null, sum: null });
            await ok(
              h,
              'relations/types/update',
              { rel_id: relId, properties: [{ name: 'v', type: 'int', top: 2, sum: true }] },
              o,
            );
            const counter = await ok(h, 'relations/get_counter', { rel_id: relId, profile_id: a }, o);
            assert.deepEqual(
              counter.data.props.v,
              as(format, {
                total: 3,
                top: [
                  { profile_id: bs[2], value: 30 },
                  { profile_id: bs[1], value: 20 },
                ],
                sum: 60,
              }),
            );
            // Listing the property without top or sum keeps them; later writes keep them current.
            await ok(
              h,
              'relations/types/update',
              { rel_id: relId, properties: [{ name: 'v', type: 'int' }] },
              o,
            );
            await ok(h, 'relations/strengthen', {
              rel_id: relId,
              profile_a: byId(a),
              profile_b: byId(bs[0]!),
              weights: { v: 25 },
            });
            assert.deepEqual((await counterOf(h, relId, a)).props.v, {
              total: 3,
              top: [
                { profile_id: bs[0], value: 35 },
                { profile_id: bs[2], value: 30 },
              ],
              sum: 85,
            });
            // Turning them off again answers null.
            await ok(
              h,
              'relations/types/update',
              { rel_id: relId, properties: [{ name: 'v', type: 'int', top: 0, sum: false }] },
              o,
            );
            assert.deepEqual((await counterOf(h, relId, a)).props.v, { total: 3, top: null, sum: null });
          });

          test('delete removes the type and its relations, not the profiles', async () => {
            const relId = Number(
              (
                await ok(
                  h,
                  'relations/types/create',
                  {
                    name: 'doomed',
                    db_a: w.dbA,
                    db_b: w.dbB,
                    properties: [{ name: 'v', type: 'int', sum: true }],
                  },
                  o,
                )
              ).data.rel_id,
            );
            const a = await addProfile(h, w.dbA);
            const b = await addProfile(h, w.dbB);
            await ok(h, 'relations/attach', {
              rel_id: relId,
              profile_a: byId(a),
              profile_b: byId(b),
              weights: { v: 1 },
            });
            await ok(h, 'relations/attach', {
              rel_id: w.relId,
              profile_a: byId(a),
              profile_b: byId(b),
              weights: { count: 1 },
            });
            const deleted = await ok(h, 'relations/types/delete', { rel_id: relId }, o);
            assert.deepEqual(deleted.data, as(format, { rel_id: relId }));
            await refused(h, 'relations/types/get', { rel_id: relId }, 404, 'relation type', o);
            await refused(h, 'relations/get', { rel_id: relId, profile_id: a }, 404, 'rel_id', o);
            await refused(h, 'relations/types/delete', { rel_id: relId }, 404, 'relation type', o);
            // Other types' relations and the profiles stay.
            assert.equal((await counterOf(h, w.relId, a)).total, 1);
            assert.equal((await adminCall(h, 'profiles/get', { db_id: w.dbB, profile_id: b })).data.id, b);
            // A new type does not inherit the old relations.
            const fresh = Number(
              (
                await ok(
                  h,
                  'relations/types/create',
                  {
                    name: 'reborn',
                    db_a: w.dbA,
                    db_b: w.dbB,
                    properties: [{ name: 'v', type: 'int', sum: true }],
                  },
                  o,
                )
              ).data.rel_id,
            );
            assert.notEqual(fresh, relId);
            assert.equal((await counterOf(h, fresh, a)).total, 0);
            assert.ok(
              !list((await ok(h, 'relations/types/list', {}, o)).data).some(
                (t) => Number(t.rel_id) === relId,
              ),
            );
          });
        });

        describe('tokens', () => {
          test('create shows the token once; it works with exactly its rights', async () => {
            const created = await ok(
              h,
              'tokens/create',
              { name: 'integration', rights: ['write', 'read'] },
              o,
            );
            const { token, id, name, rights, created_at, last_used_at } = created.data;
            assert.match(token, /^ties_[A-Za-z0-9_-]{43}$/);
            assert.equal(name, 'integration');
            assert.deepEqual(rights, as(format, ['read', 'write']));
            assert.match(created_at, ISO);
            assert.equal(last_used_at, null);
            assert.ok(Number(id) > 0);
            await ok(h, 'relations/types/list', {}, { ...o, token });
            const [a, b] = [await addProfile(h, w.dbA), await addProfile(h, w.dbB)];
            await ok(
              h,
              'relations/attach',
              { rel_id: w.relId, profile_a: byId(a), profile_b: byId(b), weights: {} },
              { ...o, token },
            );
            await refused(h, 'tokens/list', {}, 403, 'admin', { ...o, token });
            await refused(h, 'profiles/delete', { db_id: w.dbA, profile_id: a }, 403, 'delete', {
              ...o,
              token,
            });
          });

          test('list never shows a token or its hash', async () => {
            const created = await ok(h, 'tokens/create', { name: 'secretive', rights: ['read'] }, o);
            const token = created.data.token as string;
            await ok(h, 'relations/types/list', {}, { ...o, token });
            await h.ties.access.flushTouches();
            const answer = await h.call('tokens/list', {}, o);
            assert.equal(String(answer.body.error), '0');
            for (const secret of [
              token,
              createHash('sha256').update(token).digest('hex'),
              h.admin,
              createHash('sha256').update(h.admin).digest('hex'),
            ]) {
              assert.ok(!answer.raw.includes(secret), 'a secret leaked into tokens/list');
            }
            const tokens = list(answer.body.data);
            const mine = tokens.find((t) => String(t.id) === String(created.data.id));
            assert.ok(mine);
            assert.deepEqual(Object.keys(mine).sort(), [
              'created_at',
              'id',
              'last_used_at',
              'name',
              'rights',
            ]);
            assert.equal(mine.name, 'secretive');
            assert.match(mine.last_used_at, ISO);
            for (const t of tokens) assert.equal(t.token, undefined);
          });

          test('revoke: the token then gets 401; unknown id is 404', async () => {
            const created = await ok(h, 'tokens/create', { name: 'temp', rights: ['read', 'admin'] }, o);
            const token = created.data.token as string;
            await ok(h, 'tokens/list', {}, { ...o, token });
            const revoked = await ok(h, 'tokens/revoke', { id: created.data.id }, o);
            assert.deepEqual(revoked.data, as(format, { id: Number(created.data.id) }));
            await refused(h, 'tokens/list', {}, 401, 'unknown or revoked', { ...o, token });
            await refused(h, 'relations/types/list', {}, 401, 'unknown or revoked', { ...o, token });
            await refused(h, 'tokens/revoke', { id: 9999 }, 404, 'token 9999', o);
            assert.ok(
              !list((await ok(h, 'tokens/list', {}, o)).data).some(
                (t) => String(t.id) === String(created.data.id),
              ),
            );
          });

          test('create refuses unknown rights and empty names', async () => {
            await refused(h, 'tokens/create', { name: 'x', rights: ['superuser'] }, 400, 'rights', o);
            await refused(h, 'tokens/create', { name: 'x', rights: [] }, 400, 'rights', o);
            await refused(h, 'tokens/create', { name: '', rights: ['read'] }, 400, 'name', o);
            await refused(h, 'tokens/create', { name: 'x' }, 400, 'rights', o);
          });
        });
      });
    }
  });
}
