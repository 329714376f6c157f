import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { signWebhookBody, verifyWebhookSignature } from './webhook-signature.js';

const secret = 'whsec_test-secret-0123456789';
const body = '{"webhook_id":1,"events":[]}';

test('the header is t=<seconds>,v1=<HMAC-SHA256(secret, "<t>.<body>") in hex>', async () => {
  const header = await signWebhookBody(secret, body, 1_700_000_000);
  const mac = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
  assert.equal(header, `t=1700000000,v1=${mac}`);
});

test('verify accepts the signature of this body and secret within the tolerance', async () => {
  const header = await signWebhookBody(secret, body, 1_700_000_000);
  assert.equal(await verifyWebhookSignature({ body, header, secret, now: 1_700_000_100 }), true);
  assert.equal(
    await verifyWebhookSignature({ body: Buffer.from(body), header: [header], secret, now: 1_700_000_000 }),
    true,
  );
});

test('verify refuses another body, another secret, an old or a malformed header', async () => {
  const header = await signWebhookBody(secret, body, 1_700_000_000);
  const now = 1_700_000_000;
  assert.equal(await verifyWebhookSignature({ body: `${body} `, header, secret, now }), false);
  assert.equal(await verifyWebhookSignature({ body, header, secret: `${secret}x`, now }), false);
  assert.equal(await verifyWebhookSignature({ body, header, secret, now: now + 301 }), false);
  assert.equal(
    await verifyWebhookSignature({ body, header, secret, now: now + 10_000, toleranceSeconds: 0 }),
    true,
  );
  assert.equal(await verifyWebhookSignature({ body, header: undefined, secret, now }), false);
  assert.equal(await verifyWebhookSignature({ body, header: 'v1=abc', secret, now }), false);
  assert.equal(
    await verifyWebhookSignature({ body, header: header.replace(/v1=./, 'v1=0'), secret, now }),
    false,
  );
});

test('verify tries every v1 entry (a rotated secret)', async () => {
  const good = (await signWebhookBody(secret, body, 1_700_000_000)).split(',v1=')[1];
  const header = `t=1700000000,v1=${'0'.repeat(64)},v1=${good}`;
  assert.equal(await verifyWebhookSignature({ body, header, secret, now: 1_700_000_000 }), true);
});
