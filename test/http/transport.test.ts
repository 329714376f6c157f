// SPEC §1–§2 over HTTP: content types and sniffing, parse errors and limits, paths, answer format
// negotiation, tokens, status mirroring, parameter typing in JSON and XML, and what failures show.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { TiesError } from '../../src/core/errors.js';
import { testEngines } from '../support/engines.js';
import { type Answer, type Harness, startHarness, toXml } from '../support/harness.js';
import {
  addProfile,
  adminCall,
  assertError,
  assertNoLeak,
  byId,
  counterOf,
  createWorkspace,
  FORMATS,
  formatOf,
  ok,
  refused,
  relationsOf,
  type Workspace,
  weightsOf,
} from './helpers.js';

const API = '/api/v1.1/';
const JSON_TYPE = { 'content-type': 'application/json' };
const XML_TYPE = { 'content-type': 'application/xml' };

for (const engine of testEngines()) {
  describe(engine.name, () => {
    let h: Harness;
    let w: Workspace;
    let a1: string;
    let b1: string;
    let b2: string;
    /** A harmless read call's body. */
    let getBody: Record<string, unknown>;

    before(async () => {
      h = await startHarness({ engine });
      w = await createWorkspace(h);
      a1 = await addProfile(h, w.dbA, { email: 'a1@example.com' });
      b1 = await addProfile(h, w.dbB, { email: 'b1@example.com' });
      b2 = await addProfile(h, w.dbB, { email: 'b2@example.com' });
      await adminCall(h, 'relations/attach', {
        rel_id: w.relId,
        profile_a: byId(a1),
        profile_b: byId(b1),
        weights: { count: 1, note: 'x' },
      });
      getBody = { token: h.admin, rel_id: w.relId, profile_id: a1 };
    });
    after(() => h.close());

    const json = (value: unknown) => JSON.stringify(value);

    describe('request content types', () => {
      for (const contentType of [
        'application/json; charset=utf-8',
        'application/json;charset=UTF-8',
        'application/json; charset=windows-1251',
        'Application/JSON',
      ]) {
        test(`JSON as ${contentType}`, async () => {
          const answer = await h.send(`${API}relations/get`, json(getBody), { 'content-type': contentType });
          assert.equal(answer.body.error, 0, answer.raw);
          assert.equal(formatOf(answer), 'json');
          assert.equal(answer.body.total_count, 1);
        });
      }

      for (const contentType of ['application/xml', 'text/xml', 'application/xml; charset=utf-8']) {
        test(`XML as ${contentType}`, async () => {
          const answer = await h.send(`${API}relations/get`, toXml(getBody), { 'content-type': contentType });
          assert.equal(answer.body.error, '0', answer.raw);
          assert.equal(formatOf(answer), 'xml');
          assert.equal(answer.body.total_count, '1');
          assert.equal(answer.body.data.profile_id_b, b1);
        });
      }

      for (const contentType of [undefined, 'application/x-www-form-urlencoded', 'text/plain']) {
        for (const [format, body] of [
          ['json', () => `\n  ${json(getBody)}`],
          ['xml', () => `\n  ${toXml(getBody)}`],
          [
            'xml',
            () =>
              `<xml><token>${h.admin}</token><rel_id>${w.relId}</rel_id><profile_id>${a1}</profile_id></xml>`,
          ],
        ] as const) {
          test(`${contentType ?? 'no content type'}: a body starting with ${format === 'json' ? '{' : '<'} is ${format}`, async () => {
            const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
            const answer = await h.send(`${API}relations/get`, body(), headers);
            assert.equal(String(answer.body.error), '0', answer.raw);
            assert.equal(formatOf(answer), format);
            assert.equal(String(answer.body.total_count), '1');
          });
        }

        test(`${contentType ?? 'no content type'}: any other body is 415`, async () => {
          const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
          for (const body of [`token=${h.admin}&rel_id=${w.relId}`, 'rel_id: 3', '[{"rel_id": 3}]']) {
            const answer = await h.send(`${API}relations/get`, body, headers);
            assertError(answer, 415, 'content-type');
            assert.equal(formatOf(answer), 'json');
          }
        });
      }

      for (const contentType of [
        'application/octet-stream',
        'multipart/form-data; boundary=x',
        'text/html',
        'image/png',
        'application/yaml',
      ]) {
        test(`${contentType} is 415 even with a JSON body, and nothing is written`, async () => {
          const attach = {
            token: h.admin,
            rel_id: w.relId,
            profile_a: byId(a1),
            profile_b: byId(b2),
            weights: { count: 5 },
          };
          const answer = await h.send(`${API}relations/attach`, json(attach), {
            'content-type': contentType,
          });
          assertError(answer, 415, 'content-type');
          assert.equal(formatOf(answer), 'json');
          assert.equal(await weightsOf(h, w.relId, a1, b2), undefined);
        });
      }

      test('a byte order mark before the body is forgiven', async () => {
        for (const headers of [{}, JSON_TYPE]) {
          const answer = await h.send(`${API}relations/get`, `\uFEFF${json(getBody)}`, headers);
          assert.equal(answer.body.error, 0, answer.raw);
        }
        const xml = await h.send(`${API}relations/get`, `\uFEFF${toXml(getBody)}`, XML_TYPE);
        assert.equal(xml.body.error, '0', xml.raw);
      });

      test('an empty body is an empty request: 401 for the missing token', async () => {
        for (const headers of [{}, JSON_TYPE, XML_TYPE]) {
          const answer = await h.send(`${API}relations/get`, '', headers);
          assertError(answer, 401, 'token');
        }
      });
    });

    describe('bodies that do not parse', () => {
      for (const [name, body, mentions] of [
        ['unterminated object', '{"rel_id": 3', /^body: malformed JSON/],
        ['trailing comma', '{"rel_id": 3,}', /^body: malformed JSON/],
        ['single quotes', "{'rel_id': 3}", /^body: malformed JSON/],
        ['top-level array', '[1, 2]', /^body: top level must be an object/],
        ['top-level string', '"x"', /^body: /],
      ] as const) {
        test(`JSON: ${name} is 400 naming the problem`, async () => {
          const answer = await h.send(`${API}relations/get`, body, JSON_TYPE);
          assertError(answer, 400, mentions);
          assert.equal(formatOf(answer), 'json');
        });
      }

      for (const [name, body, mentions] of [
        ['unclosed element', '<xml><rel_id>3</xml>', /^body: malformed XML/],
        ['wrong root', '<request><rel_id>3</rel_id></request>', /root element must be <xml>/],
        ['two roots', '<xml></xml><xml></xml>', /^body: /],
        ['text outside elements', 'x<xml></xml>', /^body: /],
        ['mixed content', '<xml>text<rel_id>3</rel_id></xml>', /^body: /],
        ['bad entity reference', '<xml><rel_id>&bogus;</rel_id></xml>', /^body: /],
        ['nil with content', '<xml><rel_id nil="true">3</rel_id></xml>', /nil/],
      ] as const) {
        test(`XML: ${name} is 400 naming the problem`, async () => {
          const answer = await h.send(`${API}relations/get`, body, XML_TYPE);
          assertError(answer, 400, mentions);
        });
      }

      test('a malformed body is reported before an unknown path (order of checks)', async () => {
        const answer = await h.send(`${API}relations/nope`, '{"rel_id":', JSON_TYPE);
        assertError(answer, 400, 'malformed JSON');
      });

      for (const [name, doc] of [
        [
          'internal entity',
          (attach: string) =>
            `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY c "7">]>${attach.replace('<count>5</count>', '<count>&c;</count>')}`,
        ],
        [
          'external entity',
          (attach: string) =>
            `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY c SYSTEM "file:///etc/passwd">]>${attach.replace('<count>5</count>', '<count>&c;</count>')}`,
        ],
        ['external DTD', (attach: string) => `<!DOCTYPE xml SYSTEM "http://example.com/x.dtd">${attach}`],
        [
          'entity declaration without DOCTYPE',
          (attach: string) => attach.replace('<xml>', '<xml><!ENTITY c "7">'),
        ],
      ] as const) {
        test(`DOCTYPE/ENTITY (${name}) is 400 and nothing is written`, async () => {
          const attach = toXml({
            token: h.admin,
            rel_id: w.relId,
            profile_a: byId(a1),
            profile_b: byId(b2),
            weights: { count: 5 },
          }).replace(/^<\?xml[^>]*\?>/, '');
          const answer = await h.send(`${API}relations/attach`, doc(attach), XML_TYPE);
          assertError(answer, 400, 'body: DOCTYPE and entity declarations are not allowed');
          assert.doesNotMatch(answer.raw, /root:/);
          assert.equal(await weightsOf(h, w.relId, a1, b2), undefined);
        });
      }
    });

    describe('limits', () => {
      let small: Harness;
      before(async () => {
        small = await startHarness({ engine, config: { maxDepth: 4, bodyLimit: 1024 } });
      });
      after(() => small.close());

      const nestJson = (levels: number) => {
        // The top-level object is level 1.
        let inner: unknown = 'x';
        for (let i = 1; i < levels; i++) inner = { n: inner };
        return json({ token: small.admin, deep: inner });
      };
      const nestXml = (levels: number) => {
        // The root's children are level 1.
        let inner = 'x';
        for (let i = 0; i < levels; i++) inner = `<n>${inner}</n>`;
        return `<xml><token>${small.admin}</token>${inner}</xml>`;
      };

      test('JSON at the depth limit is accepted, one level deeper is 400', async () => {
        const okAnswer = await small.send(`${API}relations/types/list`, nestJson(4), JSON_TYPE);
        assert.equal(okAnswer.body.error, 0, okAnswer.raw);
        const deep = await small.send(`${API}relations/types/list`, nestJson(5), JSON_TYPE);
        assertError(deep, 400, 'nesting deeper than 4');
      });

      test('XML at the depth limit is accepted, one level deeper is 400', async () => {
        const okAnswer = await small.send(`${API}relations/types/list`, nestXml(4), XML_TYPE);
        assert.equal(okAnswer.body.error, '0', okAnswer.raw);
        const deep = await small.send(`${API}relations/types/list`, nestXml(5), XML_TYPE);
        assertError(deep, 400, 'nesting deeper than 4');
      });

      test('a 10,000-deep body is refused without harm', async () => {
        const deepJson = `{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
        const big = await startHarness({ engine, config: { maxDepth: 4 } });
        try {
          assertError(await big.send(`${API}relations/types/list`, deepJson, JSON_TYPE), 400, 'nesting');
          const deepXml = `<xml>${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}</xml>`;
          assertError(await big.send(`${API}relations/types/list`, deepXml, XML_TYPE), 400, 'nesting');
        } finally {
          await big.close();
        }
      });

      test('a body over the size limit is 413, answered JSON unless format or Accept asks XML', async () => {
        const padded = (format: 'json' | 'xml') =>
          format === 'json'
            ? json({ token: small.admin, pad: 'p'.repeat(2000) })
            : toXml({ token: small.admin, pad: 'p'.repeat(2000) });
        for (const headers of [JSON_TYPE, XML_TYPE, {}]) {
          const body = padded(headers === XML_TYPE ? 'xml' : 'json');
          const answer = await small.send(`${API}relations/types/list`, body, headers);
          assertError(answer, 413, '1024');
        }
        const jsonBody = padded('json');
        const byAccept = await small.send(`${API}relations/types/list`, jsonBody, {
          ...JSON_TYPE,
          accept: 'application/xml',
        });
        assertError(byAccept, 413);
        assert.equal(formatOf(byAccept), 'xml');
        const byQuery = await small.send(`${API}relations/types/list?format=xml`, jsonBody, JSON_TYPE);
        assertError(byQuery, 413);
        assert.equal(formatOf(byQuery), 'xml');
      });

      test('a body just under the size limit is served', async () => {
        const body = json({ token: small.admin, pad: 'p'.repeat(900) });
        assert.ok(Buffer.byteLength(body) < 1024);
        const answer = await small.send(`${API}relations/types/list`, body, JSON_TYPE);
        assert.equal(answer.body.error, 0, answer.raw);
      });

      test('the rate limit answers 429 with Retry-After once a token is over it', async () => {
        const limited = await startHarness({ engine, config: { rateLimit: 1 } });
        try {
          const answers = await Promise.all(
            Array.from({ length: 10 }, () => limited.call('relations/types/list', {})),
          );
          const refusedAnswers = answers.filter((a) => a.body.error === 429);
          assert.ok(refusedAnswers.length > 0, 'some calls are over the limit');
          for (const a of refusedAnswers) {
            assertError(a, 429, 'retry');
          }
          assert.ok(answers.some((a) => a.body.error === 0));
        } finally {
          await limited.close();
        }
      });
    });

    describe('paths', () => {
      test('an unknown path under the API is a 404 envelope naming it', async () => {
        const answer = await h.send(`${API}relations/nope`, json({ token: h.admin }), JSON_TYPE);
        assertError(answer, 404, 'relations/nope');
        assert.equal(formatOf(answer), 'json');
      });

      test('a path outside the API is a 404 envelope, in the request format', async () => {
        const answer = await h.send('/foo/bar', toXml({ token: h.admin }), XML_TYPE);
        assertError(answer, 404, '/foo/bar');
        assert.equal(formatOf(answer), 'xml');
      });

      test('an unknown call is 404 before the token is checked (order of checks)', async () => {
        const answer = await h.send(`${API}relations/nope`, json({}), JSON_TYPE);
        assertError(answer, 404, 'no such call');
      });

      test('GET on a call path is a 404 envelope saying calls use POST', async () => {
        const res = await h.app.inject({ method: 'GET', url: `${API}relations/get?token=${h.admin}` });
        assert.equal(res.statusCode, 404);
        const body = JSON.parse(res.body);
        assert.equal(body.error, 404);
        assert.match(body.error_text, /POST/);
        for (const method of ['PUT', 'DELETE', 'PATCH'] as const) {
          const other = await h.app.inject({
            method,
            url: `${API}relations/get`,
            payload: json(getBody),
            headers: JSON_TYPE,
          });
          assert.equal(other.statusCode, 404, `${method}: ${other.body}`);
          assert.equal(JSON.parse(other.body).error, 404);
        }
      });

      for (const path of [
        `${API}relations/get/`,
        '/api/v1.1//relations/get/',
        '/api/v1.1/relations//get',
        '//api/v1.1/relations/get',
      ]) {
        test(`${path} is relations/get`, async () => {
          const answer = await h.send(path, json(getBody), JSON_TYPE);
          assert.equal(answer.body.error, 0, answer.raw);
          assert.equal(answer.body.total_count, 1);
        });
      }
    });

    describe('answer format', () => {
      const cases: readonly {
        name: string;
        send: () => Promise<Answer>;
        expected: 'json' | 'xml';
      }[] = [
        {
          name: 'JSON request → JSON',
          send: () => h.send(`${API}relations/get`, json(getBody), JSON_TYPE),
          expected: 'json',
        },
        {
          name: 'XML request → XML',
          send: () => h.send(`${API}relations/get`, toXml(getBody), XML_TYPE),
          expected: 'xml',
        },
        {
          name: 'format "xml" in a JSON body → XML',
          send: () => h.send(`${API}relations/get`, json({ ...getBody, format: 'xml' }), JSON_TYPE),
          expected: 'xml',
        },
        {
          name: 'format "json" in an XML body → JSON',
          send: () => h.send(`${API}relations/get`, toXml({ ...getBody, format: 'json' }), XML_TYPE),
          expected: 'json',
        },
        {
          name: '?format=xml on a JSON request → XML',
          send: () => h.send(`${API}relations/get?format=xml`, json(getBody), JSON_TYPE),
          expected: 'xml',
        },
        {
          name: '?format=json on an XML request → JSON',
          send: () => h.send(`${API}relations/get?format=json`, toXml(getBody), XML_TYPE),
          expected: 'json',
        },
        {
          name: 'Accept: application/xml on a JSON request → XML',
          send: () =>
            h.send(`${API}relations/get`, json(getBody), { ...JSON_TYPE, accept: 'application/xml' }),
          expected: 'xml',
        },
        {
          name: 'Accept: text/xml on a JSON request → XML',
          send: () => h.send(`${API}relations/get`, json(getBody), { ...JSON_TYPE, accept: 'text/xml' }),
          expected: 'xml',
        },
        {
          name: 'Accept: application/json on an XML request → JSON',
          send: () =>
            h.send(`${API}relations/get`, toXml(getBody), { ...XML_TYPE, accept: 'application/json' }),
          expected: 'json',
        },
        {
          name: 'Accept with q-values: the preferred one wins',
          send: () =>
            h.send(`${API}relations/get`, toXml(getBody), {
              ...XML_TYPE,
              accept: 'application/xml;q=0.5, application/json',
            }),
          expected: 'json',
        },
        {
          name: 'Accept: */* keeps the request format',
          send: () => h.send(`${API}relations/get`, toXml(getBody), { ...XML_TYPE, accept: '*/*' }),
          expected: 'xml',
        },
        {
          name: 'format in the body wins over Accept',
          send: () =>
            h.send(`${API}relations/get`, json({ ...getBody, format: 'json' }), {
              ...JSON_TYPE,
              accept: 'application/xml',
            }),
          expected: 'json',
        },
        {
          name: 'format in the body wins over the query',
          send: () =>
            h.send(`${API}relations/get?format=json`, json({ ...getBody, format: 'xml' }), JSON_TYPE),
          expected: 'xml',
        },
      ];
      for (const c of cases) {
        test(c.name, async () => {
          const answer = await c.send();
          assert.equal(formatOf(answer), c.expected);
          assert.equal(String(answer.body.error), '0', answer.raw);
          assert.equal(String(answer.body.total_count), '1');
          if (c.expected === 'xml') assert.match(answer.raw, /^(<\?xml[^>]*\?>)?<xml>[\s\S]*<\/xml>$/);
          else assert.doesNotThrow(() => JSON.parse(answer.raw));
        });
      }

      test('errors are answered in the negotiated format too', async () => {
        const answer = await h.send(`${API}relations/get`, toXml({ ...getBody, rel_id: 999 }), XML_TYPE);
        assertError(answer, 404, 'rel_id');
        assert.equal(formatOf(answer), 'xml');
        const viaAccept = await h.send(`${API}relations/get`, json({ ...getBody, rel_id: 999 }), {
          ...JSON_TYPE,
          accept: 'application/xml',
        });
        assertError(viaAccept, 404);
        assert.equal(formatOf(viaAccept), 'xml');
      });

      test('415 is answered JSON unless format or Accept asks XML', async () => {
        const headers = { 'content-type': 'application/octet-stream' };
        const plain = await h.send(`${API}relations/get`, toXml(getBody), headers);
        assertError(plain, 415);
        assert.equal(formatOf(plain), 'json');
        const byQuery = await h.send(`${API}relations/get?format=xml`, json(getBody), headers);
        assertError(byQuery, 415);
        assert.equal(formatOf(byQuery), 'xml');
        const byAccept = await h.send(`${API}relations/get`, json(getBody), {
          ...headers,
          accept: 'application/xml',
        });
        assertError(byAccept, 415);
        assert.equal(formatOf(byAccept), 'xml');
      });

      test('an unparseable body is answered JSON unless format or Accept asks XML', async () => {
        const plain = await h.send(`${API}relations/get`, '{"rel_id": ', { 'content-type': 'text/plain' });
        assertError(plain, 400, 'malformed JSON');
        assert.equal(formatOf(plain), 'json');
        const byQuery = await h.send(`${API}relations/get?format=xml`, '{"rel_id": ', JSON_TYPE);
        assertError(byQuery, 400);
        assert.equal(formatOf(byQuery), 'xml');
        const byAccept = await h.send(`${API}relations/get`, '{"rel_id": ', {
          ...JSON_TYPE,
          accept: 'application/xml',
        });
        assertError(byAccept, 400);
        assert.equal(formatOf(byAccept), 'xml');
      });
    });

    describe('tokens', () => {
      let readToken: string;
      let readTokenId: number;
      before(async () => {
        const created = await adminCall(h, 'tokens/create', { name: 'reader', rights: ['read'] });
        readToken = created.data.token;
        readTokenId = created.data.id;
      });

      for (const format of FORMATS) {
        test(`${format}: token in the body`, async () => {
          await ok(h, 'relations/get', { rel_id: w.relId, profile_id: a1 }, { token: readToken, format });
        });

        test(`${format}: Authorization: Bearer`, async () => {
          for (const scheme of ['Bearer', 'bearer']) {
            await ok(
              h,
              'relations/get',
              { rel_id: w.relId, profile_id: a1 },
              { token: null, format, headers: { authorization: `${scheme} ${readToken}` } },
            );
          }
        });

        test(`${format}: ?token= in the query`, async () => {
          await ok(
            h,
            'relations/get',
            { rel_id: w.relId, profile_id: a1 },
            { token: null, format, query: `?token=${encodeURIComponent(readToken)}` },
          );
        });

        test(`${format}: missing → 401, unknown → 401, lacking the right → 403`, async () => {
          const params = { rel_id: w.relId, profile_id: a1 };
          await refused(h, 'relations/get', params, 401, 'token: required', { token: null, format });
          await refused(h, 'relations/get', params, 401, 'token: required', { token: '', format });
          await refused(h, 'relations/get', params, 401, 'unknown', {
            token: 'ties_not-a-real-token',
            format,
          });
          await refused(h, 'relations/get', params, 401, 'unknown', {
            token: null,
            format,
            headers: { authorization: 'Bearer nope-nope-nope' },
          });
          await refused(h, 'relations/get', params, 401, 'unknown', { token: 'x'.repeat(600), format });
          await refused(
            h,
            'relations/attach',
            { rel_id: w.relId, profile_a: byId(a1), profile_b: byId(b2), weights: {} },
            403,
            'write',
            { token: readToken, format },
          );
          assert.equal(await weightsOf(h, w.relId, a1, b2), undefined);
        });
      }

      test('a revoked token is 401', async () => {
        const created = await adminCall(h, 'tokens/create', { name: 'short-lived', rights: ['read'] });
        const token = created.data.token as string;
        await ok(h, 'relations/types/list', {}, { token });
        await adminCall(h, 'tokens/revoke', { id: created.data.id });
        await refused(h, 'relations/types/list', {}, 401, 'unknown', { token });
        await refused(h, 'relations/types/list', {}, 401, 'unknown', {
          token: null,
          headers: { authorization: `Bearer ${token}` },
        });
        // Other tokens keep working.
        await ok(h, 'relations/types/list', {}, { token: readToken });
        assert.ok(readTokenId > 0);
      });

      test('order of checks: token before parameters, parameters before existence, existence before conflict', async () => {
        // No token and bad parameters → 401.
        await refused(h, 'relations/attach', { rel_id: 'x' }, 401, 'token', { token: null });
        // Lacking the right and bad parameters → 403.
        await refused(h, 'relations/attach', { rel_id: 'x' }, 403, 'write', { token: readToken });
        // Bad parameters and an unknown relation type → 400.
        await refused(
          h,
          'relations/attach',
          { rel_id: 999, profile_a: byId(a1), profile_b: byId(b1), weights: 'heavy' },
          400,
          'weights',
        );
        // An unknown profile on an existing relation (which would be a duplicate) → 404.
        await refused(
          h,
          'relations/attach',
          { rel_id: w.relId, profile_a: byId(a1), profile_b: { email: 'nobody@example.com' }, weights: {} },
          404,
          'profile_b',
        );
      });
    });

    describe('HTTP status', () => {
      const failures = (ws: Workspace) =>
        [
          ['relations/get', { rel_id: 'x' }, 400],
          ['relations/get', { rel_id: ws.relId, profile_id: a1 }, 401, { token: null }],
          ['relations/get', { rel_id: 999, profile_id: a1 }, 404],
          ['relations/nope', {}, 404],
          ['databases/fields_add', { id: ws.dbA, fields: [{ name: 'crm', type: 'string' }] }, 409],
        ] as [string, Record<string, unknown>, number, { token?: null }?][];

      test('mirror (default): the HTTP status equals error, 200 on success', async () => {
        for (const [name, params, error, options] of failures(w)) {
          for (const format of FORMATS) {
            const answer = await h.call(name, params, { format, ...options });
            assertError(answer, error);
          }
        }
        const success = await h.call('relations/types/list', {});
        assert.equal(success.status, 200);
      });

      test('always200: every envelope is HTTP 200 and error stays in the body', async () => {
        const t = await startHarness({ engine, config: { httpStatus: 'always200', bodyLimit: 2048 } });
        try {
          const tw = await createWorkspace(t);
          for (const [name, params, error, options] of failures(tw)) {
            for (const format of FORMATS) {
              const answer = await t.call(name, params, { format, ...options });
              assert.equal(answer.status, 200, answer.raw);
              assert.equal(String(answer.body.error), String(error), answer.raw);
              assert.notEqual(answer.body.error_text, '');
            }
          }
          const tooBig = await t.send(
            `${API}relations/types/list`,
            json({ pad: 'p'.repeat(4000) }),
            JSON_TYPE,
          );
          assert.equal(tooBig.status, 200);
          assert.equal(tooBig.body.error, 413);
          const unsupported = await t.send(`${API}relations/types/list`, '{}', {
            'content-type': 'image/png',
          });
          assert.equal(unsupported.status, 200);
          assert.equal(unsupported.body.error, 415);
          const malformed = await t.send(`${API}relations/types/list`, '{', JSON_TYPE);
          assert.equal(malformed.status, 200);
          assert.equal(malformed.body.error, 400);
          const success = await t.call('relations/types/list', {});
          assert.equal(success.status, 200);
          assert.equal(success.body.error, 0);
        } finally {
          await t.close();
        }
      });
    });

    describe('parameters', () => {
      for (const format of FORMATS) {
        test(`${format}: Altcraft's extra and unknown top-level parameters are accepted and ignored`, async () => {
          const p = await addProfile(h, w.dbB);
          const body = await ok(
            h,
            'relations/attach',
            {
              rel_id: w.relId,
              profile_a: byId(a1),
              profile_b: byId(p),
              weights: { count: 2 },
              skip_triggers: true,
              skip_invalid_subscriptions: true,
              detect_geo: false,
              add_to_segments: [1, 2],
              remove_from_segments: [3],
              some_future_param: { nested: 'value' },
              another: 'x',
            },
            { format },
          );
          assert.equal(body.profile_b, p);
          assert.deepEqual(await weightsOf(h, w.relId, a1, p), { count: 2 });
          await ok(
            h,
            'relations/get',
            { rel_id: w.relId, profile_id: a1, detect_geo: true, whatever: 1 },
            { format },
          );
        });

        test(`${format}: unknown names inside profile_a/profile_b are 400 naming them, nothing written`, async () => {
          const before = await counterOf(h, w.relId, a1);
          await refused(
            h,
            'relations/attach',
            {
              rel_id: w.relId,
              profile_a: { profile_id: a1, colour: 'red' },
              profile_b: byId(b2),
              weights: {},
            },
            400,
            'profile_a.colour',
            { format },
          );
          await refused(
            h,
            'relations/strengthen',
            {
              rel_id: w.relId,
              profile_a: byId(a1),
              profile_b: { profile_id: b2, emial: 'x@y.z' },
              weights: { count: 1 },
            },
            400,
            'profile_b.emial',
            { format },
          );
          assert.deepEqual(await counterOf(h, w.relId, a1), before);
        });

        test(`${format}: rel_id that is not a positive integer is 400 naming rel_id`, async () => {
          for (const rel_id of ['3.5', 'three', -1, 0, '']) {
            await refused(h, 'relations/get', { rel_id, profile_id: a1 }, 400, 'rel_id', { format });
          }
          await refused(h, 'relations/get', { profile_id: a1 }, 400, 'rel_id', { format });
        });
      }

      test('JSON: integer parameters accept digit strings', async () => {
        const all = await ok(h, 'relations/get', { rel_id: String(w.relId), profile_id: a1 });
        assert.ok(all.data.length > 1, 'earlier tests attached more relations to a1');
        const body = await ok(h, 'relations/get', { rel_id: String(w.relId), profile_id: a1, limit: '1' });
        assert.equal(body.total_count, all.total_count);
        assert.deepEqual(body.data, all.data.slice(0, 1));
        const db = await ok(h, 'databases/get', { id: String(w.dbA) });
        assert.equal(db.data.id, w.dbA);
      });

      test('JSON: true, floats and non-digit strings for an integer are 400', async () => {
        for (const rel_id of [true, false, 3.5, '3x', ' 3', '0x3', null, [3], { v: 3 }]) {
          await refused(h, 'relations/get', { rel_id, profile_id: a1 }, 400, 'rel_id');
        }
      });

      test('XML: a repeated element is a list, refused where one value is expected', async () => {
        const answer = await h.send(
          `${API}relations/get`,
          `<xml><token>${h.admin}</token><rel_id>${w.relId}</rel_id><rel_id>${w.relId}</rel_id><profile_id>${a1}</profile_id></xml>`,
          XML_TYPE,
        );
        assertError(answer, 400, 'rel_id');
        const weights = await h.send(
          `${API}relations/edit`,
          `<xml><token>${h.admin}</token><rel_id>${w.relId}</rel_id><profile_a><profile_id>${a1}</profile_id></profile_a><profile_b><profile_id>${b1}</profile_id></profile_b><weights><count>1</count><count>2</count></weights></xml>`,
          XML_TYPE,
        );
        assertError(weights, 400, 'weights.count');
        const nested = await h.send(
          `${API}relations/edit`,
          `<xml><token>${h.admin}</token><rel_id>${w.relId}</rel_id><profile_a><profile_id>${a1}</profile_id></profile_a><profile_b><profile_id>${b1}</profile_id></profile_b><weights><count><v>1</v></count></weights></xml>`,
          XML_TYPE,
        );
        assertError(nested, 400, 'weights.count');
        assert.deepEqual(await weightsOf(h, w.relId, a1, b1), { count: 1, note: 'x' });
      });

      test('XML: nil="true" is null (edit removes the property)', async () => {
        const p = await addProfile(h, w.dbB);
        await ok(h, 'relations/attach', {
          rel_id: w.relId,
          profile_a: byId(a1),
          profile_b: byId(p),
          weights: { count: 3, note: 'keep', plain: 7 },
        });
        const xml = `<xml><token>${h.admin}</token><rel_id>${w.relId}</rel_id><profile_a><profile_id>${a1}</profile_id></profile_a><profile_b><profile_id>${p}</profile_id></profile_b><weights><plain nil="true"/><count>4</count></weights></xml>`;
        const answer = await h.send(`${API}relations/edit`, xml, XML_TYPE);
        assert.equal(answer.body.error, '0', answer.raw);
        assert.deepEqual(await weightsOf(h, w.relId, a1, p), { count: 4, note: 'keep' });
      });

      test('XML: an empty element is "" for a string weight and 400 for an int, float or bool', async () => {
        const p = await addProfile(h, w.dbB);
        const send = (weights: string) =>
          h.send(
            `${API}relations/attach`,
            `<xml><token>${h.admin}</token><rel_id>${w.relId}</rel_id><profile_a><profile_id>${a1}</profile_id></profile_a><profile_b><profile_id>${p}</profile_id></profile_b><weights>${weights}</weights></xml>`,
            XML_TYPE,
          );
        assertError(await send('<count/>'), 400, 'weights.count');
        assertError(await send('<count></count>'), 400, 'weights.count');
        assertError(await send('<amount/>'), 400, 'weights.amount');
        assertError(await send('<active/>'), 400, 'weights.active');
        assert.equal(await weightsOf(h, w.relId, a1, p), undefined);
        const answer = await send('<note/><count>1</count>');
        assert.equal(answer.body.error, '0', answer.raw);
        assert.deepEqual(await weightsOf(h, w.relId, a1, p), { note: '', count: 1 });
      });

      test('XML: an empty weights element is an empty object', async () => {
        const p = await addProfile(h, w.dbB);
        const xml = `<xml><token>${h.admin}</token><rel_id>${w.relId}</rel_id><profile_a><profile_id>${a1}</profile_id></profile_a><profile_b><profile_id>${p}</profile_id></profile_b><weights/></xml>`;
        const answer = await h.send(`${API}relations/attach`, xml, XML_TYPE);
        assert.equal(answer.body.error, '0', answer.raw);
        assert.deepEqual(await weightsOf(h, w.relId, a1, p), {});
      });

      test('XML: values are converted by type; whitespace around numbers is forgiven', async () => {
        const p = await addProfile(h, w.dbB);
        const xml = `<?xml version="1.0" encoding="UTF-8"?>
<xml>
  <token>${h.admin}</token>
  <rel_id> ${w.relId} </rel_id>
  <profile_a><profile_id>${a1}</profile_id></profile_a>
  <profile_b><profile_id>${p}</profile_id></profile_b>
  <weights>
    <count> 12 </count>
    <amount>2.5</amount>
    <active>1</active>
    <note>a &amp; b &lt;c&gt;</note>
  </weights>
</xml>`;
        const answer = await h.send(`${API}relations/attach`, xml, XML_TYPE);
        assert.equal(answer.body.error, '0', answer.raw);
        assert.deepEqual(await weightsOf(h, w.relId, a1, p), {
          count: 12,
          amount: 2.5,
          active: true,
          note: 'a & b <c>',
        });
      });
    });

    describe('failures show no internals', () => {
      test('a 500 carries only a request id, and the log has the error with that id', async () => {
        const lines: string[] = [];
        const logStream = new Writable({
          write(chunk, _enc, done) {
            lines.push(String(chunk));
            done();
          },
        });
        const t = await startHarness({ engine, logStream, config: { logLevel: 'error' } });
        try {
          const tw = await createWorkspace(t);
          const pa = await addProfile(t, tw.dbA);
          const store = t.ties.store as any;
          const original = store.counter;
          store.counter = async () => {
            throw new Error('secret detail: SELECT * FROM relations at /srv/ties/store.ts:42');
          };
          try {
            for (const format of FORMATS) {
              const answer = await t.call(
                'relations/get_counter',
                { rel_id: tw.relId, profile_id: pa },
                { format },
              );
              assertError(answer, 500);
              assert.match(answer.body.error_text, /^internal error \(request [^)\s]+\)$/);
              assert.doesNotMatch(answer.raw, /secret|SELECT|store\.ts/);
              assert.equal(formatOf(answer), format);
              const requestId = /request ([^)]+)\)/.exec(answer.body.error_text)![1]!;
              const logged = lines.map((l) => JSON.parse(l)).find((l) => l.reqId === requestId);
              assert.ok(logged, `the log has request ${requestId}`);
              assert.match(JSON.stringify(logged), /secret detail/);
            }
          } finally {
            store.counter = original;
          }
          await ok(t, 'relations/get_counter', { rel_id: tw.relId, profile_id: pa });
          // Tokens never reach the log.
          assert.ok(!lines.join('').includes(t.admin));
        } finally {
          await t.close();
        }
      });

      test('a store that is unavailable answers 503 with Retry-After, and the next call works', async () => {
        const store = h.ties.store as any;
        const original = store.counter;
        store.counter = async () => {
          throw new TiesError('STORE_UNAVAILABLE', { reason: 'connection refused' });
        };
        try {
          for (const format of FORMATS) {
            const res = await h.call(
              'relations/get_counter',
              { rel_id: w.relId, profile_id: a1 },
              { format },
            );
            assertError(res, 503, 'retry later');
            const raw = await h.app.inject({
              method: 'POST',
              url: `${API}relations/get_counter`,
              payload: json(getBody),
              headers: JSON_TYPE,
            });
            assert.equal(raw.statusCode, 503);
            assert.equal(raw.headers['retry-after'], '1');
          }
        } finally {
          store.counter = original;
        }
        await ok(h, 'relations/get_counter', { rel_id: w.relId, profile_id: a1 });
      });

      test('tokens never reach the logs, wherever they are sent', async () => {
        const lines: string[] = [];
        const logStream = new Writable({
          write(chunk, _enc, done) {
            lines.push(String(chunk));
            done();
          },
        });
        const t = await startHarness({ engine, logStream, config: { logLevel: 'trace' } });
        try {
          await ok(t, 'relations/types/list', {}, { token: null, query: `?token=${t.admin}` });
          await ok(
            t,
            'relations/types/list',
            {},
            { token: null, headers: { authorization: `Bearer ${t.admin}` } },
          );
          await ok(t, 'relations/types/list', {});
          await refused(t, 'relations/types/list', {}, 401, 'unknown', {
            token: null,
            query: '?token=ties_wrong-secret',
          });
          assert.ok(lines.length > 0, 'the calls were logged');
          const log = lines.join('');
          assert.ok(!log.includes(t.admin), 'the admin token leaked into the log');
          assert.ok(!log.includes('ties_wrong-secret'), 'a wrong token leaked into the log');
        } finally {
          await t.close();
        }
      });

      test('every answer carries its request id in x-request-id, a 500 the one its text names', async () => {
        const res = await h.app.inject({
          method: 'POST',
          url: `${API}relations/types/list`,
          payload: '{}',
          headers: JSON_TYPE,
        });
        assert.ok(res.headers['x-request-id'], 'x-request-id header');
        const store = h.ties.store as any;
        const original = store.listRelationTypes;
        store.listRelationTypes = async () => {
          throw new Error('boom');
        };
        try {
          const failed = await h.app.inject({
            method: 'POST',
            url: `${API}relations/types/list`,
            payload: json({ token: h.admin }),
            headers: JSON_TYPE,
          });
          assert.equal(failed.statusCode, 500);
          const text = JSON.parse(failed.body).error_text as string;
          assert.equal(text, `internal error (request ${String(failed.headers['x-request-id'])})`);
          assert.doesNotMatch(failed.body, /boom/);
        } finally {
          store.listRelationTypes = original;
        }
      });

      test('no error answer contains a stack trace or an error class name', async () => {
        const probes: [string, string, Record<string, string>][] = [
          [`${API}relations/get`, '{"rel_id": 3,,}', JSON_TYPE],
          [`${API}relations/get`, '<xml><a></b></xml>', XML_TYPE],
          [`${API}relations/get`, '\u0000\u0001', { 'content-type': 'text/plain' }],
          [`${API}relations/get`, json({ token: h.admin, rel_id: { $gt: 1 } }), JSON_TYPE],
          [`${API}relations/get`, json({ token: h.admin, rel_id: w.relId, profile_id: 'zz' }), JSON_TYPE],
          [
            `${API}relations/attach`,
            json({ token: h.admin, rel_id: w.relId, profile_a: [], profile_b: 'x', weights: [] }),
            JSON_TYPE,
          ],
          [
            `${API}relations/attach`,
            `{"token":"${h.admin}","__proto__":{"admin":true},"constructor":1}`,
            JSON_TYPE,
          ],
          [`${API}profiles/add`, `{"token":"${h.admin}","db_id":${w.dbA},"data":{"__proto__":1}}`, JSON_TYPE],
          [
            `${API}relations/attach`,
            `{"token":"${h.admin}","rel_id":${w.relId},"profile_a":{"profile_id":"${a1}"},"profile_b":{"profile_id":"${b2}"},"weights":{"__proto__":{"count":1}}}`,
            JSON_TYPE,
          ],
        ];
        for (const [path, body, headers] of probes) {
          const answer = await h.send(path, body, headers);
          assert.notEqual(String(answer.body.error), '0', answer.raw);
          assert.ok(answer.status >= 400 && answer.status < 500, answer.raw);
          assertNoLeak(answer);
        }
      });
    });

    test('relations written in this file are still intact (a guard for the fixtures above)', async () => {
      const { data } = await relationsOf(h, w.relId, a1);
      assert.deepEqual(data.find((r) => r.profile_id_b === b1)?.props, {
        count: { value: 1 },
        note: { value: 'x' },
      });
    });
  });
}
