// `ties copy` / `ties export` on PostgreSQL: the transfer's connection lifts the pool's client-side
// read timeout (statement timeout + 5 s, a guard for ordinary calls), so that a rebuild of a large
// type's aggregates or a cursor's first FETCH over a sort of millions of rows is not cut short as
// "Query read timeout". Here the pool's guard is 300 ms and the statements take 600.
import assert from 'node:assert/strict';
import { after, describe, it, test } from 'node:test';
import pg from 'pg';
import { dropSchema, freshSchemaName, PG_SKIPPED, PG_URL } from '../../../test/support/pg-engine.js';
import { CopyIn } from './postgres-copy-in.js';
import { unguarded } from './postgres-transfer.js';

if (!PG_URL) {
  test('PostgreSQL transfer connection', { skip: PG_SKIPPED }, () => undefined);
} else {
  const url = PG_URL;
  describe('postgres: the transfer connection', () => {
    const schema = freshSchemaName();
    const pool = new pg.Pool({
      connectionString: url,
      max: 2,
      query_timeout: 300,
      options: `-c search_path=${schema}`,
    });
    after(async () => {
      await pool.end();
      await dropSchema(schema, url);
    });

    it("runs a query and a COPY that outlast the pool's read timeout, which cuts the same query short on the pool's own client", async () => {
      await pool.query({ text: `CREATE SCHEMA ${schema}`, query_timeout: 5_000 } as pg.QueryConfig);
      const plain = await pool.connect();
      try {
        await assert.rejects(plain.query('SELECT pg_sleep(0.6)'), /Query read timeout/);
      } finally {
        plain.release(true);
      }
      const client = unguarded(await pool.connect());
      try {
        assert.deepEqual((await client.query('SELECT 1 AS ok FROM pg_sleep(0.6)')).rows, [{ ok: 1 }]);
        await client.query('CREATE TABLE slow (x integer)');
        await client.query(
          'CREATE FUNCTION slow_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.6); RETURN NEW; END $$',
        );
        await client.query(
          'CREATE TRIGGER slow BEFORE INSERT ON slow FOR EACH ROW EXECUTE FUNCTION slow_row()',
        );
        await client.copy(new CopyIn('COPY slow (x) FROM STDIN', ['7\n']));
        assert.deepEqual((await client.query('SELECT x FROM slow')).rows, [{ x: 7 }]);
      } finally {
        client.release();
      }
    });
  });
}
