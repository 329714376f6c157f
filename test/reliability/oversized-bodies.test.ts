// Oversized bodies (issue #12, item 10): a client still sending a body over TIES_BODY_LIMIT gets the
// 413 envelope rather than a reset connection — the server reads and discards the rest up to a
// bound (64 MiB). Node's fetch, 2, 4 and 20 MiB against the default 1 MiB limit, 10 clients each.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startTiesProcess } from './support.js';

const ADMIN = 'oversized-admin-token-0123456789';

describe('oversized bodies', () => {
  test('2, 4 and 20 MiB: 10 of 10 fetch clients get the 413 envelope', { timeout: 120_000 }, async () => {
    // A process of its own: in process, the client's writes and the server's reads share one thread.
    const server = await startTiesProcess(':memory:', { TIES_ADMIN_TOKEN: ADMIN });
    try {
      for (const mib of [2, 4, 20]) {
        const body = JSON.stringify({ token: ADMIN, rel_id: 1, profile_id: 'x'.repeat(mib * 1_048_576) });
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, async () => {
            try {
              const res = await fetch(`${server.url}/api/v1.1/relations/get`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body,
              });
              const envelope = (await res.json()) as { error: number; error_text: string };
              return `${res.status} ${envelope.error} ${envelope.error_text.startsWith('body: larger than')}`;
            } catch (err) {
              return `failed: ${String((err as Error).cause ?? err)}`;
            }
          }),
        );
        assert.deepEqual(
          outcomes,
          outcomes.map(() => '413 413 true'),
          `${mib} MiB: ${JSON.stringify(outcomes)}`,
        );
      }
    } finally {
      await server.stop('SIGTERM');
    }
  });
});
