// `ties backup --db FILE --to FILE` and `ties restore --from FILE --db FILE`: an online, consistent
// copy of a SQLite store (SQLite's backup API, while the server keeps running), and putting one
// back. PostgreSQL has its own tools for this, which the refusal names.
import { existsSync, statSync } from 'node:fs';
import { groupDigits } from '../../group-digits.js';
import { isPostgresUrl } from '../../store/open-store.js';
import { backupSqliteFile, restoreSqliteFile, sqliteStoreHasData } from '../../store/sqlite/sqlite-backup.js';
import { parseStoreCommand, type StoreCommand, usageError } from '../command-line.js';
import { progressBar } from '../progress-bar.js';

export const BACKUP_COMMAND: StoreCommand = {
  name: 'backup',
  usage:
    'Usage: ties backup --db FILE --to FILE [--force]\n' +
    '  Copies a SQLite store, online (the server keeps running and writing), as one consistent\n' +
    "  snapshot: SQLite's backup API, with progress. --force replaces an existing FILE.\n" +
    '  PostgreSQL: use pg_dump or base backups (the refusal says how).\n',
  options: { to: { type: 'string' }, force: { type: 'boolean' } },
  settings: ['db'],
};

export const RESTORE_COMMAND: StoreCommand = {
  name: 'restore',
  usage:
    'Usage: ties restore --from BACKUP --db FILE [--force]\n' +
    '  Checks BACKUP (integrity, schema version), then puts it in place of the store FILE. Stop the\n' +
    '  server first. A FILE holding data is replaced only with --force.\n',
  options: { from: { type: 'string' }, force: { type: 'boolean' } },
  settings: ['db'],
};

/** What to use instead of `ties backup` on PostgreSQL. */
export const POSTGRES_BACKUP_ADVICE = `ties backup copies SQLite files; a PostgreSQL store is backed up with PostgreSQL's tools:
  pg_dump -Fc -f ties.dump 'postgres://…/ties'     a consistent logical dump, online (restore: pg_restore)
  pg_basebackup + WAL archiving                   physical backups with point-in-time recovery
or, as a Ties-level copy into a SQLite file:  ties copy --from 'postgres://…' --to ./ties-copy.db
`;

export async function backupCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseStoreCommand(BACKUP_COMMAND, argv, process.env);
  if (typeof parsed === 'number') return parsed;
  const { to, force } = parsed.values as { to?: string; force?: boolean };
  if (parsed.positionals.length > 0)
    return usageError(BACKUP_COMMAND, `unexpected argument "${parsed.positionals[0]}"`);
  const { db } = parsed.store;
  if (isPostgresUrl(db)) {
    process.stderr.write(`ties backup: ${POSTGRES_BACKUP_ADVICE}`);
    return 2;
  }
  if (!to) return usageError(BACKUP_COMMAND, '--to: expected the backup file to write');
  if (!existsSync(db)) return usageError(BACKUP_COMMAND, `--db: ${db}: no such SQLite store`);
  if (existsSync(to) && !force) {
    return usageError(BACKUP_COMMAND, `--to: ${to} exists; pass --force to replace it`);
  }
  const progress = progressBar(process.stderr, { label: 'backing up', unit: 'pages' });
  try {
    const started = performance.now();
    const result = await backupSqliteFile(db, to, (p) =>
      progress.update(
        p.totalPages - p.remainingPages,
        p.totalPages > 0 ? 1 - p.remainingPages / p.totalPages : 0,
      ),
    );
    progress.finish(result.totalPages);
    process.stdout.write(
      `Backed up ${db} to ${to}: ${groupDigits(result.totalPages)} pages ` +
        `(${(statSync(to).size / 1_048_576).toFixed(1)} MiB) in ${((performance.now() - started) / 1000).toFixed(1)} s, ` +
        'one consistent snapshot. Check it with: ties check --db ' +
        `${to}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`\nties backup: ${(err as Error).message}\n`);
    return 1;
  }
}

export async function restoreCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseStoreCommand(RESTORE_COMMAND, argv, process.env);
  if (typeof parsed === 'number') return parsed;
  const { from, force } = parsed.values as { from?: string; force?: boolean };
  if (parsed.positionals.length > 0)
    return usageError(RESTORE_COMMAND, `unexpected argument "${parsed.positionals[0]}"`);
  const { db } = parsed.store;
  if (isPostgresUrl(db)) {
    process.stderr.write(
      'ties restore: puts a SQLite backup in place of a SQLite store; for PostgreSQL use pg_restore,\n' +
        "or copy a SQLite backup into it: ties copy --from BACKUP.db --to 'postgres://…'\n",
    );
    return 2;
  }
  if (!from) return usageError(RESTORE_COMMAND, '--from: expected the backup file to restore');
  if (!existsSync(from)) return usageError(RESTORE_COMMAND, `--from: ${from}: no such file`);
  if (sqliteStoreHasData(db) && !force) {
    return usageError(RESTORE_COMMAND, `--db: ${db} holds data; pass --force to replace it with ${from}`);
  }
  const progress = progressBar(process.stderr, { label: 'restoring', unit: 'pages' });
  let pages = 0;
  try {
    const report = await restoreSqliteFile(from, db, (p) => {
      pages = p.totalPages;
      progress.update(
        p.totalPages - p.remainingPages,
        p.totalPages > 0 ? 1 - p.remainingPages / p.totalPages : 0,
      );
    });
    if (!report.ok) {
      process.stderr.write(
        `${report.lines.map((l) => `ties restore: ${l}`).join('\n')}\nties restore: nothing restored\n`,
      );
      return 1;
    }
    progress.finish(pages);
    process.stdout.write(`Restored ${from} to ${db} (${report.lines.join('; ')})\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`\nties restore: ${(err as Error).message}\n`);
    return 1;
  }
}
