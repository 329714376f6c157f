// groupDigits writes numbers as toLocaleString('en-US') does, without initialising ICU.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupDigits } from './group-digits.js';

test('groupDigits writes what toLocaleString("en-US") writes', () => {
  const cases = [0, -0, 1, 12, 123, 1234, 12345, 123456, 1234567, -1, -999, -1000, -1234567, 8000, 1e15];
  for (const n of [...cases, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1.5, 2 ** 60, Number.NaN]) {
    assert.equal(groupDigits(n), n.toLocaleString('en-US'), String(n));
  }
  for (let k = 0; k < 2000; k++) {
    const n = Math.floor((Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 16));
    assert.equal(groupDigits(n), n.toLocaleString('en-US'), String(n));
  }
});
