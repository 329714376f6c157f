import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newProfileId, PROFILE_ID_PATTERN, profileXxh } from './ids.js';

test('_xxh matches the three vectors of SPEC §3', () => {
  assert.equal(profileXxh('669e6968ebf4ac52b623a997'), '5af1023c84f66195');
  assert.equal(profileXxh('6751b8f1c5e3db9bcb75befa'), '879cebbb0e6b6723');
  assert.equal(profileXxh('5c910f6bc484d023b1309bee'), '54ec2d76ac22a964');
});

test('new profile ids are 24 hex characters that start with the creation time', () => {
  const at = Date.UTC(2026, 10, 28, 12, 0, 0);
  const id = newProfileId(at);
  assert.match(id, PROFILE_ID_PATTERN);
  assert.equal(Number.parseInt(id.slice(0, 8), 16), at / 1000);
  assert.notEqual(newProfileId(at), id, 'the random part differs between calls');
});
