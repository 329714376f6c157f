// The Citus test engine: the PostgreSQL store on the coordinator of a local Citus cluster
// (scripts/citus-cluster.sh; .ci/run starts it), each store in a fresh schema of its own, dropped
// at cleanup, as pg-engine.ts does on plain PostgreSQL. Probed once when imported: a URL that is
// set but unreachable or without the citus extension, or TIES_TEST_CITUS_REQUIRED=1 without a URL,
// fails loudly (CI never passes by skipping Citus).
import pg from 'pg';
import { openPgTestStore, type PgTestStore, probeTestDatabase } from './pg-engine.js';

export const CITUS_URL: string | undefined = process.env.TIES_TEST_CITUS_URL || undefined;
export const CITUS_REQUIRED = process.env.TIES_TEST_CITUS_REQUIRED === '1';
export const CITUS_SKIPPED =
  'Citus tests skipped: TIES_TEST_CITUS_URL is not set (start a local cluster with ' +
  '`bash scripts/citus-cluster.sh up` and set TIES_TEST_CITUS_URL=postgres://postgres@127.0.0.1:19501/ties; ' +
  '.ci/run does both)';

async function requireCitus(url: string): Promise<void> {
  await probeTestDatabase(url, 'TIES_TEST_CITUS_URL');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ workers: string }>(
      'SELECT count(*) AS workers FROM pg_dist_node WHERE groupid <> 0 AND isactive',
    );
    if (Number(rows[0]?.workers ?? 0) < 1) throw new Error('no active worker');
  } catch (err) {
    throw new Error(
      `TIES_TEST_CITUS_URL (${url}) is not a Citus coordinator with workers: ${(err as Error).message}`,
    );
  } finally {
    await client.end();
  }
}

if (CITUS_URL) await requireCitus(CITUS_URL);
else if (CITUS_REQUIRED) {
  throw new Error(
    'TIES_TEST_CITUS_REQUIRED=1 but TIES_TEST_CITUS_URL is not set: CI must run the Citus tests',
  );
}

/**
 * A fresh store in a schema of its own on the coordinator; cleanup closes it and drops the schema.
 * A call on Citus is several round trips to the workers: on a loaded 2-core test machine, 200
 * concurrent calls queued on a 2-connection pool can wait longer than the default 5 s for a
 * connection, which the store reports as unreachable. Tests wait up to 60 s instead.
 */
export function openCitusTestStore(
  options: { poolMax?: number; schema?: string } = {},
): Promise<PgTestStore> {
  if (!CITUS_URL) throw new Error(CITUS_SKIPPED);
  return openPgTestStore({ connectTimeoutMs: 60_000, ...options, url: CITUS_URL });
}
