// Versioned schema migrations of the SQLite store, run by the shared migration runner
// (../migration-runner.ts) at open: each in an IMMEDIATE transaction together with its
// bookkeeping, so two processes opening one file apply it once and a failed migration leaves
// nothing behind; a database written by a newer Ties is refused rather than guessed at.
import type BetterSqlite3 from 'better-sqlite3';
import {
  type Migration,
  type MigrationAdapter,
  type MigrationState,
  type ProgressListener,
  type Repeatable,
  type ReportProgress,
  runSync,
} from '../migration-runner.js';
import { INITIAL_SCHEMA } from './migrations/001-initial.js';
import { migrateToStorageV2, STORAGE_V2_SCHEMA } from './migrations/002-storage-v2.js';
import { UNIQUE_EMAIL_SCHEMA } from './migrations/003-unique-email.js';
import { RESOURCE_URL_SCHEMA } from './migrations/004-resource-url.js';
import { SUBSCRIPTION_PRIORITY_SCHEMA } from './migrations/005-subscription-priority.js';
import { CHANGE_LOG_SCHEMA } from './migrations/006-change-log.js';
import { FEED_OUTBOUND_SCHEMA } from './migrations/007-feed-outbound.js';

export { SchemaTooNewError } from '../migration-runner.js';

export interface SqliteMigration extends Migration {
  /** Schema changes, run as one script. */
  readonly sql?: string | undefined;
  /** Data changes after `sql`, in the same transaction; reports progress on large files. */
  readonly data?: ((db: BetterSqlite3.Database, progress: ReportProgress) => void) | undefined;
}

/** Every migration this code knows, in version order. Never edit one that has shipped; add another. */
export const MIGRATIONS: readonly SqliteMigration[] = [
  { version: 1, name: 'initial', sql: INITIAL_SCHEMA },
  { version: 2, name: 'storage v2', sql: STORAGE_V2_SCHEMA, data: migrateToStorageV2 },
  { version: 3, name: 'unique email', sql: UNIQUE_EMAIL_SCHEMA },
  { version: 4, name: 'resource url', sql: RESOURCE_URL_SCHEMA },
  { version: 5, name: 'subscription priority', sql: SUBSCRIPTION_PRIORITY_SCHEMA },
  { version: 6, name: 'change log', sql: CHANGE_LOG_SCHEMA },
  { version: 7, name: 'feed outbound', sql: FEED_OUTBOUND_SCHEMA },
];

/** Repeatable scripts (views, triggers), re-run when their text changes; none yet. */
export const REPEATABLES: readonly Repeatable[] = [];

const BOOKKEEPING = {
  versions: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`,
  repeatables: `CREATE TABLE IF NOT EXISTS schema_repeatables (
    name TEXT PRIMARY KEY,
    checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`,
};

function hasTable(db: BetterSqlite3.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** The schema version of an open database (0 when no migration has run). */
export function schemaVersion(db: BetterSqlite3.Database): number {
  if (!hasTable(db, 'schema_migrations')) return 0;
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/** The runner's view of one better-sqlite3 connection. */
export function sqliteMigrationAdapter(db: BetterSqlite3.Database): MigrationAdapter<SqliteMigration> {
  return {
    state(): MigrationState {
      const checksums = new Map<string, string>();
      if (hasTable(db, 'schema_repeatables')) {
        const rows = db.prepare('SELECT name, checksum FROM schema_repeatables').all() as {
          name: string;
          checksum: string;
        }[];
        for (const row of rows) checksums.set(row.name, row.checksum);
      }
      return { version: schemaVersion(db), checksums };
    },
    // IMMEDIATE transactions take the write lock before reading the version: a second process
    // waits (busy timeout), then sees what the first applied. Nothing more to lock.
    lock() {},
    unlock() {},
    begin() {
      db.exec('BEGIN IMMEDIATE');
    },
    commit() {
      db.exec('COMMIT');
    },
    rollback() {
      if (db.inTransaction) db.exec('ROLLBACK');
    },
    prepareBookkeeping(of) {
      db.exec(BOOKKEEPING[of]);
    },
    apply(migration, progress) {
      if (migration.sql) db.exec(migration.sql);
      migration.data?.(db, progress);
    },
    record(migration, appliedAt) {
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        appliedAt,
      );
    },
    applyRepeatable(repeatable) {
      db.exec(repeatable.sql);
    },
    recordRepeatable(repeatable, checksum, appliedAt) {
      db.prepare(
        `INSERT INTO schema_repeatables (name, checksum, applied_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET checksum = excluded.checksum, applied_at = excluded.applied_at`,
      ).run(repeatable.name, checksum, appliedAt);
    },
  };
}

/**
 * Brings the schema up to the newest known version; answers the versions applied (none when up to
 * date). Throws SchemaTooNewError when the database is ahead of `migrations`.
 */
export function migrate(
  db: BetterSqlite3.Database,
  migrations: readonly SqliteMigration[] = MIGRATIONS,
  now: () => string = () => new Date().toISOString(),
  onProgress?: ProgressListener,
): number[] {
  const result = runSync(sqliteMigrationAdapter(db), {
    migrations,
    repeatables: REPEATABLES,
    now,
    onProgress,
  });
  return [...result.applied];
}
