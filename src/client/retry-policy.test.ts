import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_RETRY, parseRetryAfter, retryDelay, retryPolicy } from './retry-policy.js';

test('retry is off unless asked for; true takes the defaults', () => {
  assert.deepEqual(retryPolicy(undefined), NO_RETRY);
  assert.deepEqual(retryPolicy(false), NO_RETRY);
  assert.deepEqual(retryPolicy(true), { attempts: 3, baseDelayMs: 100, maxDelayMs: 5000 });
  assert.throws(() => retryPolicy({ attempts: 0 }), /retry\.attempts/);
  assert.throws(() => retryPolicy({ baseDelayMs: Number.NaN }), /retry\.baseDelayMs/);
});

test('Retry-After in seconds or as an HTTP date', () => {
  assert.equal(parseRetryAfter('1'), 1000);
  assert.equal(parseRetryAfter(' 0 '), 0);
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:02 GMT', now), 2000);
  assert.equal(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(null), undefined);
});

test('backoff doubles, is jittered within [step/2, step], capped, and Retry-After is a floor', () => {
  const p = retryPolicy({ attempts: 10, baseDelayMs: 100, maxDelayMs: 1000 });
  assert.equal(
    retryDelay(p, 1, undefined, () => 0),
    50,
  );
  assert.equal(
    retryDelay(p, 1, undefined, () => 1),
    100,
  );
  assert.equal(
    retryDelay(p, 3, undefined, () => 1),
    400,
  );
  assert.equal(
    retryDelay(p, 8, undefined, () => 1),
    1000,
    'capped at maxDelayMs',
  );
  assert.equal(
    retryDelay(p, 1, 700, () => 0),
    700,
    'never sooner than the server asked',
  );
  assert.equal(
    retryDelay(p, 1, 1500, () => 0),
    undefined,
    'longer than allowed: stop',
  );
  assert.equal(
    retryDelay(p, 10, undefined, () => 0),
    undefined,
    'attempts used up',
  );
  assert.equal(retryDelay(NO_RETRY, 1, undefined), undefined);
});
