import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from './rate-limit.js';

test('a token gets its rate per second, then is refused until the bucket refills', () => {
  let now = 0;
  const limiter = new RateLimiter(3, () => now);
  assert.deepEqual(
    [1, 2, 3, 4].map(() => limiter.take(7)),
    [true, true, true, false],
  );
  assert.equal(limiter.take(8), true, 'another token has its own bucket');
  now += 340; // a third of a second refills one call
  assert.equal(limiter.take(7), true);
  assert.equal(limiter.take(7), false);
});
