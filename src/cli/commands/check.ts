// `ties check`: an operator's integrity check of the store the store settings name (read-only).
// Exit 0: sound; 1: problems found (listed); 2: usage error.
import { isPostgresUrl } from '../../store/open-store.js';
import { checkPostgres } from '../../store/postgres/postgres-check.js';
import { checkSqliteFile } from '../../store/sqlite/sqlite-check.js';
import { parseStoreCommand, type StoreCommand, usageError } from '../command-line.js';

export const CHECK_COMMAND: StoreCommand = {
  name: 'check',
  usage:
    'Usage: ties check [--db PATH|URL]\n' +
    '  Checks the store without changing it: SQLite integrity_check (every page and index) or that\n' +
    '  every PostgreSQL table answers, and the schema version. Exit 0: sound; 1: problems (listed).\n',
  options: {},
  settings: ['db'],
};

export async function checkCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseStoreCommand(CHECK_COMMAND, argv, process.env);
  if (typeof parsed === 'number') return parsed;
  if (parsed.positionals.length > 0)
    return usageError(CHECK_COMMAND, `unexpected argument "${parsed.positionals[0]}"`);
  const { db } = parsed.store;
  const report = isPostgresUrl(db) ? await checkPostgres(db) : checkSqliteFile(db);
  const out = report.ok ? process.stdout : process.stderr;
  out.write(`${report.lines.map((l) => `ties check: ${l}`).join('\n')}\n`);
  if (!report.ok) process.stderr.write('ties check: problems found\n');
  return report.ok ? 0 : 1;
}
