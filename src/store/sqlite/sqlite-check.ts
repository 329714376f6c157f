// `ties check` on a SQLite file: SQLite's own integrity check, then Ties' schema version. Opens the
// file read-only and never creates, migrates or repairs anything.
import { existsSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import type { CheckReport } from '../check-report.js';
import { newestVersion } from '../migration-runner.js';
import { MIGRATIONS, schemaVersion } from './migrations.js';

/** Problems listed at most; a badly damaged file can have thousands. */
const MAX_PROBLEMS = 20;

export function checkSqliteFile(path: string): CheckReport {
  if (!existsSync(path)) return { ok: false, lines: [`${path}: no such file`] };
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    return { ok: false, lines: [`${path}: cannot open: ${(err as Error).message}`] };
  }
  try {
    const problems = db.pragma(`integrity_check(${MAX_PROBLEMS})`, { simple: false }) as {
      integrity_check: string;
    }[];
    const found = problems.map((p) => p.integrity_check).filter((p) => p !== 'ok');
    if (found.length > 0) {
      return {
        ok: false,
        lines: [
          `${path}: integrity check FAILED (${found.length}${found.length === MAX_PROBLEMS ? '+' : ''} problems):`,
          ...found.map((p) => `  ${p}`),
          'Restore the file from a backup; do not keep writing to it.',
        ],
      };
    }
    const pages = db.pragma('page_count', { simple: true }) as number;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const size = `${pages} pages, ${((pages * pageSize) / 1_048_576).toFixed(1)} MiB`;
    const version = schemaVersion(db);
    const known = newestVersion(MIGRATIONS);
    const lines = [`${path}: integrity check passed (${size})`];
    if (version === 0) {
      return { ok: false, lines: [...lines, `${path}: not a Ties store (no schema_migrations table)`] };
    }
    if (version > known) {
      return {
        ok: false,
        lines: [...lines, `schema version ${version} is newer than this Ties knows (${known}): upgrade Ties`],
      };
    }
    lines.push(
      version === known
        ? `schema version ${version} (current)`
        : `schema version ${version}; the next start migrates it to ${known}`,
    );
    return { ok: true, lines };
  } catch (err) {
    // SQLITE_NOTADB and SQLITE_CORRUPT surface here when even the header cannot be read.
    const code = err instanceof BetterSqlite3.SqliteError ? ` (${err.code})` : '';
    return { ok: false, lines: [`${path}: integrity check FAILED: ${(err as Error).message}${code}`] };
  } finally {
    db.close();
  }
}
