// The webhook admin calls (issue #16) over HTTP, in JSON and XML, on every engine: create (secret
// made or given, answered once), list (with delivery state), delete; validation names the parameter.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../support/engines.js';
import { type Harness, startHarness } from '../support/harness.js';
import { createWorkspace, FORMATS, list, ok, refused } from './helpers.js';

for (const engine of testEngines()) {
  describe(`webhooks on ${engine.name}`, () => {
    for (const format of FORMATS) {
      describe(format, () => {
        const o = { format };
        let h: Harness;
        let relId: number;
        before(async () => {
          h = await startHarness({ engine });
          relId = (await createWorkspace(h)).relId;
        });
        after(() => h.close());

        test('create answers the webhook and a generated secret once; list shows it without the secret', async () => {
          const created = (
            await ok(h, 'webhooks/create', { url: 'http://127.0.0.1:9/hooks#x', rel_id: relId }, o)
          ).data;
          assert.equal(created.url, 'http://127.0.0.1:9/hooks');
          assert.equal(String(created.rel_id), String(relId));
          assert.match(created.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
          assert.match(created.created_at, /^\d{4}-\d{2}-\d{2}T/);
          const listed = list((await ok(h, 'webhooks/list', {}, o)).data);
          const entry = listed.find((w) => String(w.id) === String(created.id));
          assert.ok(entry, 'listed');
          assert.equal(entry.secret, undefined, 'the secret is never listed');
          assert.equal(String(entry.lag), '0');
          assert.equal(String(entry.failures), '0');
          for (const key of ['position', 'last_delivered_seq', 'last_error', 'next_attempt_at', 'sender'])
            assert.ok(key in entry, `${key} listed`);
        });

        test('a given secret is kept; a profile filter is kept', async () => {
          const secret = 'my-own-secret-0123456789';
          const created = (
            await ok(h, 'webhooks/create', { url: 'https://example.com/in', profile_id: 'abc', secret }, o)
          ).data;
          assert.equal(created.secret, secret);
          assert.equal(created.profile_id, 'abc');
          assert.equal(created.rel_id, null);
        });

        test('delete removes it; a second delete is 404', async () => {
          const id = (await ok(h, 'webhooks/create', { url: 'http://localhost:1/x' }, o)).data.id;
          assert.equal(String((await ok(h, 'webhooks/delete', { id }, o)).data.id), String(id));
          await refused(h, 'webhooks/delete', { id }, 404, `webhook ${id}`, o);
          const listed = list((await ok(h, 'webhooks/list', {}, o)).data);
          assert.equal(
            listed.some((w) => String(w.id) === String(id)),
            false,
          );
        });

        test('bad input is a 400 naming the parameter; an unknown relation type a 404', async () => {
          await refused(h, 'webhooks/create', { url: 'ftp://example.com/x' }, 400, 'url', o);
          await refused(h, 'webhooks/create', { url: 'not a url' }, 400, 'url', o);
          await refused(h, 'webhooks/create', {}, 400, 'url', o);
          await refused(h, 'webhooks/create', { url: 'http://x.io/', secret: 'short' }, 400, 'secret', o);
          await refused(
            h,
            'webhooks/create',
            { url: 'http://x.io/', secret: 'has spaces in it 0123' },
            400,
            'secret',
            o,
          );
          await refused(h, 'webhooks/create', { url: 'http://x.io/', rel_id: 999_999 }, 404, 'rel_id', o);
        });

        test('the calls need the admin right', async () => {
          const reader = (await ok(h, 'tokens/create', { name: 'reader', rights: ['read', 'write'] }, o)).data
            .token;
          await refused(h, 'webhooks/list', {}, 403, undefined, { ...o, token: reader });
          await refused(h, 'webhooks/create', { url: 'http://x.io/' }, 403, undefined, {
            ...o,
            token: reader,
          });
        });
      });
    }
  });
}
