// Turns pg failures that mean "the store cannot work right now" (server down or restarting,
// connection lost or timed out, too many connections, disk full, read-only) into STORE_UNAVAILABLE,
// by SQLSTATE or by where the error came from — never by matching message text.
import type pg from 'pg';
import { TiesError } from '../../core/errors.js';
import { pgDriver } from './pg-driver.js';

export interface StoreLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Raised by the schema's functions when a float sum would leave the double range. */
const FLOAT_SUM_OVERFLOW = 'TI001';

/**
 * Values the API accepts that PostgreSQL's columns cannot hold: an id past the integer columns
 * (22003), U+0000 in text or jsonb (22021, 22P05), a lone surrogate in jsonb (22P02). Such an id
 * names nothing and such text cannot be stored, so the call is refused (400) rather than failing as
 * an internal error.
 */
const UNSTORABLE: Readonly<Record<string, string>> = {
  '22003': 'numbers within the range the store holds (ids up to 2147483647)',
  '22021': 'text without the character U+0000',
  '22P05': 'text without the character U+0000',
  '22P02': 'valid Unicode text (no lone surrogate)',
};

/** SQLSTATEs a retry of the whole call can fix: PostgreSQL rolled the transaction back. */
const RETRYABLE: ReadonlySet<string> = new Set(['40001', '40P01']);

/** SQLSTATE (exact, else its two-character class) → why the store is unavailable. */
const UNAVAILABLE: Readonly<Record<string, string>> = {
  '08': 'connection to PostgreSQL failed',
  '53100': 'PostgreSQL disk full',
  '53300': 'PostgreSQL has too many connections',
  '53': 'PostgreSQL is out of resources',
  '57014': 'statement timed out',
  '57P01': 'PostgreSQL is shutting down',
  '57P02': 'PostgreSQL crashed',
  '57P03': 'PostgreSQL is starting up',
  '57P04': 'the database was dropped',
  '58': 'PostgreSQL system error',
  '25006': 'PostgreSQL is read-only',
  '55P03': 'a lock could not be taken',
  '3D000': 'the database does not exist',
  // The schema was dropped or recreated under a running server: the store re-runs its migrations.
  '3F000': 'the schema is missing; re-creating it',
  '42P01': 'the schema is missing or incomplete; re-creating it',
  '42883': 'the schema is missing or incomplete; re-creating it',
  '42704': 'the schema is missing or incomplete; re-creating it',
  '28': 'PostgreSQL refused the credentials',
  '40001': 'too many conflicting writes; retries exhausted',
  '40P01': 'too many conflicting writes; retries exhausted',
};

/** Whether an error says Ties' tables, functions or types are gone (schema dropped or recreated). */
export function isSchemaGone(err: unknown): boolean {
  const code = sqlState(err);
  return code === '3F000' || code === '42P01' || code === '42883' || code === '42704';
}

export function sqlState(err: unknown): string | undefined {
  return err instanceof pgDriver.DatabaseError ? err.code : undefined;
}

export function isRetryable(err: unknown): boolean {
  const code = sqlState(err);
  return code !== undefined && RETRYABLE.has(code);
}

/**
 * Whether the connection that raised `err` must be discarded: anything but an error PostgreSQL
 * reported for one statement (a lost socket, a client-side timeout, a server shutting down).
 */
export function breaksConnection(err: unknown): boolean {
  const code = sqlState(err);
  if (code === undefined) return true;
  return code.startsWith('08') || code.startsWith('57P') || code.startsWith('58');
}

/** Why the store is unavailable for a driver error, or undefined for any other error. */
export function unavailabilityOf(err: unknown): string | undefined {
  const code = sqlState(err);
  if (code === undefined) {
    // Raised by the driver itself around a query: connection refused, reset, ended, or a timeout.
    // Programming errors (bad arguments) are TypeErrors and stay internal errors.
    if (err instanceof TypeError || err instanceof RangeError || !(err instanceof Error)) return undefined;
    return 'PostgreSQL is not reachable';
  }
  return UNAVAILABLE[code] ?? UNAVAILABLE[code.slice(0, 2)];
}

/**
 * STORE_UNAVAILABLE for errors that mean the store cannot work now (logged here, since the caller
 * only sees the reason); any other error is answered as is, to surface as an internal error.
 * Only pass errors raised by pg calls: their origin is what classifies them.
 */
export function toStoreError(err: unknown, logger?: StoreLogger): unknown {
  if (err instanceof TiesError) return err;
  if (sqlState(err) === FLOAT_SUM_OVERFLOW) {
    // Raised by ties_fstep (sql/functions/01-helpers.sql); the transaction rolled back, nothing changed.
    return new TiesError('INT_OVERFLOW', {
      property: (err as pg.DatabaseError).detail ?? '',
      result: "Infinity (the sum over profile A's relations)",
    });
  }
  const unstorable = UNSTORABLE[sqlState(err) ?? ''];
  if (unstorable) return new TiesError('BAD_PARAMETER', { param: 'body', expected: unstorable });
  const reason = unavailabilityOf(err);
  if (reason === undefined) return err;
  logger?.warn({ code: sqlState(err) ?? (err as { code?: string }).code, err }, `postgres store: ${reason}`);
  return new TiesError('STORE_UNAVAILABLE', { reason });
}

/**
 * A violation of match_keys_email, the unique index of emails within a database (schema version
 * 4). On Citus the index of a shard carries a suffix, so the name is matched by its start.
 */
export function isUniqueEmailViolation(err: unknown): boolean {
  if (sqlState(err) !== '23505') return false;
  const e = err as pg.DatabaseError;
  return (e.constraint ?? e.message).includes('match_keys_email');
}

export function storeClosed(): TiesError {
  return new TiesError('STORE_UNAVAILABLE', { reason: 'store is closed' });
}
