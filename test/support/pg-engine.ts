// The PostgreSQL test engine: each store gets a fresh schema of its own in the database named by
// TIES_TEST_PG_URL, dropped at cleanup. Probed once when imported: a URL that is set but
// unreachable, or TIES_TEST_PG_REQUIRED=1 without a URL, fails loudly (CI never passes by skipping).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { giveBackSchema, rememberFreshSchema, takeSpareSchema } from './pg-schema-pool.js';

export const PG_URL: string | undefined = process.env.TIES_TEST_PG_URL || undefined;
export const PG_REQUIRED = process.env.TIES_TEST_PG_REQUIRED === '1';
export const PG_SKIPPED =
  'PostgreSQL tests skipped: TIES_TEST_PG_URL is not set ' +
  '(e.g. TIES_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres; .ci/run sets it)';

const SCHEMA_PREFIX = 'ties_test_';
const silent = { warn() {}, error() {} };

/** One small admin pool per server (plain PostgreSQL, the Citus coordinator). */
const admins = new Map<string, pg.Pool>();
function adminPool(url: string): pg.Pool {
  let admin = admins.get(url);
  if (!admin) {
    admin = new pg.Pool({
      connectionString: url,
      max: 2,
      allowExitOnIdle: true,
      connectionTimeoutMillis: 5_000,
    });
    admin.on('error', () => undefined);
    admins.set(url, admin);
  }
  return admin;
}

let schemas = 0;
/** A schema name no other test (of this or another process) uses: prefix, pid, counter, random. */
export function freshSchemaName(): string {
  return `${SCHEMA_PREFIX}${process.pid}_${++schemas}_${randomBytes(3).toString('hex')}`;
}

export async function dropSchema(schema: string, url: string = PG_URL!): Promise<void> {
  await adminPool(url).query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Connects once; drops test schemas left behind by test processes that died before cleanup.
 * `variable` names the setting that gave the URL, for the error.
 */
export async function probeTestDatabase(url: string, variable = 'TIES_TEST_PG_URL'): Promise<void> {
  let found: string[];
  try {
    const { rows } = await adminPool(url).query<{ nspname: string }>(
      `SELECT nspname FROM pg_namespace WHERE nspname LIKE '${SCHEMA_PREFIX}%'`,
    );
    found = rows.map((r) => r.nspname);
  } catch (err) {
    throw new Error(
      `${variable} is set (${url}) but PostgreSQL cannot be reached: ${(err as Error).message}. ` +
        `Start it, or unset ${variable} to run without it (CI requires it).`,
    );
  }
  for (const schema of found) {
    const pid = Number(schema.slice(SCHEMA_PREFIX.length).split('_')[0]);
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) await dropSchema(schema, url).catch(() => undefined);
  }
}

if (PG_URL) await probeTestDatabase(PG_URL);
else if (PG_REQUIRED) {
  throw new Error(
    'TIES_TEST_PG_REQUIRED=1 but TIES_TEST_PG_URL is not set: CI must run the PostgreSQL tests',
  );
}

export interface PgTestStore {
  readonly store: PostgresStore;
  readonly schema: string;
  cleanup(): Promise<void>;
}

/**
 * A fresh store in a schema of its own; cleanup closes it and drops the schema. Without an explicit
 * `schema`, the schema may be one an earlier test of this process used, reset to exactly its fresh
 * state and checked (pg-schema-pool.ts); cleanup then keeps it for the next store instead of
 * dropping it. A test that names its schema always gets it made and dropped as asked.
 */
export async function openPgTestStore(
  options: {
    poolMax?: number;
    url?: string;
    schema?: string;
    connectTimeoutMs?: number;
    changeFeed?: boolean;
  } = {},
): Promise<PgTestStore> {
  const url = options.url ?? PG_URL;
  if (!url) throw new Error(PG_SKIPPED);
  const reusable = options.schema === undefined;
  const spare = reusable ? takeSpareSchema(url) : undefined;
  const schema = options.schema ?? spare ?? freshSchemaName();
  let store: PostgresStore;
  try {
    store = await openPostgresStore({
      url,
      schema,
      poolMax: options.poolMax ?? 2,
      connectTimeoutMs: options.connectTimeoutMs,
      changeFeed: options.changeFeed,
      logger: silent,
    });
    // Without a record of its fresh state the schema is simply dropped at cleanup.
    if (reusable && !spare) await rememberFreshSchema(adminPool(url), schema).catch(() => undefined);
  } catch (err) {
    if (spare) await dropSchema(spare, url).catch(() => undefined);
    throw err;
  }
  return {
    store,
    schema,
    async cleanup() {
      await store.close();
      if (reusable && (await giveBackSchema(adminPool(url), url, schema, dropSchema))) return;
      await dropSchema(schema, url);
    },
  };
}
