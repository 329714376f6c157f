// Versioned schema migrations of the PostgreSQL store: applied in order at start under an advisory
// lock (several servers may start at once), each in its own transaction; a schema written by a
// newer Ties is refused rather than guessed at.
import type pg from 'pg';
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
        'upgrade Ties (or point it at a copy made before the upgrade)',
    );
    this.name = 'SchemaTooNewError';
  }
}

/** Session advisory lock key of the migrations of the current schema. */
const LOCK = "hashtext('ties.migrate/' || current_schema())";

/** The schema version in the connection's current schema (0 when no migration has run). */
export async function schemaVersion(client: pg.ClientBase): Promise<number> {
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('schema_migrations') AS t");
  if (!exists.rows[0]?.t) return 0;
  const { rows } = await client.query<{ v: number | null }>(
    'SELECT max(version) AS v FROM schema_migrations',
  );
  return rows[0]?.v ?? 0;
}

/**
 * Brings the schema up to the newest known version; answers the versions applied (none when up to
 * date). Throws SchemaTooNewError when the schema is ahead of `migrations`. The caller's
 * connection must have its search_path set to the schema to migrate.
 */
export async function migrate(
  client: pg.ClientBase,
  migrations: readonly Migration[] = MIGRATIONS,
  now: () => string = () => new Date().toISOString(),
): Promise<number[]> {
  const known = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  // Checked before any write or lock, so that a newer schema is refused without touching it.
  const found = await schemaVersion(client);
  if (found > known) throw new SchemaTooNewError(found, known);
  if (found === known) return [];

  // A session lock, released even if this process dies: a second server starting at the same
  // time waits here, then finds the versions the first one applied and skips them.
  await client.query(`SELECT pg_advisory_lock(${LOCK})`);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at text NOT NULL
    )`);
    const applied: number[] = [];
    for (const migration of [...migrations].sort((x, y) => x.version - y.version)) {
      await client.query('BEGIN');
      try {
        const version = await schemaVersion(client);
        if (version > known) throw new SchemaTooNewError(version, known);
        if (migration.version <= version) {
          await client.query('ROLLBACK');
          continue;
        }
        // One simple-protocol query for the whole script: one round trip however long it is.
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          migration.version,
          migration.name,
          now(),
        ]);
        await client.query('COMMIT');
        applied.push(migration.version);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
    return applied;
  } finally {
    await client.query(`SELECT pg_advisory_unlock(${LOCK})`).catch(() => undefined);
  }
}
