// Schema migrations of the PostgreSQL store, run by the shared migration runner
// (../migration-runner.ts): the versioned sql/migrations/*.sql in order, then the function files
// sql/functions/*.sql whose text changed, all under a session advisory lock (several servers may
// start at once), each migration in one transaction with its bookkeeping. A schema written by a
// newer Ties is refused before anything is written.
import type pg from 'pg';
import {
  type Migration,
  type MigrationAdapter,
  type MigrationResult,
  type ProgressListener,
  type Repeatable,
  type ReportProgress,
  runAsync,
} from '../migration-runner.js';
import { citusVersion, distributeOnCitus } from './citus-distribute.js';
import { runWatched, type WatchOptions } from './migration-watch.js';
import { FUNCTION_FILES, MIGRATION_FILES, type SqlFile } from './sql-files.generated.js';
import { splitSqlStatements } from './sql-split.js';
import { unguardedQuery } from './unguarded-query.js';

export { SchemaTooNewError } from '../migration-runner.js';

export interface PostgresMigration extends Migration {
  /** Schema changes, sent one statement at a time (see sql-split.ts for why). */
  readonly sql?: string | undefined;
  /** Data changes after `sql`, in the same transaction; reports progress on large stores. */
  readonly data?: ((client: pg.ClientBase, progress: ReportProgress) => Promise<void>) | undefined;
}

/** `migrations/001-initial.sql` → version 1, name "initial". */
function versioned(file: SqlFile): PostgresMigration {
  const match = /^migrations\/(\d+)-([a-z0-9-]+)\.sql$/.exec(file.file);
  if (!match) throw new Error(`postgres migrations: ${file.file} is not named NNN-name.sql`);
  return { version: Number(match[1]), name: match[2]!.replaceAll('-', ' '), sql: file.sql };
}

/** Every migration this code knows, in version order. Never edit one that has shipped; add another. */
export const MIGRATIONS: readonly PostgresMigration[] = MIGRATION_FILES.map(versioned);

/** The function files, named by their path under sql/ (the name their checksum is recorded under). */
export const REPEATABLES: readonly Repeatable[] = FUNCTION_FILES.map((f) => ({ name: f.file, sql: f.sql }));

/** Session advisory lock key of the migrations of the current schema. */
const LOCK = "hashtext('ties.migrate/' || current_schema())";

const BOOKKEEPING = {
  versions: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at text NOT NULL
  )`,
  repeatables: `CREATE TABLE IF NOT EXISTS schema_repeatables (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at text NOT NULL
  )`,
};

/** Names of the routines a script creates (CREATE [OR REPLACE] FUNCTION|AGGREGATE|PROCEDURE name). */
export function routinesCreatedBy(sql: string): string[] {
  const names = new Set<string>();
  for (const m of sql.matchAll(
    /^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|AGGREGATE|PROCEDURE)\s+(\w+)/gim,
  ))
    names.add(m[1]!.toLowerCase());
  return [...names];
}

/** The runner's view of one connection whose search_path is the schema to migrate. */
export function postgresMigrationAdapter(
  client: pg.ClientBase,
  watch?: WatchOptions,
): MigrationAdapter<PostgresMigration> {
  // A migration statement may outlast a call's timeouts: migrate() lifts statement_timeout for its
  // session, and each statement here runs without the client-side one.
  const long = (text: string): Promise<unknown> => unguardedQuery(client, text);
  return {
    async state() {
      const { rows } = await client.query<{ m: string | null; r: string | null }>(
        "SELECT to_regclass('schema_migrations')::text AS m, to_regclass('schema_repeatables')::text AS r",
      );
      let version = 0;
      const checksums = new Map<string, string>();
      if (rows[0]?.m) {
        const v = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
        version = v.rows[0]?.v ?? 0;
      }
      if (rows[0]?.r) {
        const r = await client.query<{ name: string; checksum: string }>(
          'SELECT name, checksum FROM schema_repeatables',
        );
        for (const row of r.rows) checksums.set(row.name, row.checksum);
      }
      return { version, checksums };
    },
    // A session lock, released even if this process dies: a second server starting at the same
    // time waits here, then finds what the first one applied and skips it.
    async lock() {
      // Waits as long as another server's migration takes.
      await long(`SELECT pg_advisory_lock(${LOCK})`);
    },
    async unlock() {
      await client.query(`SELECT pg_advisory_unlock(${LOCK})`).catch(() => undefined);
    },
    // On Citus, DDL on a distributed table runs over one connection per shard in parallel, and a
    // later statement of the same transaction that changes a type (ALTER TYPE) or another object
    // Citus propagates is then refused; sequential mode runs it all over one connection per
    // worker. On plain PostgreSQL the setting is an inert placeholder.
    async begin() {
      await client.query('BEGIN');
      await client.query("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'");
    },
    async commit() {
      await client.query('COMMIT');
    },
    async rollback() {
      await client.query('ROLLBACK').catch(() => undefined);
    },
    async prepareBookkeeping(of) {
      await client.query(BOOKKEEPING[of]);
    },
    async apply(migration, progress) {
      await runWatched(client, splitSqlStatements(migration.sql ?? ''), progress, watch, long);
      await migration.data?.(client, progress);
    },
    async record(migration, appliedAt) {
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        appliedAt,
      ]);
    },
    // A function file may change a function's arguments or result, which CREATE OR REPLACE cannot
    // do: every routine of the names it creates is dropped first (in this transaction, so other
    // sessions see the old definitions until COMMIT, then the new ones). Without CASCADE: an
    // unexpected dependent fails the migration instead of disappearing.
    async applyRepeatable(repeatable) {
      const { rows } = await client.query<{ sig: string }>(
        `SELECT p.oid::regprocedure::text AS sig FROM pg_proc p
          WHERE p.pronamespace = current_schema()::regnamespace AND p.proname = ANY ($1)`,
        [routinesCreatedBy(repeatable.sql)],
      );
      if (rows.length > 0) await client.query(`DROP ROUTINE ${rows.map((r) => r.sig).join(', ')}`);
      for (const statement of splitSqlStatements(repeatable.sql)) await long(statement);
    },
    async recordRepeatable(repeatable, checksum, appliedAt) {
      await client.query(
        `INSERT INTO schema_repeatables (name, checksum, applied_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = EXCLUDED.applied_at`,
        [repeatable.name, checksum, appliedAt],
      );
    },
  };
}

/** The schema version in the connection's current schema (0 when no migration has run). */
export async function schemaVersion(client: pg.ClientBase): Promise<number> {
  return (await postgresMigrationAdapter(client).state()).version;
}

export interface MigrateOptions {
  readonly migrations?: readonly PostgresMigration[] | undefined;
  readonly repeatables?: readonly Repeatable[] | undefined;
  readonly now?: (() => string) | undefined;
  readonly onProgress?: ProgressListener | undefined;
  /** How a long statement is looked at while it runs (migration-watch.ts); without it, per statement only. */
  readonly watch?: WatchOptions | undefined;
}

/**
 * Brings the schema up to date: versioned migrations, then changed function files. The caller's
 * connection must have its search_path set to the schema to migrate. Throws SchemaTooNewError
 * when the schema is ahead of this code.
 */
export async function migrate(client: pg.ClientBase, options: MigrateOptions = {}): Promise<MigrationResult> {
  const adapter = postgresMigrationAdapter(client, options.onProgress ? options.watch : undefined);
  // For this session only; RESET gives the connection back its own setting (a pool's -c option).
  // A failing RESET means a broken connection, which the caller then drops.
  await client.query('SET statement_timeout = 0');
  try {
    const result = await runAsync(adapter, {
      migrations: options.migrations ?? MIGRATIONS,
      repeatables: options.repeatables ?? REPEATABLES,
      now: options.now,
      onProgress: options.onProgress,
    });
    // On Citus, the tables the layout distributes and that are not distributed yet (see
    // citus-distribute.ts); under the migration lock, so that servers starting together do it once.
    if ((await citusVersion(client)) !== undefined) {
      await adapter.lock();
      try {
        await distributeOnCitus(client);
      } finally {
        await adapter.unlock();
      }
    }
    return result;
  } finally {
    await client.query('RESET statement_timeout').catch(() => undefined);
  }
}
