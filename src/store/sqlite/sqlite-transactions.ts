// Group commit and savepoints: runBatch applies queued writes as one transaction, each inside its own
// savepoint (a failed one changes nothing and does not undo the others), then one COMMIT; write()
// is the savepoint around one write, writeChecked() a write that needs none (attach), read() the
// error mapping around one read.
import { TiesError } from '../../core/errors.js';
import type { AggregateLedger } from './sqlite-aggregate-ledger.js';
import type { CatalogCache } from './sqlite-catalog-cache.js';
import { isBusy, WriteLockBusy } from './sqlite-errors.js';
import type { SqliteHealth } from './sqlite-health.js';
import type { Db, Statements, Stmt } from './sqlite-statements.js';
import { type BatchResult, READS_AGGREGATES, type WriteOp, writesInAll } from './sqlite-write-ops.js';

export interface EngineStats {
  /** Batches run by runBatch. */
  readonly batches: number;
  /** Batches that committed. */
  readonly commits: number;
  /** Operations inside committed or failed batches. */
  readonly ops: number;
  /** Batches that failed as a whole (BEGIN or COMMIT failed, or SQLite rolled them back). */
  readonly failedBatches: number;
  readonly largestBatch: number;
}

function isFailedOutcome(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'kind' in value && value.kind !== 'ok';
}

const noChange = (): void => {};

export class SqliteTransactions {
  private readonly db: Db;
  private counters = { batches: 0, commits: 0, ops: 0, failedBatches: 0, largestBatch: 0 };
  private inBatch = false;
  /** Set when a writeChecked write failed after its first change: the batch cannot commit. */
  private lostBy: { readonly error: unknown } | undefined;
  private readonly begin: Stmt;
  private readonly commit: Stmt;
  private readonly rollback: Stmt;
  private readonly savepoint: Stmt;
  private readonly release: Stmt;
  private readonly rollbackTo: Stmt;
  private readonly dataVersion: Stmt;
  /** PRAGMA data_version when this connection last looked: it changes when another one commits. */
  private seenDataVersion: unknown;

  constructor(
    statements: Statements,
    private readonly ledger: AggregateLedger,
    private readonly catalog: CatalogCache,
    /** Logs failures once per episode; stops writes once the file is corrupt. */
    readonly health: SqliteHealth,
  ) {
    this.db = statements.db;
    this.begin = statements.cold('BEGIN IMMEDIATE');
    this.commit = statements.cold('COMMIT');
    this.rollback = statements.cold('ROLLBACK');
    this.savepoint = statements.cold('SAVEPOINT op');
    this.release = statements.cold('RELEASE op');
    this.rollbackTo = statements.cold('ROLLBACK TO op');
    this.dataVersion = statements.cold('PRAGMA data_version').pluck();
    this.seenDataVersion = this.dataVersion.get();
  }

  stats(): EngineStats {
    return { ...this.counters };
  }

  /**
   * Applies writes as one transaction: each inside its own savepoint (a failed one changes
   * nothing and does not undo the others), then one COMMIT. Answers one result per op, in order;
   * throws STORE_UNAVAILABLE, with nothing applied, when the transaction itself fails, and
   * WriteLockBusy, with nothing done, when another process holds the write lock (after the
   * connection's busy_timeout, which the inline store keeps at 0 so as never to block the thread).
   */
  runBatch(ops: readonly WriteOp[], execute: (op: WriteOp) => unknown): BatchResult[] {
    const writes = writesInAll(ops);
    const catalogBefore = this.catalog.version;
    try {
      this.health.assertSound();
      this.begin.run();
    } catch (err) {
      // Another process holds the write lock: nothing was done, and the store decides how long
      // to wait (sqlite-lock-wait.ts). Not a batch, not logged: most waits end in a commit.
      if (isBusy(err)) throw new WriteLockBusy(err);
      this.countBatch(writes);
      this.counters.failedBatches++;
      throw this.storeError(err);
    }
    this.countBatch(writes);
    try {
      // Another process (a second server, ties import) may have changed the catalogue: this batch
      // must write with the relation types as they are now, not as they were loaded.
      const version = this.dataVersion.get();
      if (version !== this.seenDataVersion) {
        this.seenDataVersion = version;
        this.catalog.load();
      }
    } catch (err) {
      this.counters.failedBatches++;
      this.safely('rollback', () => this.rollback.run());
      throw this.storeError(err);
    }
    const results: BatchResult[] = [];
    /** Set when applying pending aggregates failed: the whole batch fails. */
    let lost: { readonly error: unknown } | undefined;
    this.inBatch = true;
    try {
      for (const op of ops) {
        // SQLite may roll the whole transaction back by itself (disk full, I/O error): stop there.
        if (!this.db.inTransaction) break;
        if (READS_AGGREGATES.has(op.method)) this.ledger.applyPending();
        try {
          results.push({ ok: true, value: execute(op) });
        } catch (error) {
          results.push({ ok: false, error });
        }
        if (this.lostBy) break;
      }
    } catch (error) {
      lost = { error };
    } finally {
      this.inBatch = false;
    }
    lost ??= this.lostBy;
    this.lostBy = undefined;
    try {
      if (lost) throw lost.error;
      if (!this.db.inTransaction) {
        const failure = results.find((r) => !r.ok);
        throw failure && !failure.ok
          ? failure.error
          : new TiesError('STORE_UNAVAILABLE', { reason: 'transaction lost' });
      }
      this.ledger.applyPending();
      this.commit.run();
    } catch (err) {
      this.ledger.discardPending();
      this.counters.failedBatches++;
      if (this.db.inTransaction) this.safely('rollback', () => this.rollback.run());
      if (this.catalog.version !== catalogBefore) this.catalog.load();
      const error = this.storeError(err);
      throw error instanceof TiesError
        ? error
        : new TiesError('STORE_UNAVAILABLE', { reason: 'the transaction could not commit' });
    }
    this.counters.commits++;
    this.health.committed();
    return results;
  }

  /**
   * The refusal of writes that waited their longest for another process's write lock
   * (WriteLockBusy): counted as a failed batch and logged once per episode, like any other failure
   * that makes the store unavailable.
   */
  lockRefused(busy: WriteLockBusy, writes: number, waitMs: number): TiesError {
    this.countBatch(writes);
    this.counters.failedBatches++;
    this.storeError(busy.driverError);
    return new TiesError('STORE_UNAVAILABLE', {
      reason: `database is locked by another process (a write waits at most ${waitMs} ms)`,
    });
  }

  private countBatch(writes: number): void {
    this.counters.batches++;
    this.counters.ops += writes;
    this.counters.largestBatch = Math.max(this.counters.largestBatch, writes);
  }

  /**
   * One write inside a savepoint: released when it succeeds, rolled back when it throws or
   * answers a failed outcome (duplicate, not_found, overflow, …), so a failed call changes nothing.
   * Outside runBatch the savepoint is the write's own transaction.
   */
  write<T>(fn: () => T): T {
    const catalogBefore = this.catalog.version;
    try {
      this.savepoint.run();
    } catch (err) {
      throw this.storeError(err);
    }
    let result: T;
    const scope = this.ledger.beginWrite();
    try {
      result = fn();
    } catch (err) {
      this.undo(catalogBefore);
      throw this.storeError(err);
    } finally {
      this.ledger.endWrite(scope);
    }
    if (isFailedOutcome(result)) {
      this.undo(catalogBefore);
      return result;
    }
    try {
      if (this.inBatch) this.ledger.keep(scope);
      else this.ledger.applyNow(scope);
      this.release.run();
    } catch (err) {
      this.undo(catalogBefore);
      throw this.storeError(err);
    }
    return result;
  }

  /**
   * A write without a savepoint of its own, for a call that makes every check before its first
   * change and says so by calling `changing()` right after that change (attach: the pair lookup
   * first, then the insert that is itself the duplicate test). A failed outcome answered before
   * `changing()` changed nothing. An error after it cannot be undone alone, so it fails the whole
   * batch (nothing is applied, every write in it answers STORE_UNAVAILABLE); only a broken file or
   * a failing disk gets there, and SQLite then rolls the transaction back anyway. The savepoint's
   * SAVEPOINT and RELEASE cost ~11 µs of the ~48 µs of SQLite work per attach (README.md).
   * Outside a batch it is an ordinary write.
   */
  writeChecked<T>(fn: (changing: () => void) => T): T {
    if (!this.inBatch) return this.write(() => fn(noChange));
    let changed = false;
    // Never undone alone, so its aggregate changes go straight into the batch's.
    const scope = this.ledger.beginWrite(true);
    let result: T;
    try {
      result = fn(() => {
        changed = true;
      });
    } catch (err) {
      if (changed) this.lostBy ??= { error: err };
      throw this.storeError(err);
    } finally {
      this.ledger.endWrite(scope);
    }
    if (isFailedOutcome(result)) {
      if (changed) this.lostBy ??= { error: new Error('a checked write failed after changing rows') };
      return result;
    }
    return result;
  }

  read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw this.storeError(err);
    }
  }

  /** Runs cleanup whose failure must not hide the error being handled; logs it instead. */
  safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.health.logger?.warn({ err }, `sqlite store: ${what} failed`);
    }
  }

  private undo(catalogBefore: number): void {
    // After a disk-full or I/O error SQLite may already have rolled everything back.
    if (this.db.inTransaction) {
      this.safely('rollback to savepoint', () => {
        this.rollbackTo.run();
        this.release.run();
      });
    }
    if (this.catalog.version !== catalogBefore) this.catalog.load();
  }

  private storeError(err: unknown): unknown {
    return this.health.storeError(err);
  }
}
