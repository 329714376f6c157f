import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractToken, redactUrl } from './token.js';

test('the token comes from the body, then the Bearer header, then the query', () => {
  assert.equal(extractToken({ token: 'b' }, 'Bearer h', { token: 'q' }), 'b');
  assert.equal(extractToken({}, 'Bearer h', { token: 'q' }), 'h');
  assert.equal(extractToken({}, 'bearer   h2 ', {}), 'h2');
  assert.equal(extractToken({}, 'Basic abc', { token: 'q' }), 'q');
  assert.equal(extractToken({ token: 5 }, undefined, {}), undefined);
});

test('tokens in URLs are masked for logs', () => {
  assert.equal(
    redactUrl('/api/v1.1/relations/get?token=secret&format=xml'),
    '/api/v1.1/relations/get?token=[redacted]&format=xml',
  );
  assert.equal(redactUrl('/x?a=1&TOKEN=s'), '/x?a=1&TOKEN=[redacted]');
});
