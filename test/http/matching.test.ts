// SPEC §4 over HTTP: every matching mode, for relation sides (profile_a, profile_b) and for a
// top-level identification, with defaults, inference, normalisation and the errors of each.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../support/engines.js';
import { type Format, type Harness, startHarness } from '../support/harness.js';
import {
  addProfile,
  assertError,
  byId,
  createWorkspace,
  FORMATS,
  ok,
  refused,
  type Workspace,
} from './helpers.js';

/** Profiles created alike in both databases ("twins"), so one identification finds A in db_a and B in db_b. */
type Key =
  | 'email'
  | 'sub'
  | 'sub2'
  | 'crossField'
  | 'crossSub'
  | 'phone'
  | 'smsSub'
  | 'custom'
  | 'tags2'
  | 'dup1'
  | 'dup2'
  | 'push';

/** A resource with a push channel, open to both databases (made before the twins). */
let pushResource = 0;

function twins(w: Workspace): Record<Key, Record<string, unknown>> {
  const sub = (resource_id: number, channel: 'email' | 'sms', contact: string) => [
    { resource_id, channel, [channel === 'email' ? 'email' : 'phone']: contact, status: 'subscribed' },
  ];
  return {
    email: { email: 'Email.Person@Example.com', _fname: 'E' },
    sub: { subscriptions: sub(w.res1, 'email', 'Sub.Only@example.com') },
    sub2: { subscriptions: sub(w.res2, 'email', 'res2.only@example.com') },
    crossField: { email: 'cross@example.com' },
    crossSub: { subscriptions: sub(w.res1, 'email', 'CROSS@example.com') },
    phone: { phones: ['+7 (900) 111-22-33'] },
    smsSub: { subscriptions: sub(w.res1, 'sms', '+7 900 444 55 66') },
    custom: { crm: 'CRM-42', score: 42, vip: true, interests: ['jazz', 'poetry', 'chess'] },
    tags2: { interests: ['jazz', 'rock'] },
    dup1: { crm: 'DUP' },
    dup2: { crm: 'DUP' },
    push: {
      subscriptions: [
        {
          resource_id: pushResource,
          channel: 'push',
          subscription_id: 'Device-Token-1',
          status: 'subscribed',
        },
      ],
    },
  };
}

interface Case {
  readonly name: string;
  readonly ident: (ids: Record<Key, string>, w: Workspace) => Record<string, unknown>;
  /** The twin found, or the error and what its text mentions for a side (`{side}` is replaced). */
  readonly finds?: Key;
  readonly error?: number;
  readonly mentions?: string;
}

const CASES: readonly Case[] = [
  // email: profile field and subscriptions, case-insensitive
  {
    name: 'email (profile field)',
    ident: () => ({ matching: 'email', email: 'email.person@example.com' }),
    finds: 'email',
  },
  {
    name: 'email without matching (default)',
    ident: () => ({ email: 'EMAIL.PERSON@EXAMPLE.COM' }),
    finds: 'email',
  },
  {
    name: 'email (subscription)',
    ident: () => ({ matching: 'email', email: 'sub.only@EXAMPLE.com' }),
    finds: 'sub',
  },
  { name: 'email with blanks around it', ident: () => ({ email: '  sub.only@example.com ' }), finds: 'sub' },
  {
    name: 'email in field of one and subscription of another',
    ident: () => ({ email: 'cross@example.com' }),
    error: 409,
    mentions: '{side}: more than one',
  },
  {
    name: 'email_profile',
    ident: () => ({ matching: 'email_profile', email: 'Email.Person@example.com' }),
    finds: 'email',
  },
  {
    name: 'email_profile ignores subscriptions',
    ident: () => ({ matching: 'email_profile', email: 'sub.only@example.com' }),
    error: 404,
    mentions: '{side}: no profile',
  },
  {
    name: 'email_profile on the cross email',
    ident: () => ({ matching: 'email_profile', email: 'cross@example.com' }),
    finds: 'crossField',
  },
  {
    name: 'email_sub',
    ident: () => ({ matching: 'email_sub', email: 'sub.only@example.com' }),
    finds: 'sub',
  },
  {
    name: 'email_sub ignores the profile field',
    ident: () => ({ matching: 'email_sub', email: 'email.person@example.com' }),
    error: 404,
    mentions: '{side}',
  },
  {
    name: 'email_sub on the cross email',
    ident: () => ({ matching: 'email_sub', email: 'Cross@Example.com' }),
    finds: 'crossSub',
  },
  // resource_id limits subscription searches
  {
    name: 'email_sub with the right resource_id',
    ident: (_, w) => ({ matching: 'email_sub', email: 'sub.only@example.com', resource_id: w.res1 }),
    finds: 'sub',
  },
  {
    name: 'email_sub with another resource_id',
    ident: (_, w) => ({ matching: 'email_sub', email: 'sub.only@example.com', resource_id: w.res2 }),
    error: 404,
    mentions: '{side}',
  },
  {
    name: 'email with resource_id finds that resource',
    ident: (_, w) => ({ email: 'res2.only@example.com', resource_id: w.res2 }),
    finds: 'sub2',
  },
  {
    name: 'email with another resource_id',
    ident: (_, w) => ({ email: 'res2.only@example.com', resource_id: w.res1 }),
    error: 404,
    mentions: '{side}',
  },
  {
    name: 'unknown resource_id',
    ident: () => ({ matching: 'email_sub', email: 'sub.only@example.com', resource_id: 999 }),
    error: 404,
    mentions: 'resource 999',
  },
  // phone: phones field and sms subscriptions, digits only
  {
    name: 'phone (phones field)',
    ident: () => ({ matching: 'phone', phone: '79001112233' }),
    finds: 'phone',
  },
  { name: 'phone inferred, other punctuation', ident: () => ({ phone: '+7 900 111 22 33' }), finds: 'phone' },
  {
    name: 'phone (sms subscription)',
    ident: () => ({ matching: 'phone', phone: '+7-900-444-55-66' }),
    finds: 'smsSub',
  },
  { name: 'phone_sub', ident: () => ({ matching: 'phone_sub', phone: '(7900) 4445566' }), finds: 'smsSub' },
  {
    name: 'phone_sub ignores the phones field',
    ident: () => ({ matching: 'phone_sub', phone: '79001112233' }),
    error: 404,
    mentions: '{side}',
  },
  {
    name: 'phone_sub with another resource_id',
    ident: (_, w) => ({ matching: 'phone_sub', phone: '79004445566', resource_id: w.res2 }),
    error: 404,
    mentions: '{side}',
  },
  {
    name: 'phone nobody has',
    ident: () => ({ phone: '+1 555 0100' }),
    error: 404,
    mentions: '{side}: no profile',
  },
  // profile_id
  { name: 'profile_id', ident: (ids) => ({ matching: 'profile_id', profile_id: ids.email }), finds: 'email' },
  { name: 'profile_id alone (inferred)', ident: (ids) => ({ profile_id: ids.custom }), finds: 'custom' },
  {
    name: 'profile_id in upper case',
    ident: (ids) => ({ profile_id: ids.phone.toUpperCase() }),
    finds: 'phone',
  },
  {
    name: 'profile_id nobody has',
    ident: () => ({ profile_id: 'ffffffffffffffffffffffff' }),
    error: 404,
    mentions: '{side}: no profile',
  },
  {
    name: 'malformed profile_id',
    ident: () => ({ profile_id: 'not-an-id' }),
    error: 400,
    mentions: '{prefix}profile_id',
  },
  {
    name: 'profile_id of 25 characters',
    ident: (ids) => ({ profile_id: `${ids.email}0` }),
    error: 400,
    mentions: '{prefix}profile_id',
  },
  // custom: scalar fields by their type, tags by every listed tag
  {
    name: 'custom string field',
    ident: () => ({ matching: 'custom', field_name: 'crm', field_value: 'CRM-42' }),
    finds: 'custom',
  },
  {
    name: 'custom inferred from field_name',
    ident: () => ({ field_name: 'crm', field_value: 'CRM-42' }),
    finds: 'custom',
  },
  {
    name: 'custom int field, number',
    ident: () => ({ matching: 'custom', field_name: 'score', field_value: 42 }),
    finds: 'custom',
  },
  {
    name: 'custom int field, digit string',
    ident: () => ({ matching: 'custom', field_name: 'score', field_value: '42' }),
    finds: 'custom',
  },
  {
    name: 'custom bool field',
    ident: () => ({ matching: 'custom', field_name: 'vip', field_value: true }),
    finds: 'custom',
  },
  {
    name: 'custom tags, every tag present',
    ident: () => ({ matching: 'custom', field_name: 'interests', field_value: 'poetry,jazz' }),
    finds: 'custom',
  },
  {
    name: 'custom tags with blanks',
    ident: () => ({ field_name: 'interests', field_value: 'jazz, rock' }),
    finds: 'tags2',
  },
  {
    name: 'custom tags, one tag two profiles have',
    ident: () => ({ field_name: 'interests', field_value: 'jazz' }),
    error: 409,
    mentions: '{side}',
  },
  {
    name: 'custom tags, one tag missing',
    ident: () => ({ field_name: 'interests', field_value: 'jazz,blues' }),
    error: 404,
    mentions: '{side}',
  },
  {
    name: 'custom value two profiles have',
    ident: () => ({ field_name: 'crm', field_value: 'DUP' }),
    error: 409,
    mentions: '{side}: more than one',
  },
  {
    name: 'custom on an unknown field',
    ident: () => ({ matching: 'custom', field_name: 'nope', field_value: 'x' }),
    error: 400,
    mentions: '{prefix}field_name',
  },
  {
    name: 'custom on a standard field',
    ident: () => ({ matching: 'custom', field_name: '_fname', field_value: 'E' }),
    error: 400,
    mentions: '{prefix}field_name',
  },
  {
    name: 'custom on a json field',
    ident: () => ({ matching: 'custom', field_name: 'meta', field_value: 'x' }),
    error: 400,
    mentions: '{prefix}field_value',
  },
  {
    name: 'custom int field, not a number',
    ident: () => ({ matching: 'custom', field_name: 'score', field_value: 'many' }),
    error: 400,
    mentions: '{prefix}field_value',
  },
  // missing fields and bad values
  {
    name: 'email mode without email',
    ident: () => ({ matching: 'email' }),
    error: 400,
    mentions: '{prefix}email',
  },
  {
    name: 'email_sub mode without email',
    ident: () => ({ matching: 'email_sub', phone: '123456' }),
    error: 400,
    mentions: '{prefix}email',
  },
  {
    name: 'phone mode without phone',
    ident: () => ({ matching: 'phone', email: 'a@b.c' }),
    error: 400,
    mentions: '{prefix}phone',
  },
  {
    name: 'profile_id mode without profile_id',
    ident: () => ({ matching: 'profile_id' }),
    error: 400,
    mentions: '{prefix}profile_id',
  },
  {
    name: 'custom mode without field_value',
    ident: () => ({ matching: 'custom', field_name: 'crm' }),
    error: 400,
    mentions: '{prefix}field_value',
  },
  {
    name: 'custom mode without field_name',
    ident: () => ({ matching: 'custom', field_value: 'x' }),
    error: 400,
    mentions: '{prefix}field_name',
  },
  {
    name: 'unknown matching mode',
    ident: () => ({ matching: 'fingerprint', email: 'a@b.c' }),
    error: 400,
    mentions: 'matching',
  },
  {
    name: 'malformed email',
    ident: () => ({ email: 'not an email' }),
    error: 400,
    mentions: '{prefix}email',
  },
  {
    name: 'phone with too few digits',
    ident: () => ({ phone: '+-1' }),
    error: 400,
    mentions: '{prefix}phone',
  },
  { name: 'no identification at all', ident: () => ({}), error: 400 },
  // push_sub: a push subscription by its id, as given
  {
    name: 'push_sub',
    ident: () => ({ matching: 'push_sub', subscription_id: 'Device-Token-1' }),
    finds: 'push',
  },
  {
    name: 'push_sub within its resource',
    ident: () => ({ matching: 'push_sub', subscription_id: 'Device-Token-1', resource_id: pushResource }),
    finds: 'push',
  },
  {
    name: 'push_sub compares the id exactly',
    ident: () => ({ matching: 'push_sub', subscription_id: 'device-token-1' }),
    error: 404,
    mentions: '{side}',
  },
  {
    name: 'push_sub within another resource',
    ident: (_, w) => ({ matching: 'push_sub', subscription_id: 'Device-Token-1', resource_id: w.res1 }),
    error: 404,
  },
  {
    name: 'push_sub without subscription_id',
    ident: () => ({ matching: 'push_sub' }),
    error: 400,
    mentions: '{prefix}subscription_id',
  },
  // custom_sub: Ties keeps no custom-channel subscriptions
  {
    name: 'custom_sub finds nothing',
    ident: () => ({ matching: 'custom_sub', subscription_id: 'Device-Token-1' }),
    error: 404,
    mentions: '{side}',
  },
  // email_phone: the profile's email or phones fields, never subscriptions
  {
    name: 'email_phone by email',
    ident: () => ({ matching: 'email_phone', email: 'Email.Person@example.com' }),
    finds: 'email',
  },
  {
    name: 'email_phone by phone',
    ident: () => ({ matching: 'email_phone', phone: '79001112233' }),
    finds: 'phone',
  },
  {
    name: 'email_phone does not search subscriptions',
    ident: () => ({ matching: 'email_phone', email: 'sub.only@example.com' }),
    error: 404,
  },
  {
    name: 'email_phone: an email and a phone of two profiles',
    ident: () => ({ matching: 'email_phone', email: 'email.person@example.com', phone: '+79001112233' }),
    error: 409,
    mentions: '{side}',
  },
  {
    name: 'email_phone without email or phone',
    ident: () => ({ matching: 'email_phone' }),
    error: 400,
    mentions: '{prefix}email',
  },
  // email_phone_sub: email or sms subscriptions, never fields
  {
    name: 'email_phone_sub by email',
    ident: () => ({ matching: 'email_phone_sub', email: 'SUB.ONLY@example.com' }),
    finds: 'sub',
  },
  {
    name: 'email_phone_sub by phone',
    ident: () => ({ matching: 'email_phone_sub', phone: '+7 900 444-55-66' }),
    finds: 'smsSub',
  },
  {
    name: 'email_phone_sub does not search fields',
    ident: () => ({ matching: 'email_phone_sub', email: 'email.person@example.com' }),
    error: 404,
  },
];

for (const engine of testEngines()) {
  describe(engine.name, () => {
    let h: Harness;
    let w: Workspace;
    const idsA = {} as Record<Key, string>;
    const idsB = {} as Record<Key, string>;
    let plainA: string;
    let plainB: string;

    before(async () => {
      h = await startHarness({ engine });
      w = await createWorkspace(h);
      pushResource = (
        await ok(h, 'resources/create', { name: 'App', channels: ['push'], dbs_ids: [w.dbA, w.dbB] })
      ).data.id;
      for (const [key, data] of Object.entries(twins(w)) as [Key, Record<string, unknown>][]) {
        idsA[key] = await addProfile(h, w.dbA, data);
        idsB[key] = await addProfile(h, w.dbB, data);
      }
      plainA = await addProfile(h, w.dbA);
      plainB = await addProfile(h, w.dbB);
    });
    after(() => h.close());

    const expectedText = (c: Case, side: string, prefix: string) =>
      c.mentions?.replace('{side}', side).replace('{prefix}', prefix);

    for (const format of FORMATS) {
      describe(format, () => {
        for (const c of CASES) {
          test(c.name, async () => {
            const ident = c.ident(idsA, w);
            // Top level: get_counter answers the profile it matched, get lists its relations.
            const top = { rel_id: w.relId, ...ident };
            if (c.finds) {
              const counter = await ok(h, 'relations/get_counter', top, { format });
              assert.equal(counter.data.profile_id, idsA[c.finds]);
              await ok(h, 'relations/get', top, { format });
            } else {
              for (const call of ['relations/get_counter', 'relations/get']) {
                await refused(h, call, top, c.error!, expectedText(c, 'profile', ''), { format });
              }
            }
            // Sides: profile_a searched in db_a, profile_b in db_b.
            const identB = c.ident(idsB, w);
            const asA = { rel_id: w.relId, profile_a: ident, profile_b: byId(plainB), weights: {} };
            const asB = { rel_id: w.relId, profile_a: byId(plainA), profile_b: identB, weights: {} };
            if (c.finds) {
              const a = await ok(h, 'relations/edit', asA, { format });
              assert.equal(a.profile_a, idsA[c.finds]);
              assert.equal(a.profile_b, plainB);
              const b = await ok(h, 'relations/edit', asB, { format });
              assert.equal(b.profile_a, plainA);
              assert.equal(b.profile_b, idsB[c.finds]);
            } else {
              await refused(h, 'relations/edit', asA, c.error!, expectedText(c, 'profile_a', 'profile_a.'), {
                format,
              });
              await refused(h, 'relations/edit', asB, c.error!, expectedText(c, 'profile_b', 'profile_b.'), {
                format,
              });
            }
          });
        }

        test('the profile calls take the new modes too', async () => {
          const got = await ok(
            h,
            'profiles/get',
            { db_id: w.dbA, matching: 'push_sub', subscription_id: 'Device-Token-1' },
            { format },
          );
          assert.equal(got.data.id, idsA.push);
          const phone = `+7 902 ${format === 'json' ? '100' : '200'} 00 00`;
          const email = `ep-${format}@example.com`;
          const created = await ok(
            h,
            'profiles/import',
            { db_id: w.dbA, matching: 'email_phone', email, phone, data: { _fname: 'EP' } },
            { format },
          );
          const back = await ok(
            h,
            'profiles/get',
            { db_id: w.dbA, profile_id: created.profile_id },
            { format },
          );
          assert.equal(back.data.email, email, 'a created profile gets both contacts it was matched by');
          const again = await ok(
            h,
            'profiles/update',
            { db_id: w.dbA, matching: 'email_phone', phone, data: { _lname: 'X' } },
            { format },
          );
          assert.equal(again.profile_id, created.profile_id);
        });

        test('a profile of the other database is not found (A in db_a, B in db_b)', async () => {
          await refused(
            h,
            'relations/attach',
            { rel_id: w.relId, profile_a: byId(idsB.email), profile_b: byId(plainB), weights: {} },
            404,
            'profile_a',
            { format },
          );
          await refused(
            h,
            'relations/attach',
            { rel_id: w.relId, profile_a: byId(plainA), profile_b: byId(idsA.email), weights: {} },
            404,
            'profile_b',
            { format },
          );
          await refused(h, 'relations/get', { rel_id: w.relId, profile_id: idsB.email }, 404, 'profile', {
            format,
          });
          // side b searches db_b.
          const sideB = await ok(
            h,
            'relations/get',
            { rel_id: w.relId, profile_id: idsB.email, side: 'b' },
            { format },
          );
          assert.ok(sideB);
        });

        test('top-level matching and field_name are defaults for both sides', async () => {
          const answer = await ok(
            h,
            'relations/edit',
            {
              rel_id: w.relId,
              matching: 'custom',
              field_name: 'crm',
              profile_a: { field_value: 'CRM-42' },
              profile_b: { field_value: 'CRM-42' },
              weights: { note: 'custom twins' },
            },
            { format },
          );
          assert.equal(answer.profile_a, idsA.custom);
          assert.equal(answer.profile_b, idsB.custom);
        });

        test('a side overrides the top-level defaults', async () => {
          const answer = await ok(
            h,
            'relations/edit',
            {
              rel_id: w.relId,
              matching: 'email_sub',
              profile_a: { email: 'cross@example.com' },
              profile_b: { matching: 'email_profile', email: 'cross@example.com' },
              weights: {},
            },
            { format },
          );
          assert.equal(answer.profile_a, idsA.crossSub);
          assert.equal(answer.profile_b, idsB.crossField);
          const custom = await ok(
            h,
            'relations/edit',
            {
              rel_id: w.relId,
              field_name: 'crm',
              profile_a: { field_name: 'score', field_value: '42' },
              profile_b: { field_value: 'CRM-42' },
              weights: {},
            },
            { format },
          );
          assert.equal(custom.profile_a, idsA.custom);
          assert.equal(custom.profile_b, idsB.custom);
        });

        test('top-level resource_id is the default for sides; a side may override it', async () => {
          const params = (sideResource?: number) => ({
            rel_id: w.relId,
            resource_id: w.res2,
            profile_a: {
              matching: 'email_sub',
              email: 'sub.only@example.com',
              ...(sideResource ? { resource_id: sideResource } : {}),
            },
            profile_b: { matching: 'email_sub', email: 'res2.only@example.com' },
            weights: {},
          });
          await refused(h, 'relations/edit', params(), 404, 'profile_a: no profile', { format });
          const answer = await ok(h, 'relations/edit', params(w.res1), { format });
          assert.equal(answer.profile_a, idsA.sub);
          assert.equal(answer.profile_b, idsB.sub2);
          await refused(h, 'relations/edit', { ...params(w.res1), resource_id: 999 }, 404, 'resource 999', {
            format,
          });
        });

        test('top-level profile_id is not an identification for sides', async () => {
          // Only matching, resource_id and field_name are defaults; a side needs its own fields.
          await refused(
            h,
            'relations/edit',
            { rel_id: w.relId, profile_id: plainA, profile_a: {}, profile_b: byId(plainB), weights: {} },
            400,
            'profile_a',
            { format },
          );
        });

        test('A is checked before B: both missing names profile_a', async () => {
          await refused(
            h,
            'relations/edit',
            {
              rel_id: w.relId,
              profile_a: { email: 'ghost-a@example.com' },
              profile_b: { email: 'ghost-b@example.com' },
              weights: {},
            },
            404,
            'profile_a',
            { format },
          );
        });
      });
    }

    test('profile calls use the same matching (name "profile" in errors)', async () => {
      for (const format of FORMATS as readonly Format[]) {
        const got = await ok(h, 'profiles/get', { db_id: w.dbA, phone: '7 (900) 444-55-66' }, { format });
        assert.equal(got.data.id, idsA.smsSub);
        const answer = await h.call(
          'profiles/get',
          { db_id: w.dbA, field_name: 'crm', field_value: 'DUP' },
          { format },
        );
        assertError(answer, 409, 'profile: more than one');
      }
    });
  });
}
