// The client against a real Ties (in-process, real SQLite store, real HTTP on a free port): every
// group of methods answers typed success values, and failures arrive as TiesApiError.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TiesApiError, TiesClient } from '../../src/client/index.js';
import { type ClientServer, startClientServer } from './client-server.js';

let server: ClientServer;
let admin: TiesClient;
/** A workspace made through the client itself: readers (B) → authors (A). */
let readers: number;
let authors: number;
let relId: number;

before(async () => {
  server = await startClientServer();
  admin = new TiesClient({ baseUrl: server.url, token: server.admin });
  readers = (await admin.databases.create({ name: 'readers', fields: [{ name: 'crm', type: 'string' }] }))
    .data.id;
  authors = (await admin.databases.create({ name: 'authors' })).data.id;
  relId = (
    await admin.relations.types.create({
      name: 'donates',
      db_a: authors,
      db_b: readers,
      properties: [
        { name: 'donate', type: 'int', top: 3, sum: true },
        { name: 'online', type: 'bool' },
      ],
    })
  ).data.rel_id;
});
after(() => server.close());

/** Asserts the promise fails with a TiesApiError of that code whose error_text starts with `param`. */
async function rejectsWith(promise: Promise<unknown>, code: number, param: string): Promise<TiesApiError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TiesApiError, `expected a TiesApiError, got ${String(err)}`);
    assert.equal(err.code, code, err.errorText);
    assert.equal(err.status, code, 'HTTP status mirrors the code by default');
    assert.equal(err.param, param, err.errorText);
    assert.ok(err.errorText.startsWith(`${param}:`), err.errorText);
    return err;
  }
  assert.fail('expected the call to fail');
}

describe('relations', () => {
  test('attach, strengthen, edit, get, get_counter and detach answer typed values', async () => {
    const a = (await admin.profiles.add({ db_id: authors, data: { email: 'anna@example.com' } })).profile_id;
    const b = (await admin.profiles.add({ db_id: readers, data: { email: 'ivan@example.com' } })).profile_id;
    const pair = { rel_id: relId, profile_a: { profile_id: a }, profile_b: { email: 'ivan@example.com' } };

    const attached = await admin.relations.attach({ ...pair, weights: { donate: 343, online: true } });
    assert.deepEqual(attached, { error: 0, error_text: '', profile_a: a, profile_b: b, relation_id: relId });

    const duplicate = await rejectsWith(admin.relations.attach({ ...pair, weights: {} }), 409, 'relation');
    assert.equal(duplicate.call, 'relations/attach');
    assert.equal(duplicate.attempts, 1);

    await admin.relations.strengthen({ ...pair, weights: { donate: -43 } });
    await admin.relations.edit({ ...pair, weights: { online: null } });
    const got = await admin.relations.get({ rel_id: relId, profile_id: a });
    assert.equal(got.total_count, 1);
    assert.equal(got.data[0]!.profile_id_b, b);
    assert.deepEqual(got.data[0]!.props, { donate: { value: 300 } });

    const fromB = await admin.relations.get({ rel_id: relId, profile_id: b, side: 'b' });
    assert.equal(fromB.data[0]!.profile_id_a, a);
    assert.equal(fromB.data[0]!.db_a, authors);

    const counter = await admin.relations.getCounter({
      rel_id: relId,
      matching: 'email',
      email: 'anna@example.com',
    });
    assert.equal(counter.error_text, 'Successful operation');
    assert.deepEqual(counter.data.props.donate, { total: 1, top: [{ profile_id: b, value: 300 }], sum: 300 });

    const detached = await admin.relations.detach(pair);
    assert.equal(detached.profile_b, b);
    await rejectsWith(admin.relations.detach(pair), 404, 'relation');
  });

  test('get pages with limit, from and next_from', async () => {
    const a = (await admin.profiles.add({ db_id: authors, data: {} })).profile_id;
    for (let i = 0; i < 3; i++) {
      const b = (await admin.profiles.add({ db_id: readers, data: {} })).profile_id;
      await admin.relations.strengthen({
        rel_id: relId,
        profile_a: { profile_id: a },
        profile_b: { profile_id: b },
        weights: { donate: i },
      });
    }
    const first = await admin.relations.get({ rel_id: relId, profile_id: a, limit: 2 });
    assert.equal(first.data.length, 2);
    assert.ok(first.next_from);
    const second = await admin.relations.get({
      rel_id: relId,
      profile_id: a,
      limit: 2,
      from: first.next_from,
    });
    assert.equal(second.data.length, 1);
    assert.equal(second.next_from, undefined);
    assert.equal(second.total_count, 3);
  });

  test('a bad weight is a TiesApiError naming weights.<name>', async () => {
    const err = await rejectsWith(
      admin.relations.attach({
        rel_id: relId,
        profile_a: { email: 'anna@example.com' },
        profile_b: { email: 'ivan@example.com' },
        weights: { donate: 1.5 },
      }),
      400,
      'weights.donate',
    );
    assert.match(err.message, /^relations\/attach: 400 weights\.donate:/);
    await rejectsWith(
      admin.relations.attach({
        rel_id: relId,
        profile_a: { email: 'anna@example.com' },
        profile_b: { email: 'nobody@example.com' },
        weights: {},
      }),
      404,
      'profile_b',
    );
  });
});

describe('batch calls', () => {
  test('attach_batch and strengthen_batch answer each item in order; a failed item is not thrown', async () => {
    const a = (await admin.profiles.add({ db_id: authors, data: { email: 'batch-a@example.com' } }))
      .profile_id;
    const bs: string[] = [];
    for (let i = 0; i < 2; i++)
      bs.push(
        (await admin.profiles.add({ db_id: readers, data: { email: `batch-${i}@example.com` } })).profile_id,
      );
    const item = (b: string, donate: unknown) => ({
      profile_a: { profile_id: a },
      profile_b: { profile_id: b },
      weights: { donate },
    });
    const attached = await admin.relations.attachBatch({
      rel_id: relId,
      items: [item(bs[0]!, 1), item(bs[0]!, 2), item(bs[1]!, 'x')],
    });
    assert.equal(attached.error, 0);
    assert.deepEqual(
      attached.data.map((d) => d.error),
      [0, 409, 400],
    );
    assert.equal(attached.data[0]!.profile_b, bs[0]);
    assert.match(attached.data[2]!.error_text, /^weights\.donate:/);

    const strengthened = await admin.relations.strengthenBatch({
      rel_id: relId,
      items: [item(bs[0]!, 10), item(bs[1]!, 5)],
    });
    assert.deepEqual(
      strengthened.data.map((d) => d.error),
      [0, 0],
    );
    const got = await admin.relations.get({ rel_id: relId, profile_id: a });
    const donations = Object.fromEntries(got.data.map((r) => [r.profile_id_b, r.props.donate?.value]));
    assert.deepEqual(donations, { [bs[0]!]: 11, [bs[1]!]: 5 }, 'the refused items changed nothing');
    await rejectsWith(admin.relations.attachBatch({ rel_id: relId, items: [] }), 400, 'items');
  });
});

describe('profiles', () => {
  test('import, add, update, get and delete', async () => {
    const created = await admin.profiles.import({
      db_id: readers,
      matching: 'email',
      email: 'olga@example.com',
      data: { _fname: 'Olga', crm: 'R-2' },
    });
    const again = await admin.profiles.import({
      db_id: readers,
      email: 'olga@example.com',
      data: { crm: 'R-3' },
    });
    assert.equal(again.profile_id, created.profile_id);
    await admin.profiles.update({
      db_id: readers,
      profile_id: created.profile_id,
      data: { _lname: 'Reader' },
    });
    const profile = await admin.profiles.get({ db_id: readers, email: 'olga@example.com' });
    assert.equal(profile.data.id, created.profile_id);
    assert.equal(profile.data.db_id, readers);
    assert.equal(profile.data.crm, 'R-3');
    assert.equal(profile.data._lname, 'Reader');
    assert.match(profile.data._xxh, /^[0-9a-f]{16}$/);
    assert.deepEqual(profile.data.subscriptions, []);

    const deleted = await admin.profiles.delete({ db_id: readers, profile_id: created.profile_id });
    assert.deepEqual(deleted.data, { profile_id: created.profile_id });
    await rejectsWith(admin.profiles.get({ db_id: readers, profile_id: created.profile_id }), 404, 'profile');
    await rejectsWith(admin.profiles.add({ db_id: readers, data: { colour: 'red' } }), 400, 'data.colour');
  });
});

describe('databases and resources', () => {
  test('list, get, fields_get, create, fields_add', async () => {
    const listed = await admin.databases.list();
    assert.ok(listed.total_count >= 2);
    assert.ok(listed.data.some((d) => d.id === readers && d.name === 'readers'));
    const page = await admin.databases.list({ limit: 1 });
    assert.equal(page.data.length, 1);
    assert.equal(page.next_from_id, page.data[0]!.id + 1);

    assert.equal((await admin.databases.get({ id: authors })).data.name, 'authors');
    const added = await admin.databases.fieldsAdd({
      id: authors,
      fields: [{ name: 'genres', type: 'tags' }],
    });
    assert.deepEqual(added.data.fields, ['genres']);
    const fields = await admin.databases.fieldsGet({ id: authors });
    assert.deepEqual(
      fields.data.find((f) => f.name === 'genres'),
      { name: 'genres', type: 'tags', is_custom: true },
    );
    await rejectsWith(admin.databases.get({ id: 999 }), 404, 'id');
  });

  test('resources create, list, get', async () => {
    const id = (await admin.resources.create({ name: 'news', channels: ['email'], dbs_ids: [readers] })).data
      .id;
    const resource = await admin.resources.get({ id });
    assert.deepEqual(resource.data.channels, ['email']);
    assert.deepEqual(resource.data.dbs_ids, [readers]);
    assert.ok((await admin.resources.list()).data.some((r) => r.id === id));
    await rejectsWith(
      admin.resources.create({ name: 'x', channels: ['email'], dbs_ids: [424242] }),
      404,
      'dbs_ids[0]',
    );
  });
});

describe('relation types', () => {
  test('create, list, get, update and delete', async () => {
    const rel = (
      await admin.relations.types.create({ name: 'likes', db_a: readers, db_b: readers, properties: [] })
    ).data.rel_id;
    assert.ok((await admin.relations.types.list()).data.some((t) => t.rel_id === rel && t.name === 'likes'));
    const updated = await admin.relations.types.update({
      rel_id: rel,
      properties: [{ name: 'hearts', type: 'int', top: 2 }],
    });
    assert.deepEqual(updated.data.properties, [{ name: 'hearts', type: 'int', top: 2, sum: false }]);
    assert.equal((await admin.relations.types.get({ rel_id: rel })).data.properties.length, 1);
    await rejectsWith(
      admin.relations.types.update({ rel_id: rel, properties: [{ name: 'hearts', type: 'string' }] }),
      400,
      'properties[0].type',
    );
    assert.deepEqual((await admin.relations.types.delete({ rel_id: rel })).data, { rel_id: rel });
    await rejectsWith(admin.relations.types.get({ rel_id: rel }), 404, 'rel_id');
  });
});

describe('tokens', () => {
  test('create, list, revoke; rights and unknown tokens are TiesApiErrors', async () => {
    const minted = await admin.tokens.create({ name: 'reporting', rights: ['read'] });
    assert.match(minted.data.token, /^ties_/);
    assert.deepEqual(minted.data.rights, ['read']);
    const reader = new TiesClient({ baseUrl: server.url, token: minted.data.token });
    assert.ok((await reader.relations.types.list()).data.length >= 1);
    await rejectsWith(
      reader.relations.attach({ rel_id: relId, profile_a: {}, profile_b: {}, weights: {} }),
      403,
      'token',
    );
    const listed = await admin.tokens.list();
    assert.ok(listed.data.some((t) => t.id === minted.data.id && t.name === 'reporting'));
    assert.ok(
      listed.data.every((t) => !('token' in t)),
      'never the secret',
    );
    assert.deepEqual((await admin.tokens.revoke({ id: minted.data.id })).data, { id: minted.data.id });
    await rejectsWith(reader.relations.types.list(), 401, 'token');
    await rejectsWith(new TiesClient({ baseUrl: server.url }).tokens.list(), 401, 'token');
  });
});
