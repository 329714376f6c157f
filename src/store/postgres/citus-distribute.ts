// Distribution on Citus as part of the migrations: when the database Ties connects to has the
// citus extension, every table of citus-layout.ts that is not distributed yet becomes a reference
// table or a distributed table colocated with profiles. Idempotent (a distributed table is left
// alone), so it runs after every migration: a fresh schema is distributed once it is made, a
// schema made on plain PostgreSQL and then moved to Citus is distributed (its rows are copied to
// the shards) at the next start, and a table a later migration adds is distributed as soon as it
// is listed in citus-layout.ts (citus-rules.test.ts makes sure it is).
import type pg from 'pg';
import { DISTRIBUTED_TABLES, REFERENCE_TABLES } from './citus-layout.js';

/** The citus extension's version in the connection's database, or undefined without it. */
export async function citusVersion(client: pg.ClientBase): Promise<string | undefined> {
  const { rows } = await client.query<{ v: string }>(
    "SELECT extversion AS v FROM pg_extension WHERE extname = 'citus'",
  );
  return rows[0]?.v;
}

/**
 * Distributes what is not distributed yet in the connection's current schema; answers the tables
 * it distributed (none on plain PostgreSQL). Each create_*_table call is its own transaction (Citus
 * moves the table's rows to the shards in it); the caller holds the migration lock.
 */
export async function distributeOnCitus(client: pg.ClientBase): Promise<string[]> {
  if ((await citusVersion(client)) === undefined) return [];
  const { rows } = await client.query<{ name: string; distributed: boolean }>(
    `SELECT c.relname AS name,
            EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid) AS distributed
       FROM pg_class c
      WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')`,
  );
  const present = new Map(rows.map((r) => [r.name, r.distributed]));
  const { rows: schemaRows } = await client.query<{ s: string }>('SELECT current_schema() AS s');
  const qualified = (table: string) => `${schemaRows[0]!.s}.${table}`;
  const done: string[] = [];
  for (const table of REFERENCE_TABLES) {
    if (present.get(table) !== false) continue;
    await client.query('SELECT create_reference_table($1::regclass)', [qualified(table)]);
    done.push(table);
  }
  // profiles first: every other distributed table is colocated with it, so that a profile's
  // relations, aggregates and subscriptions live on the profile's shard.
  for (const [table, column] of Object.entries(DISTRIBUTED_TABLES)) {
    if (present.get(table) !== false) continue;
    if (table === 'profiles') {
      await client.query('SELECT create_distributed_table($1::regclass, $2)', [qualified(table), column]);
    } else {
      await client.query('SELECT create_distributed_table($1::regclass, $2, colocate_with => $3)', [
        qualified(table),
        column,
        qualified('profiles'),
      ]);
    }
    done.push(table);
  }
  return done;
}
