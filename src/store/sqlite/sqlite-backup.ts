// Online backup and restore of a SQLite store through SQLite's backup API (better-sqlite3's
// db.backup). The source connection holds one read transaction for the whole backup, so in WAL
// mode every step copies pages of the same snapshot: the backup is that moment's store, however
// much a running server writes meanwhile, and writes never make it start over.
import { existsSync, renameSync, rmSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import type { CheckReport } from '../check-report.js';
import { checkSqliteFile } from './sqlite-check.js';

export interface BackupProgress {
  readonly totalPages: number;
  readonly remainingPages: number;
}

/** Pages copied per step: ~16 MiB at 4 KiB pages, a progress report every few tens of milliseconds. */
const PAGES_PER_STEP = 4096;

/** Copies the store at `source` into a new file `dest` (replaced when it exists). */
export async function backupSqliteFile(
  source: string,
  dest: string,
  onProgress?: (p: BackupProgress) => void,
): Promise<BackupProgress> {
  if (!existsSync(source)) throw new Error(`${source}: no such SQLite store`);
  const db = new BetterSqlite3(source, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    // The snapshot: a read transaction started by a first read, held until the last page.
    db.exec('BEGIN');
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
    const tmp = `${dest}.partial`;
    rmSync(tmp, { force: true });
    const result = await db.backup(tmp, {
      progress: (p) => {
        onProgress?.(p);
        return PAGES_PER_STEP;
      },
    });
    db.exec('COMMIT');
    // A file in WAL mode carries the mode in its header: the copy opens as the original did.
    for (const suffix of ['-wal', '-shm', '']) rmSync(`${dest}${suffix}`, { force: true });
    renameSync(tmp, dest);
    return result;
  } finally {
    db.close();
  }
}

/**
 * Puts a backup in place of the store at `target`: checks the backup first (integrity and schema
 * version, as `ties check` does), copies it beside the target, then renames it over the target
 * and drops the target's old WAL. The server must not be running on `target`.
 */
export async function restoreSqliteFile(
  backup: string,
  target: string,
  onProgress?: (p: BackupProgress) => void,
): Promise<CheckReport> {
  const report = checkSqliteFile(backup);
  if (!report.ok) return report;
  await backupSqliteFile(backup, target, onProgress);
  return report;
}

/** Whether a SQLite file holds any Ties data (false for a missing or empty file). */
export function sqliteStoreHasData(path: string): boolean {
  if (!existsSync(path)) return false;
  const db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  try {
    const tables = new Set(
      (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all() as string[]).filter(
        (t) => ['databases', 'resources', 'relation_types', 'tokens', 'profiles'].includes(t),
      ),
    );
    return [...tables].some((t) => db.prepare(`SELECT 1 FROM ${t} LIMIT 1`).get() !== undefined);
  } catch {
    // Not a database at all: it holds something, which a restore must not overwrite unasked.
    return true;
  } finally {
    db.close();
  }
}
