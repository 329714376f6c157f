import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderErrorsDoc } from '../scripts/errors-doc.js';
import { ERROR_CATALOGUE } from '../src/core/errors.js';

test('docs/errors.md is in step with the error catalogue', () => {
  assert.equal(readFileSync('docs/errors.md', 'utf8'), renderErrorsDoc(), 'run npm run docs:errors');
});

test('every catalogue code appears in docs/errors.md with its number', () => {
  const doc = readFileSync('docs/errors.md', 'utf8');
  for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
    assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${entry.status} \\|`), code);
  }
});
