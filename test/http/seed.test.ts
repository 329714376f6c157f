// The attach example of Altcraft's page, verbatim but for the token, against the demo workspace:
// answered in the page's shape in JSON and XML, and refused as a duplicate the second time.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DEMO_AUTHOR_ID,
  DEMO_READER_ID,
  loadDemo,
  rotateDemoToken,
  seedAttachRequest,
  seedAttachXml,
} from '../../src/demo.js';
import { testEngines } from '../support/engines.js';
import { type Answer, type Harness, startHarness } from '../support/harness.js';
import { assertError, assertNoLeak } from './helpers.js';

const PATH = '/api/v1.1/relations/attach';

interface Variant {
  readonly name: string;
  readonly format: 'json' | 'xml';
  send(h: Harness, token: string): Promise<Answer>;
}

const VARIANTS: readonly Variant[] = [
  {
    name: 'JSON (application/json)',
    format: 'json',
    send: (h, token) =>
      h.send(PATH, JSON.stringify(seedAttachRequest(token)), { 'content-type': 'application/json' }),
  },
  {
    name: 'XML (application/xml)',
    format: 'xml',
    send: (h, token) => h.send(PATH, seedAttachXml(token), { 'content-type': 'application/xml' }),
  },
  {
    name: 'XML with no content type (sniffed)',
    format: 'xml',
    send: (h, token) => h.send(PATH, seedAttachXml(token), {}),
  },
  {
    name: 'XML as curl -d sends it (application/x-www-form-urlencoded, sniffed)',
    format: 'xml',
    send: (h, token) =>
      h.send(PATH, seedAttachXml(token), { 'content-type': 'application/x-www-form-urlencoded' }),
  },
];

async function demoState(h: Harness, token: string) {
  const counter = await h.call('relations/get_counter', { rel_id: 3, profile_id: DEMO_AUTHOR_ID }, { token });
  const rows = await h.call('relations/get', { rel_id: 3, profile_id: DEMO_AUTHOR_ID }, { token });
  assert.equal(counter.body.error, 0, counter.raw);
  assert.equal(rows.body.error, 0, rows.raw);
  return { counter: counter.body.data, rows: rows.body };
}

for (const engine of testEngines()) {
  describe(engine.name, () => {
    for (const variant of VARIANTS) {
      describe(`seed attach, ${variant.name}`, () => {
        let h: Harness;
        let token: string;
        before(async () => {
          h = await startHarness({ engine });
          assert.equal(await loadDemo(h.ties), true);
          token = await rotateDemoToken(h.ties);
        });
        after(() => h.close());

        test("is answered exactly in the page's shape", async () => {
          const answer = await variant.send(h, token);
          assert.equal(answer.status, 200, answer.raw);
          assertNoLeak(answer);
          if (variant.format === 'json') {
            assert.match(answer.contentType, /^application\/json/);
            assert.deepEqual(answer.body, {
              error: 0,
              error_text: '',
              profile_a: DEMO_AUTHOR_ID,
              profile_b: DEMO_READER_ID,
              relation_id: 3,
            });
            assert.deepEqual(Object.keys(answer.body), [
              'error',
              'error_text',
              'profile_a',
              'profile_b',
              'relation_id',
            ]);
          } else {
            assert.match(answer.contentType, /^application\/xml/);
            assert.match(answer.raw, /^(<\?xml[^>]*\?>)?<xml>[\s\S]*<\/xml>$/);
            assert.match(answer.raw, /<error>0<\/error>/);
            assert.match(answer.raw, /<error_text\/>|<error_text><\/error_text>/);
            assert.deepEqual(answer.body, {
              error: '0',
              error_text: '',
              profile_a: DEMO_AUTHOR_ID,
              profile_b: DEMO_READER_ID,
              relation_id: '3',
            });
          }
        });

        test('creates the relation with the given weights', async () => {
          const { rows, counter } = await demoState(h, token);
          const row = rows.data.find((r: any) => r.profile_id_b === DEMO_READER_ID);
          assert.deepEqual(row.props, {
            user_like: { value: 2 },
            donate: { value: 343 },
            is_online: { value: true },
          });
          assert.equal(row.profile_id_a, DEMO_AUTHOR_ID);
          // The demo's three donors plus the seed reader.
          assert.equal(rows.total_count, 4);
          assert.equal(counter.total, 4);
          assert.equal(counter.props.donate.sum, 120 + 40 + 500 + 343);
        });

        test('the same request again is a 409 duplicate and changes nothing', async () => {
          const before = await demoState(h, token);
          const again = await variant.send(h, token);
          assertError(again, 409, 'already');
          assert.match(again.contentType, new RegExp(`^application/${variant.format}`));
          assert.deepEqual(await demoState(h, token), before);
        });

        test('a duplicate with other weights is refused too and changes nothing', async () => {
          const before = await demoState(h, token);
          const request = seedAttachRequest(token);
          const again = await h.call(
            'relations/attach',
            { ...request, weights: { user_like: 99, donate: 1, is_online: false } },
            { token: null, format: variant.format },
          );
          assertError(again, 409, DEMO_READER_ID);
          assert.deepEqual(await demoState(h, token), before);
        });
      });
    }

    test('the demo token is the only demo token that works after a rotation', async () => {
      const h = await startHarness({ engine });
      try {
        await loadDemo(h.ties);
        const first = await rotateDemoToken(h.ties);
        const second = await rotateDemoToken(h.ties);
        const old = await h.call('relations/attach', seedAttachRequest(first), { token: null });
        assertError(old, 401);
        const fresh = await h.call('relations/attach', seedAttachRequest(second), { token: null });
        assert.equal(fresh.body.error, 0, fresh.raw);
      } finally {
        await h.close();
      }
    });
  });
}
