// The embedded SQLite store: the Store port over SqliteEngine, with group commit. Writes are queued
// and applied once per event-loop turn as one transaction (one fsync for the whole batch); every
// write is answered only after that commit. Reads run at once on the committed state.
// The connection never waits inside SQLite for another process's write lock (that wait would block
// the event loop, so every read and /health with it): a batch that finds the lock held is tried
// again from a timer (sqlite-lock-wait.ts) until its writes have waited `busyTimeoutMs`.
import { MAX_BATCH, type PendingWrite, SqliteBaseStore, type SqliteStoreStats } from './sqlite-base-store.js';
import { DEFAULT_BUSY_TIMEOUT_MS, SqliteEngine, type SqliteEngineOptions } from './sqlite-engine.js';
import { type StoreLogger, storeClosed, toStoreError, WriteLockBusy } from './sqlite-errors.js';
import { expiredCount, lockRetryDelay } from './sqlite-lock-wait.js';
import {
  type BatchResult,
  type WriteArgs,
  type WriteMethod,
  type WriteOp,
  type WriteResult,
  writesInAll,
} from './sqlite-write-ops.js';

export { MAX_BATCH, type SqliteStoreStats } from './sqlite-base-store.js';

/** A file path or ':memory:', and how to open it (SqliteEngineOptions). */
export type SqliteStoreOptions = SqliteEngineOptions;

export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  const engine = SqliteEngine.open(options);
  return new SqliteStore(engine, options.logger, options.busyTimeoutMs);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class SqliteStore extends SqliteBaseStore {
  private queue: PendingWrite[] = [];
  /** The next drain: at the next turn, or later while another process holds the write lock. */
  private scheduled: { cancel(): void } | undefined;
  /** Tries in a row that found the write lock held: the step of the backoff. */
  private busyTries = 0;
  private readonly lockWaitMs: number;

  constructor(
    /** The synchronous engine underneath (tests read query plans and set pragmas through it). */
    readonly sqlite: SqliteEngine,
    private readonly logger?: StoreLogger | undefined,
    /** How long a write waits for another process's write lock before it is refused (503). */
    lockWaitMs: number = DEFAULT_BUSY_TIMEOUT_MS,
  ) {
    super(sqlite);
    this.lockWaitMs = Math.max(0, lockWaitMs);
    // The connection waited for locks while it opened (nothing to serve yet); from now on a
    // wait inside SQLite would stop the event loop, so it fails at once and the store waits.
    sqlite.setBusyTimeout(0);
  }

  /** Counters for metrics: batches, commits, ops, failed batches, largest batch, queue length. */
  stats(): SqliteStoreStats {
    return { ...this.sqlite.stats(), queued: this.queue.length };
  }

  protected write<M extends WriteMethod>(method: M, ...args: WriteArgs<M>): Promise<WriteResult<M>> {
    if (this.closed) return Promise.reject(storeClosed());
    return new Promise((resolve, reject) => {
      this.queue.push({
        op: { method, args } as WriteOp,
        deadline: performance.now() + this.lockWaitMs,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (!this.scheduled) this.schedule(0);
    });
  }

  private schedule(delayMs: number): void {
    if (delayMs <= 0) {
      const immediate = setImmediate(this.drainTurn);
      this.scheduled = { cancel: () => clearImmediate(immediate) };
    } else {
      const timer = setTimeout(this.drainTurn, delayMs);
      this.scheduled = { cancel: () => clearTimeout(timer) };
    }
  }

  private readonly drainTurn = (): void => {
    this.scheduled = undefined;
    const wait = this.drainBatch();
    // What did not fit waits one turn, so that reads and new requests get the thread in between;
    // a batch that found the lock held waits its backoff.
    if (this.queue.length > 0) this.schedule(wait ?? 0);
  };

  /**
   * Runs the next batch. Answers how long to wait before trying again when another process held
   * the write lock (its writes are back at the head of the queue, those past their time refused).
   */
  private drainBatch(): number | undefined {
    const batch = this.queue.splice(0, MAX_BATCH);
    if (batch.length === 0) return undefined;
    const started = performance.now();
    const ops = batch.map((p) => p.op);
    let results: BatchResult[];
    try {
      results = this.sqlite.runBatch(ops);
    } catch (err) {
      if (err instanceof WriteLockBusy) return this.lockHeld(batch, err, started);
      this.busyTries = 0;
      this.committed({ ops: writesInAll(ops), ms: performance.now() - started, ok: false });
      const error = toStoreError(err, this.logger);
      for (const pending of batch) pending.reject(error);
      return undefined;
    }
    this.busyTries = 0;
    this.committed({ ops: writesInAll(ops), ms: performance.now() - started, ok: true });
    batch.forEach((pending, i) => {
      const result = results[i]!;
      if (result.ok) pending.resolve(result.value);
      else pending.reject(result.error);
    });
    return undefined;
  }

  /** Refuses the writes of `batch` that waited their longest, puts the rest back, answers the delay. */
  private lockHeld(batch: PendingWrite[], busy: WriteLockBusy, started: number): number | undefined {
    const now = performance.now();
    const expired = expiredCount(batch, now);
    if (expired > 0) {
      const refused = batch.slice(0, expired);
      const ops = writesInAll(refused.map((p) => p.op));
      const error = this.sqlite.lockRefused(busy, ops, this.lockWaitMs);
      this.committed({ ops, ms: now - started, ok: false });
      for (const pending of refused) pending.reject(error);
    }
    if (expired < batch.length) this.queue.unshift(...batch.slice(expired));
    if (this.queue.length === 0) {
      this.busyTries = 0;
      return undefined;
    }
    // Try again after the backoff, or when the oldest write's time is up (it gets a last try).
    return Math.min(lockRetryDelay(this.busyTries++), Math.max(1, this.queue[0]!.deadline - now));
  }

  /** Applies every queued write, then optimizes and closes the file; later calls are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.scheduled?.cancel();
    this.scheduled = undefined;
    // Bounded: a write waits for another process's lock at most lockWaitMs.
    while (this.queue.length > 0) {
      const wait = this.drainBatch();
      if (wait !== undefined && this.queue.length > 0) await sleep(wait);
    }
    this.sqlite.close();
  }
}
