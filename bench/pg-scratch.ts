// Scratch PostgreSQL databases for the bench scripts that need a database of their own per run
// (a fresh one per import, copied from a template holding the workspace): made and dropped through
// the server's admin URL. Only the scripts' own databases are ever dropped (the names they pass).
import pg from 'pg';

/** Runs `run` on a client of `url`, closed afterwards. */
/** The local PostgreSQL's admin URL, every PostgreSQL bench script's default for --pg-url. */
export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export async function pgAdmin<T>(url: string, run: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** The URL of database `name` on the server of `adminUrl`. */
export function pgDbUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A fresh database `name` (dropped first if a killed run left it), empty or a copy of `template`,
 * with PL/pgSQL function timings on (pg_stat_user_functions) for this database only.
 */
export async function freshPgDb(adminUrl: string, name: string, template?: string): Promise<string> {
  await pgAdmin(adminUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
    await c.query(`ALTER DATABASE ${name} SET track_functions = 'pl'`);
  });
  return pgDbUrl(adminUrl, name);
}

/** Drops the scratch databases a run made. */
export async function dropPgDbs(adminUrl: string, names: readonly string[]): Promise<void> {
  await pgAdmin(adminUrl, async (c) => {
    for (const name of names) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}
