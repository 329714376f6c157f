import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from './backoff.js';

test('the ceiling doubles from the base up to the cap; the delay is a random share of it', () => {
  const policy = { baseMs: 1000, capMs: 300_000 };
  const top = () => 0.999999;
  assert.equal(backoffDelay(policy, 1, top), 999);
  assert.equal(backoffDelay(policy, 2, top), 1999);
  assert.equal(backoffDelay(policy, 9, top), 255_999);
  assert.equal(backoffDelay(policy, 10, top), 299_999);
  assert.equal(backoffDelay(policy, 1000, top), 299_999);
  assert.equal(
    backoffDelay(policy, 5, () => 0),
    0,
  );
  assert.equal(
    backoffDelay(policy, 3, () => 0.5),
    2000,
  );
});
