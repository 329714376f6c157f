// Turns better-sqlite3 failures that mean "the store cannot work right now" (disk full, read-only
// file, I/O error, lock timeout, corruption) into STORE_UNAVAILABLE, by SQLite result code only.
import BetterSqlite3 from 'better-sqlite3';
import { TiesError } from '../../core/errors.js';

export interface StoreLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

interface Unavailability {
  readonly reason: string;
  /** Corruption needs an operator; the others usually pass (space freed, lock released). */
  readonly severe: boolean;
}

/** Primary result codes (extended codes such as SQLITE_IOERR_WRITE map by their primary part). */
const UNAVAILABLE: Readonly<Record<string, Unavailability>> = {
  SQLITE_FULL: { reason: 'disk full', severe: false },
  SQLITE_READONLY: { reason: 'database is read-only', severe: false },
  SQLITE_IOERR: { reason: 'I/O error', severe: false },
  SQLITE_CANTOPEN: { reason: 'cannot open the database file', severe: false },
  SQLITE_BUSY: { reason: 'database is locked by another process', severe: false },
  SQLITE_LOCKED: { reason: 'database is locked', severe: false },
  SQLITE_NOMEM: { reason: 'out of memory', severe: false },
  SQLITE_PROTOCOL: { reason: 'file locking failed', severe: false },
  SQLITE_NOLFS: { reason: 'file too large', severe: false },
  SQLITE_CORRUPT: { reason: 'database file is corrupt', severe: true },
  SQLITE_NOTADB: { reason: 'file is not a database', severe: true },
};

function primaryCode(code: string): string {
  // SQLITE_IOERR_SHORT_READ → SQLITE_IOERR: the primary code is the first two words.
  const second = code.indexOf('_', 'SQLITE_'.length);
  return second === -1 ? code : code.slice(0, second);
}

/** The unavailability a driver error stands for, or undefined for any other error. */
export function unavailabilityOf(err: unknown): Unavailability | undefined {
  if (!(err instanceof BetterSqlite3.SqliteError)) return undefined;
  return UNAVAILABLE[primaryCode(err.code)];
}

/**
 * STORE_UNAVAILABLE for errors that mean the store cannot work now (logged; a running store logs
 * through SqliteHealth instead, once per episode); any other error is answered as is.
 */
export function toStoreError(err: unknown, logger?: StoreLogger): unknown {
  if (err instanceof TiesError) return err;
  const found = unavailabilityOf(err);
  if (!found) return err;
  const code = (err as InstanceType<typeof BetterSqlite3.SqliteError>).code;
  if (found.severe) logger?.error({ code, err }, `sqlite store: ${found.reason}`);
  else logger?.warn({ code }, `sqlite store: ${found.reason}`);
  return new TiesError('STORE_UNAVAILABLE', { reason: found.reason });
}

/** The driver error says another connection holds the lock this one needs (SQLITE_BUSY_*). */
export function isBusy(err: unknown): boolean {
  return err instanceof BetterSqlite3.SqliteError && primaryCode(err.code) === 'SQLITE_BUSY';
}

/**
 * BEGIN IMMEDIATE found the write lock held by another process: nothing was done, and the batch may
 * be tried again. A STORE_UNAVAILABLE error, so that if it ever reached a caller it would be a 503;
 * the stores catch it and wait (sqlite-lock-wait.ts) before refusing anything.
 */
export class WriteLockBusy extends TiesError {
  constructor(readonly driverError: unknown) {
    super('STORE_UNAVAILABLE', { reason: 'database is locked by another process' });
  }
}

export function storeClosed(): TiesError {
  return new TiesError('STORE_UNAVAILABLE', { reason: 'store is closed' });
}
