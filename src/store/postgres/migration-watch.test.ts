// Progress of PostgreSQL migrations (migration-watch.ts): each statement reported, a long one
// looked at from a second connection while it runs, and no statement cut short by the timeouts
// that guard ordinary calls.
import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import pg from 'pg';
import { dropSchema, freshSchemaName, PG_SKIPPED, PG_URL } from '../../../test/support/pg-engine.js';
import type { MigrationProgress } from '../migration-runner.js';
import { migrationProgressPrinter } from '../open-store.js';
import { describeIndexProgress, statementSummary } from './migration-watch.js';
import { migrate } from './migrations.js';

describe('migration watch: words', () => {
  it('summarises a statement without its comments, cut to a line', () => {
    assert.equal(
      statementSummary('-- why\nALTER TABLE relation_stats\n  ADD COLUMN slot smallint NOT NULL DEFAULT 0'),
      'ALTER TABLE relation_stats ADD COLUMN slot smallint NOT NULL DEFAULT 0',
    );
    assert.equal(statementSummary(`SELECT ${'x, '.repeat(40)}1`, 20), 'SELECT x, x, x, x, …');
  });

  it("describes an index build in PostgreSQL's words: phase, blocks or rows done", () => {
    const row = {
      phase: 'building index: scanning table',
      table: 'relation_stats',
      blocks_total: '2700',
      blocks_done: '1234',
      tuples_total: '0',
      tuples_done: '0',
    };
    assert.equal(
      describeIndexProgress(row),
      'on relation_stats: building index: scanning table, 1,234 of 2,700 blocks (45%)',
    );
    assert.equal(
      describeIndexProgress({ ...row, blocks_total: 0, tuples_total: 400, tuples_done: 100 }),
      'on relation_stats: building index: scanning table, 100 of 400 rows (25%)',
    );
    assert.equal(
      describeIndexProgress({ ...row, table: null, blocks_total: 0 }),
      'building index: scanning table',
    );
  });
});

if (!PG_URL) {
  test('PostgreSQL migration watch', { skip: PG_SKIPPED }, () => undefined);
} else {
  const url = PG_URL;
  describe('postgres: migration watch', () => {
    it('reports each statement and a long one as it runs; call timeouts do not cut it short and come back after', async () => {
      const schema = freshSchemaName();
      // The store's connections carry a statement_timeout and a client-side query_timeout.
      const client = new pg.Client({
        connectionString: url,
        options: `-c statement_timeout=300 -c search_path=${schema}`,
        query_timeout: 500,
      });
      await client.connect();
      const opened: pg.Client[] = [];
      try {
        await client.query(`CREATE SCHEMA ${schema}`);
        const seen: MigrationProgress[] = [];
        const lines: string[] = [];
        const printer = migrationProgressPrinter({ write: (t: string) => lines.push(t) }, 0);
        const migration = {
          version: 1,
          name: 'long',
          sql: `CREATE TABLE t (x integer);
                -- longer than both timeouts above
                SELECT pg_sleep(0.8);
                INSERT INTO t SELECT g FROM generate_series(1, 200000) g;
                CREATE INDEX t_x ON t (x)`,
        };
        await migrate(client, {
          migrations: [migration],
          repeatables: [],
          onProgress: (p) => {
            seen.push(p);
            printer(p);
          },
          watch: {
            pollMs: 100,
            open: async () => {
              const c = new pg.Client({ connectionString: url });
              opened.push(c);
              await c.connect();
              return c;
            },
          },
        });
        const steps = seen.map((p) => p.step).filter((s) => s !== undefined);
        assert.equal(steps[0], 'statement 1 of 4 (CREATE TABLE t (x integer))');
        assert.ok(steps.includes('statement 2 of 4 (SELECT pg_sleep(0.8))'));
        assert.ok(
          steps.some((s) => /^statement 2 of 4 \(SELECT pg_sleep\(0\.8\)\): running for \d+ s$/.test(s)),
          `a report while the sleep ran: ${steps.join(' | ')}`,
        );
        assert.ok(steps.includes('statement 4 of 4 (CREATE INDEX t_x ON t (x))'));
        assert.ok(seen.at(-1)!.finished);
        assert.ok(
          lines.some((l) =>
            l.startsWith('ties: migrating the store to schema version 1 (long): statement 2 of 4'),
          ),
        );
        assert.match(lines.at(-1)!, /^ties: migrated the store to schema version 1 \(long\) in \d+\.\d s\n$/);
        // The watch's connection opened for the long statement and is closed again.
        assert.ok(opened.length >= 1);
        for (const c of opened) assert.equal((c as unknown as { _ending: boolean })._ending, true);
        // The session's own timeout is back for whatever the connection serves next.
        assert.deepEqual((await client.query('SHOW statement_timeout')).rows, [
          { statement_timeout: '300ms' },
        ]);
      } finally {
        await client.end();
        await dropSchema(schema, url);
      }
    });

    it('without a listener, runs the statements without a watch', async () => {
      const schema = freshSchemaName();
      const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        await client.query(`CREATE SCHEMA ${schema}`);
        let opened = 0;
        await migrate(client, {
          migrations: [
            { version: 1, name: 'quiet', sql: 'CREATE TABLE t (x integer); SELECT pg_sleep(0.3)' },
          ],
          repeatables: [],
          watch: {
            pollMs: 50,
            open: async () => {
              opened++;
              throw new Error('not wanted');
            },
          },
        });
        assert.equal(opened, 0);
      } finally {
        await client.end();
        await dropSchema(schema, url);
      }
    });
  });
}
