import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changeEventToWire } from './change-wire.js';

test('changeEventToWire: snake_case, every field, in the documented order', () => {
  const wire = changeEventToWire({
    seq: 7,
    at: '2026-03-01T10:00:00.000Z',
    call: 'relations/strengthen',
    relId: 3,
    profileA: 'a'.repeat(24),
    dbA: 1,
    profileB: 'b'.repeat(24),
    dbB: 2,
    before: { hits: 1 },
    after: { hits: 2 },
  });
  assert.deepEqual(Object.keys(wire), [
    'seq',
    'at',
    'call',
    'rel_id',
    'profile_a',
    'db_a',
    'profile_b',
    'db_b',
    'before',
    'after',
  ]);
  assert.equal(wire.rel_id, 3);
  assert.deepEqual(wire.after, { hits: 2 });
});
