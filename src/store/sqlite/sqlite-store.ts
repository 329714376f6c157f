// The embedded SQLite store: the Store port over SqliteEngine, with group commit. Writes are queued
// and applied once per event-loop turn as one transaction (one fsync for the whole batch); every
// write is answered only after that commit. Reads run at once on the committed state.
import { MAX_BATCH, type PendingWrite, SqliteBaseStore, type SqliteStoreStats } from './sqlite-base-store.js';
import { SqliteEngine, type SqliteEngineOptions } from './sqlite-engine.js';
import { type StoreLogger, storeClosed, toStoreError } from './sqlite-errors.js';
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
  return new SqliteStore(SqliteEngine.open(options), options.logger);
}

export class SqliteStore extends SqliteBaseStore {
  private queue: PendingWrite[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    /** The synchronous engine underneath (tests read query plans and set pragmas through it). */
    readonly sqlite: SqliteEngine,
    private readonly logger?: StoreLogger | undefined,
  ) {
    super(sqlite);
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
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.scheduled ??= setImmediate(this.drainTurn);
    });
  }

  private readonly drainTurn = (): void => {
    this.scheduled = undefined;
    this.drainBatch();
    // What did not fit waits one turn, so that reads and new requests get the thread in between.
    if (this.queue.length > 0) this.scheduled = setImmediate(this.drainTurn);
  };

  private drainBatch(): void {
    const batch = this.queue.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    const started = performance.now();
    const ops = batch.map((p) => p.op);
    let results: BatchResult[];
    try {
      results = this.sqlite.runBatch(ops);
    } catch (err) {
      this.committed({ ops: writesInAll(ops), ms: performance.now() - started, ok: false });
      const error = toStoreError(err, this.logger);
      for (const pending of batch) pending.reject(error);
      return;
    }
    this.committed({ ops: writesInAll(ops), ms: performance.now() - started, ok: true });
    batch.forEach((pending, i) => {
      const result = results[i]!;
      if (result.ok) pending.resolve(result.value);
      else pending.reject(result.error);
    });
  }

  /** Applies every queued write, then optimizes and closes the file; later calls are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    while (this.queue.length > 0) this.drainBatch();
    this.sqlite.close();
  }
}
