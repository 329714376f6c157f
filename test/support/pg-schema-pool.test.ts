// The reuse of test schemas (pg-schema-pool.ts) on PostgreSQL and Citus: a schema a test wrote to
// comes back to the next store exactly fresh (no rows, ids from 1 again, an empty change log), and
// a schema whose structure a test changed is dropped, never handed out again.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { addProfile, adminCall, byId, createWorkspace, type Workspace } from '../http/helpers.js';
import { CITUS_URL } from './citus-engine.js';
import { type TestEngine, testEngines } from './engines.js';
import { type Harness, startHarness } from './harness.js';
import { PG_URL } from './pg-engine.js';

const engines = testEngines().filter((e) => e.name !== 'sqlite');
const urlOf = (engine: TestEngine) => (engine.name === 'citus' ? CITUS_URL : PG_URL)!;

async function schemaExists(url: string, schema: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    return rowCount === 1;
  } finally {
    await client.end();
  }
}

/** Attaches two new profiles; answers the seq of the event it logged. */
async function attachOnce(h: Harness, w: Workspace): Promise<unknown> {
  const a = await addProfile(h, w.dbA, { email: 'a@example.com' });
  const b = await addProfile(h, w.dbB, { email: 'b@example.com' });
  await adminCall(h, 'relations/attach', {
    rel_id: w.relId,
    profile_a: byId(a),
    profile_b: byId(b),
    weights: {},
  });
  const changes = await adminCall(h, 'relations/changes', { after: 0, limit: 10 });
  assert.equal(changes.data.length, 1);
  return changes.data[0].seq;
}

const schemaOf = (h: { ties: { store: unknown } }) => (h.ties.store as { schema: string }).schema;

for (const engine of engines) {
  describe(`test schema reuse on ${engine.name}`, () => {
    test('a used schema comes back as fresh as a new one', async () => {
      const first = await startHarness({ engine });
      let schema: string;
      let ids: Workspace;
      let seq: unknown;
      try {
        schema = schemaOf(first);
        ids = await createWorkspace(first);
        seq = await attachOnce(first, ids);
        await adminCall(first, 'webhooks/create', { url: 'http://127.0.0.1:9/in' });
      } finally {
        await first.close();
      }

      const second = await startHarness({ engine });
      try {
        assert.equal(schemaOf(second), schema, 'the schema is reused');
        const dbs = await adminCall(second, 'databases/list', {});
        assert.deepEqual(dbs.data, []);
        assert.deepEqual((await adminCall(second, 'webhooks/list', {})).data, []);
        const changes = await adminCall(second, 'relations/changes', { after: 0, limit: 10 });
        assert.deepEqual(changes.data, []);
        const tokens = await adminCall(second, 'tokens/list', {});
        assert.equal(tokens.data.length, 1, 'only the admin token of this harness');
        // Sequences start again: the same calls give the same ids as in the fresh schema.
        assert.deepEqual(await createWorkspace(second), ids);
        assert.equal(await attachOnce(second, ids), seq, 'the change log starts again');
      } finally {
        await second.close();
      }
    });

    test('a schema whose structure a test changed is dropped, not reused', async () => {
      const h = await startHarness({ engine });
      const schema = schemaOf(h);
      try {
        const client = new pg.Client({ connectionString: urlOf(engine) });
        await client.connect();
        try {
          await client.query(`CREATE TABLE ${pg.escapeIdentifier(schema)}.stray (id int)`);
        } finally {
          await client.end();
        }
      } finally {
        await h.close();
      }
      assert.equal(await schemaExists(urlOf(engine), schema), false);
      const next = await startHarness({ engine });
      try {
        assert.notEqual(schemaOf(next), schema);
      } finally {
        await next.close();
      }
    });
  });
}
