// The change feed's order on PostgreSQL without serialising writers: writers take seqs in parallel
// and may commit out of order; a reader must never answer a seq while a smaller one can still
// commit (it would skip it for good). Two raw transactions play two writers: the first takes seq 1
// and stays open, the second takes seq 2 and commits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { openPgTestStore, PG_SKIPPED, PG_URL } from '../../../test/support/pg-engine.js';

const CITUS_URL = process.env.TIES_TEST_CITUS_URL || undefined;
const servers = [
  { name: 'postgres', url: PG_URL },
  { name: 'citus', url: CITUS_URL },
];

/** A writer's transaction taking the feed lock and one seq, as every writing function does. */
async function takeSeq(client: pg.Client): Promise<number> {
  await client.query('BEGIN');
  await client.query('SELECT ties_feed_lock()');
  const { rows } = await client.query<{ seq: string }>(
    `INSERT INTO change_log (seq, at, call, rel_id, profile_a, db_a, profile_b, db_b, before, after)
     VALUES (nextval('change_seq'), '2026-12-04T00:00:00.000Z', 'relations/attach', 1, 'a', 1, 'b', 1, NULL, '{}')
     RETURNING seq`,
  );
  return Number(rows[0]!.seq);
}

for (const server of servers) {
  describe(`change feed horizon (${server.name})`, { skip: server.url ? false : PG_SKIPPED }, () => {
    test('an event committed after a later one is never skipped; both are read once the first commits', async () => {
      const t = await openPgTestStore({ url: server.url! });
      const first = new pg.Client({ connectionString: server.url, options: `-c search_path=${t.schema}` });
      const second = new pg.Client({ connectionString: server.url, options: `-c search_path=${t.schema}` });
      await first.connect();
      await second.connect();
      try {
        assert.equal(await takeSeq(first), 1);
        assert.equal(await takeSeq(second), 2);
        await second.query('COMMIT');

        // Seq 2 is committed and visible, seq 1 is not yet: nothing may be answered, and the
        // cursor must not move past 1.
        const held = await t.store.readChanges(0, 100, {});
        assert.deepEqual(
          held.events.map((e) => e.seq),
          [],
        );
        assert.ok(held.lastSeq < 1, `lastSeq ${held.lastSeq} would skip seq 1`);

        await first.query('COMMIT');
        const page = await t.store.readChanges(held.lastSeq, 100, {});
        assert.deepEqual(
          page.events.map((e) => e.seq),
          [1, 2],
        );
        assert.equal(page.lastSeq, 2);
      } finally {
        await first.end().catch(() => undefined);
        await second.end().catch(() => undefined);
        await t.cleanup();
      }
    });

    test('a writer that rolls back leaves a gap the reader passes', async () => {
      const t = await openPgTestStore({ url: server.url! });
      const first = new pg.Client({ connectionString: server.url, options: `-c search_path=${t.schema}` });
      await first.connect();
      try {
        assert.equal(await takeSeq(first), 1);
        await first.query('ROLLBACK');
        assert.equal(await takeSeq(first), 2);
        await first.query('COMMIT');
        const page = await t.store.readChanges(0, 100, {});
        assert.deepEqual(
          page.events.map((e) => e.seq),
          [2],
        );
      } finally {
        await first.end().catch(() => undefined);
        await t.cleanup();
      }
    });
  });
}
