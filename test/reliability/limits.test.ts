// Every size limit of the configuration table, end to end: set through the environment, read by
// loadConfig, applied by a real server (startServer) and answered over HTTP in JSON and XML.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { toXml } from '../support/harness.js';
import { assertEnvelope } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'ties-limits-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ADMIN = 'limits-test-admin-token-0123456789';
const FORMATS = ['json', 'xml'] as const;
type Format = (typeof FORMATS)[number];

const LIMITS = {
  TIES_BODY_LIMIT: '4096',
  TIES_MAX_DEPTH: '5',
  TIES_MAX_STRING_LENGTH: '32',
  TIES_MAX_ARRAY_LENGTH: '3',
  TIES_MAX_GET_ROWS: '2',
};

describe('limits set in the environment are enforced over HTTP', () => {
  let server: RunningServer;
  let dbId: number;
  let relId: number;
  let a: string;
  const bs: string[] = [];
  let n = 0;

  /** Sends a raw body; answers the checked envelope. */
  const send = async (name: string, body: string, format: Format) => {
    const res = await fetch(`${server.url}/api/v1.1/${name}`, {
      method: 'POST',
      headers: { 'content-type': `application/${format}` },
      body,
    });
    const raw = await res.text();
    const answer = assertEnvelope(
      { status: res.status, contentType: res.headers.get('content-type') ?? '', raw },
      `${name}: ${body.slice(0, 200)}`,
    );
    assert.equal(answer.format, format, 'answered in the request format');
    return { error: answer.error, text: String(answer.body.error_text), body: answer.body };
  };
  const encode = (params: Record<string, unknown>, format: Format) =>
    format === 'xml' ? toXml({ token: ADMIN, ...params }) : JSON.stringify({ token: ADMIN, ...params });
  const call = (name: string, params: Record<string, unknown>, format: Format = 'json') =>
    send(name, encode(params, format), format);
  const expectOk = async (name: string, params: Record<string, unknown>, format: Format = 'json') => {
    const answer = await call(name, params, format);
    assert.equal(answer.error, 0, `${name} (${format}): ${answer.text}`);
    return answer.body as Record<string, any>;
  };
  const expectRefused = async (
    name: string,
    params: Record<string, unknown>,
    format: Format,
    error: number,
    mentions: string,
  ) => {
    const answer = await call(name, params, format);
    assert.equal(answer.error, error, `${name} (${format}) should be ${error}: ${answer.text}`);
    assert.ok(answer.text.includes(mentions), `error_text should mention ${mentions}: ${answer.text}`);
  };

  before(async () => {
    const config = loadConfig(
      { ...LIMITS, TIES_ADMIN_TOKEN: ADMIN, TIES_DB: join(dir, 'limits.db'), TIES_LOG_LEVEL: 'silent' },
      ['--port', '0'],
    );
    assert.deepEqual(
      [config.bodyLimit, config.maxDepth, config.maxStringLength, config.maxArrayLength, config.maxGetRows],
      [4096, 5, 32, 3, 2],
    );
    server = await startServer(config);
    dbId = (
      await expectOk('databases/create', {
        name: 'people',
        fields: [
          { name: 'crm', type: 'string' },
          { name: 'interests', type: 'tags' },
        ],
      })
    ).data.id;
    relId = (
      await expectOk('relations/types/create', {
        name: 'likes',
        db_a: dbId,
        db_b: dbId,
        properties: [
          { name: 'note', type: 'string' },
          { name: 'count', type: 'int', top: 2, sum: true },
        ],
      })
    ).data.rel_id;
    a = (await expectOk('profiles/add', { db_id: dbId, data: {} })).profile_id;
    for (let i = 0; i < 3; i++)
      bs.push((await expectOk('profiles/add', { db_id: dbId, data: {} })).profile_id);
  });
  after(() => server.close());

  test('TIES_BODY_LIMIT: a body of exactly the limit is served, one byte more is 413', async () => {
    for (const format of FORMATS) {
      const base = Buffer.byteLength(encode({ pad: 'p' }, format));
      const padded = (size: number) => encode({ pad: 'p'.repeat(size - base + 1) }, format);
      assert.equal(Buffer.byteLength(padded(4096)), 4096);
      assert.equal((await send('relations/types/list', padded(4096), format)).error, 0);
      const over = await send('relations/types/list', padded(4097), format);
      assert.equal(over.error, 413, over.text);
      assert.match(over.text, /4096 bytes/);
    }
  });

  test('TIES_MAX_DEPTH: nesting at the limit is accepted, one level deeper is 400', async () => {
    let value: unknown = 'x';
    // The top-level object is level 1, so `extra` holds levels 2 to 5.
    for (let i = 0; i < 4; i++) value = { n: value };
    for (const format of FORMATS) {
      assert.equal((await call('relations/types/list', { extra: value }, format)).error, 0);
      await expectRefused(
        'relations/types/list',
        { extra: { n: value } },
        format,
        400,
        'nesting deeper than 5',
      );
    }
  });

  test('TIES_MAX_STRING_LENGTH: string weights and profile fields of the limit pass, longer is 400', async () => {
    const at = 'x'.repeat(32);
    const over = 'é'.repeat(33);
    for (const format of FORMATS) {
      const pair = { rel_id: relId, profile_a: { profile_id: a }, profile_b: { profile_id: bs[0] } };
      await expectOk('relations/edit', { ...pair, weights: { note: at } }, format);
      await expectRefused(
        'relations/edit',
        { ...pair, weights: { note: over } },
        format,
        400,
        'weights.note',
      );
      await expectOk(
        'profiles/update',
        { db_id: dbId, profile_id: a, data: { _fname: at, crm: at } },
        format,
      );
      await expectRefused(
        'profiles/add',
        { db_id: dbId, data: { _fname: over } },
        format,
        400,
        'data._fname',
      );
      await expectRefused('profiles/add', { db_id: dbId, data: { crm: over } }, format, 400, 'data.crm');
    }
  });

  test('TIES_MAX_ARRAY_LENGTH: tags, phones, subscriptions, fields and properties', async () => {
    const resource = (
      await expectOk('resources/create', { name: 'news', channels: ['email', 'sms'], dbs_ids: [dbId] })
    ).data.id;
    const subs = (k: number) =>
      Array.from({ length: k }, (_, i) => ({
        resource_id: resource,
        channel: 'email',
        email: `s${i}@example.com`,
      }));
    const phones = (k: number) => Array.from({ length: k }, (_, i) => `+1 555 000 ${1000 + i}`);
    const tags = (k: number) => Array.from({ length: k }, (_, i) => `t${i}`);
    const fields = (k: number) => Array.from({ length: k }, () => ({ name: `f${++n}`, type: 'int' }));
    const props = (k: number) => Array.from({ length: k }, () => ({ name: `p${++n}`, type: 'int' }));
    for (const format of FORMATS) {
      await expectOk(
        'profiles/add',
        { db_id: dbId, data: { interests: tags(3), phones: phones(3) } },
        format,
      );
      await expectRefused(
        'profiles/add',
        { db_id: dbId, data: { interests: tags(4) } },
        format,
        400,
        'data.interests',
      );
      await expectRefused(
        'profiles/add',
        { db_id: dbId, data: { phones: phones(4) } },
        format,
        400,
        'data.phones',
      );
      await expectOk('profiles/add', { db_id: dbId, data: { subscriptions: subs(3) } }, format);
      await expectRefused(
        'profiles/add',
        { db_id: dbId, data: { subscriptions: subs(4) } },
        format,
        400,
        'data.subscriptions',
      );
      const created = await expectOk('databases/create', { name: `d${++n}`, fields: fields(3) }, format);
      await expectRefused('databases/create', { name: `d${++n}`, fields: fields(4) }, format, 400, 'fields');
      // A database's custom fields are one list: adding past the limit is refused too.
      await expectRefused(
        'databases/fields_add',
        { id: created.data.id, fields: fields(1) },
        format,
        400,
        'fields',
      );
      const type = await expectOk(
        'relations/types/create',
        { name: `r${++n}`, db_a: dbId, db_b: dbId, properties: props(3) },
        format,
      );
      await expectRefused(
        'relations/types/create',
        { name: `r${++n}`, db_a: dbId, db_b: dbId, properties: props(4) },
        format,
        400,
        'properties',
      );
      await expectRefused(
        'relations/types/update',
        { rel_id: type.data.rel_id, properties: props(1) },
        format,
        400,
        'properties',
      );
    }
  });

  test('TIES_MAX_GET_ROWS: relations/get without limit refuses more rows, paging still works', async () => {
    for (const b of bs) {
      await expectOk('relations/strengthen', {
        rel_id: relId,
        profile_a: { profile_id: a },
        profile_b: { profile_id: b },
        weights: { count: 1 },
      });
    }
    for (const format of FORMATS) {
      await expectRefused('relations/get', { rel_id: relId, profile_id: a }, format, 400, 'limit');
      const page = await expectOk('relations/get', { rel_id: relId, profile_id: a, limit: 2 });
      assert.equal(page.data.length, 2);
      assert.equal(page.total_count, 3);
      const rest = await expectOk('relations/get', {
        rel_id: relId,
        profile_id: a,
        limit: 2,
        from: page.next_from,
      });
      assert.equal(rest.data.length, 1);
    }
  });
});
