// The token cache of AccessService on a real store: a known token is looked up at most once per
// TTL, and a revocation made through this process takes effect at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TOKEN_CACHE_TTL_MS } from '../src/core/access-service.js';
import { createTies } from '../src/core/ties.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';

async function setup() {
  let now = Date.parse('2026-03-01T10:00:00Z');
  const clock = { now: () => new Date(now) };
  const store = await openSqliteStore({ path: ':memory:' });
  const ties = createTies({ store, clock });
  const advance = (ms: number) => {
    now += ms;
  };
  return { ties, store, advance };
}

const unknown = { code: 'TOKEN_UNKNOWN' };

describe('access service: token cache', () => {
  it('keeps a known token for its TTL: a revocation behind its back shows after the TTL', async () => {
    const { ties, store, advance } = await setup();
    try {
      const { data } = await ties.access.create({ name: 'crm', rights: ['read'] });
      await ties.access.authorize(data.token, 'read', 'relations/get');
      // As another server sharing the store would: straight in the store, not through this process.
      assert.equal(await store.revokeToken(data.id), true);
      await ties.access.authorize(data.token, 'read', 'relations/get');
      advance(TOKEN_CACHE_TTL_MS + 1);
      await assert.rejects(ties.access.authorize(data.token, 'read', 'relations/get'), unknown);
      // Unknown tokens are never cached: one created later works at once.
      const later = await ties.access.create({ name: 'later', rights: ['write'] });
      await assert.rejects(
        ties.access.authorize(`${later.data.token}x`, 'write', 'relations/attach'),
        unknown,
      );
      await ties.access.authorize(later.data.token, 'write', 'relations/attach');
    } finally {
      await ties.close();
    }
  });

  it('revoke and rotateNamed through this process take effect at once; rights still apply', async () => {
    const { ties } = await setup();
    try {
      const { data } = await ties.access.create({ name: 'crm', rights: ['read'] });
      await ties.access.authorize(data.token, 'read', 'relations/get');
      await assert.rejects(ties.access.authorize(data.token, 'write', 'relations/attach'), {
        code: 'FORBIDDEN',
      });
      await ties.access.revoke({ id: data.id });
      await assert.rejects(ties.access.authorize(data.token, 'read', 'relations/get'), unknown);

      const demo = await ties.access.rotateNamed('demo', ['read']);
      await ties.access.authorize(demo, 'read', 'relations/get');
      const next = await ties.access.rotateNamed('demo', ['read']);
      await assert.rejects(ties.access.authorize(demo, 'read', 'relations/get'), unknown);
      await ties.access.authorize(next, 'read', 'relations/get');
    } finally {
      await ties.close();
    }
  });
});
