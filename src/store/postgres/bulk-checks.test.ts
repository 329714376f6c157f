// The checks of set-based attach_batch (ties_attach_many, sql/functions/09-bulk.sql) that only a
// concurrent writer reaches: a profile deleted after the chunk looked it up and before the chunk
// took its profile locks. The deletion is held open at that point on purpose (its transaction holds
// the profile's exclusive lock while the batch waits for the shared one), so the check after the
// locks runs every time, not only when timing happens to allow it. On plain PostgreSQL and Citus.
import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { CITUS_URL, openCitusTestStore } from '../../../test/support/citus-engine.js';
import { openPgTestStore, PG_SKIPPED, PG_URL, type PgTestStore } from '../../../test/support/pg-engine.js';
import { seedProfiles } from '../../../test/support/store-seed.js';
import type { PropertyDef } from '../../core/model.js';
import type { AttachInput, ProfileQuery } from '../../core/store.js';

const NOW = '2026-03-01T10:00:00.000Z';
const byId = (id: string): ProfileQuery => ({ by: 'id', id });

const PROPS: readonly PropertyDef[] = [
  { name: 'hits', type: 'int', top: 3, sum: true },
  { name: 'fan', type: 'bool', top: 0, sum: false },
];

function seed(store: PgTestStore['store'], prefix: string, count: number) {
  return seedProfiles(store, PROPS, prefix, count, NOW);
}

/** An attach of the type between two profiles by id, with these weights. */
function itemOf(type: AttachInput['type']) {
  return (a: string, b: string, hits: number): AttachInput => ({
    type,
    a: byId(a),
    b: byId(b),
    weights: { hits, fan: true },
    now: NOW,
  });
}

function suite(engine: string, open: () => Promise<PgTestStore>) {
  describe(`${engine}: attach_batch and a profile deleted while it runs`, () => {
    it('answers not found for every item naming a profile deleted between the lookup and the locks, and keeps nothing of it', async () => {
      const { store, cleanup } = await open();
      try {
        const { database, type, ids } = await seed(store, 'd', 5);
        const [victim, p1, p2, p3, p4] = ids as [string, string, string, string, string];
        const item = itemOf(type);
        const items = [
          item(p1, victim, 1), // B goes
          item(victim, p2, 2), // A goes
          item(p1, p2, 3),
          item(p1, victim, 4), // the pair of the first item: its profile went, so not a duplicate
          item(p1, p2, 5), // a duplicate of the third
          item(p3, p4, 6),
        ];

        // The deletion, held open: it holds the victim's exclusive lock and has deleted its row.
        const deleter = await store.pool.connect();
        let batch: Promise<Awaited<ReturnType<NonNullable<typeof store.attachMany>>>> | undefined;
        try {
          await deleter.query('BEGIN');
          const { rows } = await deleter.query<{ status: string }>(
            'SELECT status FROM ties_delete_profile($1, $2)',
            [database.id, JSON.stringify(byId(victim))],
          );
          assert.equal(rows[0]!.status, 'ok');
          // The batch finds the victim (the deletion is not committed) and waits for the lock of
          // its bucket (a batch locks profiles by bucket: ties_lock_bucket).
          batch = store.attachMany!(items);
          const deadline = Date.now() + 10_000;
          for (;;) {
            const waiting = await deleter.query<{ n: string }>(
              `SELECT count(*) AS n FROM pg_locks
                WHERE locktype = 'advisory' AND NOT granted AND classid = ties_ns('profile-bucket')::oid
                  AND objid = ties_lock_bucket(hashtext($1))::oid`,
              [victim],
            );
            if (Number(waiting.rows[0]!.n) > 0) break;
            if (Date.now() > deadline) assert.fail('the batch never waited for the profile lock');
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          await deleter.query('COMMIT');
        } catch (err) {
          await deleter.query('ROLLBACK').catch(() => undefined);
          throw err;
        } finally {
          deleter.release();
        }
        const outcomes = await batch!;
        assert.deepEqual(
          outcomes.map((o) => o.kind),
          ['not_found', 'not_found', 'ok', 'not_found', 'duplicate', 'ok'],
        );
        // Each not-found answer is the one a single attach gives now that the profile is gone.
        for (const k of [0, 1, 3]) assert.deepEqual(outcomes[k], await store.attach(items[k]!), `item ${k}`);

        const { rows } = await store.pool.query<{ left: string }>(
          `SELECT (SELECT count(*) FROM relations WHERE a = $1 OR b = $1)
                + (SELECT count(*) FROM relations_by_b WHERE a = $1 OR b = $1)
                + (SELECT count(*) FROM relation_stats WHERE profile_id = $1) AS left`,
          [victim],
        );
        assert.equal(Number(rows[0]!.left), 0, 'nothing of the deleted profile is left');
        const counter = await store.counter({ type, profile: byId(p1) });
        assert.ok(counter.kind === 'ok');
        assert.equal(counter.total, 1, 'p1 has the third item only');
        assert.deepEqual(
          counter.props.find((p) => p.name === 'hits'),
          { name: 'hits', count: 1, sum: 3, top: [{ profileId: p2, value: 3 }] },
        );
        // p2 is B of the third item only (side 'b' lists the rows by B), with the third item's weights.
        const toP2 = await store.listRelations({ type, side: 'b', profile: byId(p2), limit: 10 });
        assert.ok(toP2.kind === 'ok');
        assert.equal(toP2.total, 1);
        assert.deepEqual(toP2.rows, [[p1, JSON.stringify({ fan: true, hits: 3 })]]);
      } finally {
        await cleanup();
      }
    });
  });
}

function olderStage(engine: string, open: () => Promise<PgTestStore>) {
  it(`${engine}: attach_batch on a connection holding an earlier version's staging table`, async () => {
    const { store, cleanup } = await open();
    try {
      const { type, ids } = await seed(store, 'e', 2);
      const client = await store.pool.connect();
      try {
        // What ties_attach_many of 2026-12-04 created on a connection (a server of that version
        // sharing the schema keeps such connections after a newer one re-applied the functions).
        await client.query(`CREATE TEMP TABLE ties_stage (idx integer NOT NULL, weights jsonb NOT NULL,
          a_ids text[] NOT NULL, b_ids text[] NOT NULL, a text COLLATE "C", b text COLLATE "C", status text)`);
        const { rows } = await client.query<{ status: string; a: string; b: string }>(
          'SELECT status, a, b FROM ties_attach_many($1, $2, $3)',
          [type.relId, JSON.stringify([[ids[0], ids[1], { hits: 1 }]]), NOW],
        );
        assert.deepEqual(rows, [{ status: 'ok', a: ids[0], b: ids[1] }]);
      } finally {
        await client.query('DROP TABLE IF EXISTS pg_temp.ties_stage').catch(() => undefined);
        client.release();
      }
    } finally {
      await cleanup();
    }
  });
}

/**
 * The chunk's answer: sparse (this version's call) leaves out the items attached by id on both
 * sides, which the store answers with the ids it sent; with three arguments (a server of an
 * earlier version sharing the schema) every item has its row, in order.
 */
function answerShapes(engine: string, open: () => Promise<PgTestStore>) {
  it(`${engine}: ties_attach_many answers sparse when asked, one row per item otherwise`, async () => {
    const { store, cleanup } = await open();
    try {
      const { type, ids } = await seed(store, 'f', 4);
      const [p0, p1, p2, p3] = ids as [string, string, string, string];
      const items = (n: number) =>
        JSON.stringify([
          [p0, p1, { hits: n }], // ok by id: no row when sparse
          [p0, p1, { hits: n }], // duplicate of the first
          [p2, { by: 'id', id: p3 }, { hits: n }], // ok, B not by id as an id string: a row
          [p3, p3, { hits: n }], // self: 'pair'
          ['000000000000000000000000', p1, { hits: n }], // not found: 'pair'
          [p1, p2, { hits: n }], // ok by id: no row when sparse
        ]);
      const sparse = await store.pool.query<{
        idx: number;
        status: string;
        a: string | null;
        b: string | null;
      }>('SELECT idx, status, a, b FROM ties_attach_many($1, $2, $3, true)', [type.relId, items(1), NOW]);
      assert.deepEqual(sparse.rows, [
        { idx: 2, status: 'duplicate', a: p0, b: p1 },
        { idx: 3, status: 'ok', a: p2, b: p3 },
        { idx: 4, status: 'pair', a: p3, b: p3 },
        { idx: 5, status: 'pair', a: null, b: null },
      ]);
      const full = await store.pool.query<{ idx: number; status: string }>(
        'SELECT idx, status FROM ties_attach_many($1, $2, $3)',
        [type.relId, items(2), NOW],
      );
      assert.deepEqual(
        full.rows.map((r) => `${r.idx} ${r.status}`),
        ['1 duplicate', '2 duplicate', '3 duplicate', '4 pair', '5 pair', '6 duplicate'],
      );
    } finally {
      await cleanup();
    }
  });
}

/**
 * A chunk naming many profiles takes a bounded number of advisory locks: one per bucket of
 * profiles and of top-row keys (ties_lock_bucket), not one per profile. PostgreSQL's lock table
 * holds 64 × max_connections entries for every session together: an 8,000-item chunk over as many
 * As and Bs took ~24,000 and failed with "out of shared memory" (docs/decisions.md). Both paths:
 * set-wise (int sums) and one by one (a float sum), each with one A taken past the top-row
 * threshold inside the chunk, whose top rows must be built.
 */
function lockBound(engine: string, open: () => Promise<PgTestStore>) {
  for (const [path, score] of [
    ['set-wise', { name: 'score', type: 'int', top: 3, sum: true }],
    ['one by one', { name: 'score', type: 'float', top: 3, sum: true }],
  ] as const) {
    it(`${engine}: a chunk over 800 profiles takes at most 256 + 256 advisory locks (${path})`, async () => {
      const { store, cleanup } = await open();
      try {
        const { type, ids } = await seedProfiles(store, [score], `g${path.length}`, 800, NOW);
        // 330 pairs of distinct profiles, and A ids[0] with 70 relations (past 64: built here).
        const items: unknown[] = [];
        for (let i = 2; i + 1 < 662; i += 2) items.push([ids[i], ids[i + 1], { score: i }]);
        for (let i = 662; i < 732; i++) items.push([ids[0], ids[i], { score: i }]);
        const client = await store.pool.connect();
        try {
          await client.query('BEGIN');
          const { rows } = await client.query<{ n: string }>(
            'SELECT count(*) AS n FROM ties_attach_many($1, $2, $3, true)',
            [type.relId, JSON.stringify(items), NOW],
          );
          assert.equal(rows[0]!.n, '0', 'every item attached by id: a sparse answer has no row');
          const locks = await client.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()",
          );
          assert.ok(Number(locks.rows[0]!.n) <= 256 + 256 + 8, `${locks.rows[0]!.n} advisory locks`);
          await client.query('COMMIT');
        } finally {
          await client.query('ROLLBACK').catch(() => undefined);
          client.release();
        }
        const tops = await store.pool.query<{ n: string }>(
          'SELECT count(*) AS n FROM relation_tops WHERE a = $1 AND rel_id = $2',
          [ids[0], type.relId],
        );
        assert.equal(tops.rows[0]!.n, '70', 'A past the threshold: a top row per relation');
        const counter = await store.pool.query<{ n: string }>(
          "SELECT sum(count) AS n FROM relation_stats WHERE profile_id = $1 AND rel_id = $2 AND side = 'a' AND prop = ''",
          [ids[0], type.relId],
        );
        assert.equal(counter.rows[0]!.n, '70');
      } finally {
        await cleanup();
      }
    });
  }
}

/**
 * A chunk of distinct pairs by id (the store skips the repeat check, and on plain PostgreSQL the
 * relations go in as one plain INSERT): when some pairs are stored already, that insert is undone
 * and the chunk answers as ever — the stored pairs duplicates, the rest attached once each.
 */
function storedPairs(engine: string, open: () => Promise<PgTestStore>) {
  it(`${engine}: a chunk of distinct pairs, some stored already, answers those as duplicates and attaches the rest once`, async () => {
    const { store, cleanup } = await open();
    try {
      const { type, ids } = await seed(store, 'h', 6);
      const item = itemOf(type);
      const first = await store.attachMany!([item(ids[0]!, ids[1]!, 1), item(ids[2]!, ids[3]!, 2)]);
      assert.deepEqual(
        first.map((o) => o.kind),
        ['ok', 'ok'],
      );
      const second = await store.attachMany!([
        item(ids[0]!, ids[2]!, 4),
        item(ids[0]!, ids[1]!, 8), // stored
        item(ids[4]!, ids[5]!, 16),
        item(ids[2]!, ids[3]!, 32), // stored
      ]);
      assert.deepEqual(second, [
        { kind: 'ok', a: ids[0], b: ids[2] },
        { kind: 'duplicate', a: ids[0], b: ids[1] },
        { kind: 'ok', a: ids[4], b: ids[5] },
        { kind: 'duplicate', a: ids[2], b: ids[3] },
      ]);
      const { rows } = await store.pool.query<{ n: string; hits: string }>(
        "SELECT count(*) AS n, sum((weights->>'hits')::int) AS hits FROM relations WHERE rel_id = $1",
        [type.relId],
      );
      assert.deepEqual(rows[0], { n: '4', hits: String(1 + 2 + 4 + 16) });
      const counter = await store.counter({ type, profile: byId(ids[0]!) });
      assert.ok(counter.kind === 'ok');
      assert.equal(counter.total, 2);
      assert.equal(counter.props.find((p) => p.name === 'hits')?.sum, 5);
    } finally {
      await cleanup();
    }
  });
}

if (!PG_URL) test('PostgreSQL attach_batch checks', { skip: PG_SKIPPED }, () => undefined);
else {
  suite('postgres', () => openPgTestStore({ poolMax: 3 }));
  olderStage('postgres', () => openPgTestStore({ poolMax: 3 }));
  answerShapes('postgres', () => openPgTestStore({ poolMax: 3 }));
  lockBound('postgres', () => openPgTestStore({ poolMax: 3 }));
  storedPairs('postgres', () => openPgTestStore({ poolMax: 3 }));
}
if (CITUS_URL) {
  suite('citus', () => openCitusTestStore({ poolMax: 3 }));
  olderStage('citus', () => openCitusTestStore({ poolMax: 3 }));
  answerShapes('citus', () => openCitusTestStore({ poolMax: 3 }));
  lockBound('citus', () => openCitusTestStore({ poolMax: 3 }));
  storedPairs('citus', () => openCitusTestStore({ poolMax: 3 }));
}
