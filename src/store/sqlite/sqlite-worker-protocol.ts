// Messages between SqliteWorkerStore and its writer thread, and how errors cross between them
// (structured clone keeps neither an error's class nor its catalogue code).
import { type ErrorCode, type ErrorDetails, isTiesError, TiesError } from '../../core/errors.js';
import type { MigrationProgress } from '../migration-runner.js';
import { SchemaTooNewError } from './migrations.js';
import type { SqliteEngineOptions } from './sqlite-connection.js';
import type { EngineStats } from './sqlite-transactions.js';
import type { WriteOp } from './sqlite-write-ops.js';

/** The engine options a worker can receive: plain data (the logger stays on the main thread). */
export type WorkerOptions = Omit<SqliteEngineOptions, 'logger' | 'readonly' | 'onMigrationProgress'>;

export type ToWorker =
  | {
      readonly type: 'batch';
      readonly id: number;
      readonly ops: readonly WriteOp[];
      /**
       * For each op, how many ms it may still wait for another process's write lock; the worker's
       * connection waits (inside SQLite, blocking only the worker) for the first op's time.
       */
      readonly lockWaitMs: readonly number[];
    }
  | { readonly type: 'close' };

export type SerializedError =
  | { readonly kind: 'ties'; readonly code: ErrorCode; readonly details: ErrorDetails }
  | { readonly kind: 'schema'; readonly found: number; readonly known: number }
  | { readonly kind: 'other'; readonly name: string; readonly message: string; readonly code?: unknown };

export type WorkerResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: SerializedError };

interface BatchReport {
  readonly id: number;
  /** A catalogue write ran: the main thread's reader reloads its cache before answering. */
  readonly catalogChanged: boolean;
  readonly stats: EngineStats;
  /** Time the batch took in the worker, commit included. */
  readonly ms: number;
}

export type FromWorker =
  | { readonly type: 'ready' }
  /** A migration at work while the worker opens the file. */
  | { readonly type: 'migrating'; readonly progress: MigrationProgress }
  | { readonly type: 'failed'; readonly error: SerializedError }
  | ({ readonly type: 'done'; readonly results: readonly WorkerResult[] } & BatchReport)
  | ({ readonly type: 'batch-failed'; readonly error: SerializedError } & BatchReport)
  /**
   * Another process held the write lock: nothing was done. The first `refused` ops had waited
   * their longest and are refused with `error`; the rest go back to the head of the queue.
   */
  | ({
      readonly type: 'busy';
      readonly refused: number;
      readonly error: SerializedError | undefined;
    } & BatchReport)
  | {
      readonly type: 'log';
      readonly level: 'warn' | 'error';
      readonly obj: Record<string, unknown>;
      readonly msg: string;
    }
  | { readonly type: 'closed' };

export function serializeError(err: unknown): SerializedError {
  if (isTiesError(err)) return { kind: 'ties', code: err.code, details: err.details };
  if (err instanceof SchemaTooNewError) return { kind: 'schema', found: err.found, known: err.known };
  if (err instanceof Error) {
    return { kind: 'other', name: err.name, message: err.message, code: (err as { code?: unknown }).code };
  }
  return { kind: 'other', name: 'Error', message: String(err) };
}

export function deserializeError(err: SerializedError): Error {
  if (err.kind === 'ties') return new TiesError(err.code, err.details);
  if (err.kind === 'schema') return new SchemaTooNewError(err.found, err.known);
  const error = new Error(err.message);
  error.name = err.name;
  if (err.code !== undefined) (error as { code?: unknown }).code = err.code;
  return error;
}
