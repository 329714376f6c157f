// Versioned schema migrations of the SQLite store: pending ones are applied in order at open, each
// in its own transaction; a database written by a newer Ties is refused rather than guessed at.
import type BetterSqlite3 from 'better-sqlite3';
import { INITIAL_SCHEMA } from './migrations/001-initial.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Every migration this code knows, in version order. Never edit one that has shipped; add another. */
export const MIGRATIONS: readonly Migration[] = [{ version: 1, name: 'initial', sql: INITIAL_SCHEMA }];

export class SchemaTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `the database's schema version is ${found}, newer than the ${known} this version of Ties knows; ` +
        'upgrade Ties (or open a copy made before the upgrade)',
    );
    this.name = 'SchemaTooNewError';
  }
}

function currentVersion(db: BetterSqlite3.Database): number {
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/** The schema version of an open database (0 when no migration has run). */
export function schemaVersion(db: BetterSqlite3.Database): number {
  const exists = db
    .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  return exists ? currentVersion(db) : 0;
}

/**
 * Brings the schema up to the newest known version; answers the versions applied (none when up to
 * date). Throws SchemaTooNewError when the database is ahead of `migrations`.
 */
export function migrate(
  db: BetterSqlite3.Database,
  migrations: readonly Migration[] = MIGRATIONS,
  now: () => string = () => new Date().toISOString(),
): number[] {
  const known = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  // Checked before any write so that a read-only or newer database is refused without touching it.
  const found = schemaVersion(db);
  if (found > known) throw new SchemaTooNewError(found, known);
  if (found === known) return [];

  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const applied: number[] = [];
  for (const migration of [...migrations].sort((x, y) => x.version - y.version)) {
    // IMMEDIATE takes the write lock first, so two processes opening the same file at once cannot
    // both apply a migration: the second sees the first one's row and skips it.
    const apply = db.transaction(() => {
      const version = currentVersion(db);
      if (version > known) throw new SchemaTooNewError(version, known);
      if (migration.version <= version) return false;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, now());
      return true;
    });
    if (apply.immediate()) applied.push(migration.version);
  }
  return applied;
}
