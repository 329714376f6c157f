// `ties check` on PostgreSQL: the connection, the schema and its version, and that every table of
// the schema can be read. Changes nothing (no schema is created, nothing migrated).
import type { CheckReport } from '../check-report.js';
import { newestVersion } from '../migration-runner.js';
import { MIGRATIONS, schemaVersion } from './migrations.js';
import { pgDriver } from './pg-driver.js';

/** The URL as it may be shown: without its password. */
function shown(url: URL): string {
  const copy = new URL(url);
  if (copy.password) copy.password = '***';
  return copy.toString();
}

export async function checkPostgres(rawUrl: string): Promise<CheckReport> {
  const url = new URL(rawUrl);
  const schema = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  const where = shown(new URL(rawUrl));
  const client = new pgDriver.Client({ connectionString: url.toString(), connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (err) {
    return { ok: false, lines: [`${where}: cannot connect: ${(err as Error).message}`] };
  }
  try {
    if (schema !== undefined) {
      const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (found.rowCount === 0) return { ok: false, lines: [`${where}: no schema "${schema}"`] };
      await client.query(`SELECT set_config('search_path', $1, false)`, [schema]);
    }
    const current = (await client.query<{ s: string | null }>('SELECT current_schema() AS s')).rows[0]?.s;
    const version = await schemaVersion(client);
    const known = newestVersion(MIGRATIONS);
    if (version === 0) {
      return { ok: false, lines: [`${where}: schema "${current}" is not a Ties store (no migrations)`] };
    }
    const tables = await client.query<{ t: string }>(
      'SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1',
    );
    const unreadable: string[] = [];
    for (const { t } of tables.rows) {
      try {
        await client.query(`SELECT 1 FROM ${client.escapeIdentifier(t)} LIMIT 1`);
      } catch (err) {
        unreadable.push(`  ${t}: ${(err as Error).message}`);
      }
    }
    const lines = [`${where}: schema "${current}", ${tables.rowCount} tables`];
    if (unreadable.length > 0)
      return { ok: false, lines: [...lines, 'tables that cannot be read:', ...unreadable] };
    if (version > known) {
      return {
        ok: false,
        lines: [...lines, `schema version ${version} is newer than this Ties knows (${known}): upgrade Ties`],
      };
    }
    lines.push(
      version === known
        ? `schema version ${version} (current); every table answers`
        : `schema version ${version}; the next start migrates it to ${known} (${MIGRATIONS.filter(
            (m) => m.version > version,
          )
            .map((m) => `${m.version} ${m.name}`)
            .join(', ')}), printing its progress as it goes`,
    );
    return { ok: true, lines };
  } catch (err) {
    return { ok: false, lines: [`${where}: check failed: ${(err as Error).message}`] };
  } finally {
    await client.end().catch(() => undefined);
  }
}
