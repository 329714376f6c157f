// The SQLite store with its writer in a worker thread: writes queue on the main thread and go to the
// worker as one batch (one transaction, one fsync) while the previous batch commits, so the main
// thread keeps parsing requests during the commit. Reads run on the main thread on a read-only
// connection, which in WAL mode sees only committed transactions.
import { Worker } from 'node:worker_threads';
import { TiesError } from '../../core/errors.js';
import { MAX_BATCH, type PendingWrite, SqliteBaseStore, type SqliteStoreStats } from './sqlite-base-store.js';
import {
  DEFAULT_BUSY_TIMEOUT_MS,
  type EngineStats,
  SqliteEngine,
  type SqliteEngineOptions,
} from './sqlite-engine.js';
import { type StoreLogger, storeClosed } from './sqlite-errors.js';
import {
  deserializeError,
  type FromWorker,
  type ToWorker,
  type WorkerOptions,
} from './sqlite-worker-protocol.js';
import {
  type WriteArgs,
  type WriteMethod,
  type WriteOp,
  type WriteResult,
  writesInAll,
} from './sqlite-write-ops.js';

/** A file path (the worker and the main thread each open it; ':memory:' cannot be shared). */
export type SqliteWorkerStoreOptions = Omit<SqliteEngineOptions, 'readonly'>;

function startWorker(workerData: WorkerOptions): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./sqlite-worker.js', import.meta.url), { workerData });
  }
  // Run from source (tests, tsx): Node 20 does not carry the main thread's loader hooks into a
  // worker, so the worker registers tsx itself before loading the TypeScript entry.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./sqlite-worker.ts', import.meta.url).href;
  const source = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(source, { eval: true, workerData });
}

const NO_STATS: EngineStats = { batches: 0, commits: 0, ops: 0, failedBatches: 0, largestBatch: 0 };

export async function openSqliteWorkerStore(options: SqliteWorkerStoreOptions): Promise<SqliteWorkerStore> {
  if (options.path === ':memory:' || options.path === '') {
    throw new Error(
      'the SQLite worker store needs a file: an in-memory database cannot be shared by two threads',
    );
  }
  const workerOptions: WorkerOptions = {
    path: options.path,
    busyTimeoutMs: options.busyTimeoutMs,
    cacheMb: options.cacheMb,
    topRows: options.topRows,
    adoptForeign: options.adoptForeign,
    changeFeed: options.changeFeed,
  };
  const worker = startWorker(workerOptions);
  try {
    // The worker opens (and migrates) first, so that the reader finds the schema in place.
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: FromWorker) => {
        if (message.type === 'migrating') options.onMigrationProgress?.(message.progress);
        else if (message.type === 'ready') done(resolve);
        else if (message.type === 'failed') done(() => reject(deserializeError(message.error)));
      };
      const onError = (err: unknown) => done(() => reject(err));
      const onExit = (code: number) =>
        done(() => reject(new Error(`the SQLite writer thread exited (${code}) while opening`)));
      const done = (then: () => void) => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        then();
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
    const reader = SqliteEngine.open({
      path: options.path,
      readonly: true,
      // The setting is per connection: reads of a file much larger than the cache miss it as the
      // writer's attaches do, so the reader gets the same size (it fills only as pages are read).
      cacheMb: options.cacheMb,
      busyTimeoutMs: options.busyTimeoutMs,
      logger: options.logger,
    });
    return new SqliteWorkerStore(worker, reader, options.logger, options.busyTimeoutMs);
  } catch (err) {
    await worker.terminate();
    throw err;
  }
}

export class SqliteWorkerStore extends SqliteBaseStore {
  private queue: PendingWrite[] = [];
  private inFlight:
    | { readonly id: number; readonly batch: PendingWrite[]; readonly started: number }
    | undefined;
  private scheduled: NodeJS.Immediate | undefined;
  private nextId = 1;
  private lastStats: EngineStats = NO_STATS;
  /** Set when the writer thread died: every later write and ping fails with it. */
  private broken: TiesError | undefined;
  private closing = false;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly closedWaiters: (() => void)[] = [];
  private readonly lockWaitMs: number;

  constructor(
    /** The writer thread (tests stop it to see how the store reacts). */
    readonly thread: Worker,
    reader: SqliteEngine,
    private readonly logger?: StoreLogger | undefined,
    /** How long a write waits for another process's write lock before it is refused (503). */
    lockWaitMs: number = DEFAULT_BUSY_TIMEOUT_MS,
  ) {
    super(reader);
    this.lockWaitMs = Math.max(0, lockWaitMs);
    // Reads run on the main thread: a wait inside SQLite there would stop the event loop. In WAL
    // mode a reader does not wait for a writer anyway.
    reader.setBusyTimeout(0);
    thread.on('message', (message: FromWorker) => this.onMessage(message));
    thread.on('error', (err) => this.fail(err));
    thread.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`exited with code ${code}`));
      for (const waiter of this.closedWaiters.splice(0)) waiter();
    });
    // An idle writer must not keep the process alive; one with work does (see flush).
    thread.unref();
  }

  stats(): SqliteStoreStats {
    return { ...this.lastStats, queued: this.queue.length };
  }

  protected write<M extends WriteMethod>(method: M, ...args: WriteArgs<M>): Promise<WriteResult<M>> {
    if (this.closed) return Promise.reject(storeClosed());
    if (this.broken) return Promise.reject(this.broken);
    try {
      // Corruption the reader found stops writes too (the writer thread stops on what it finds).
      this.reader.assertSound();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({
        op: { method, args } as WriteOp,
        deadline: performance.now() + this.lockWaitMs,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (!this.inFlight) this.scheduled ??= setImmediate(this.flush);
    });
  }

  /** Sends what is queued as one batch, unless a batch is still committing (it sends on return). */
  private readonly flush = (): void => {
    this.scheduled = undefined;
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, MAX_BATCH);
    const id = this.nextId++;
    this.inFlight = { id, batch, started: performance.now() };
    this.thread.ref();
    const now = performance.now();
    const message: ToWorker = {
      type: 'batch',
      id,
      ops: batch.map((p) => p.op),
      lockWaitMs: batch.map((p) => p.deadline - now),
    };
    this.thread.postMessage(message);
  };

  private onMessage(message: FromWorker): void {
    switch (message.type) {
      case 'done':
      case 'batch-failed': {
        const current = this.inFlight;
        if (!current || current.id !== message.id) return;
        this.inFlight = undefined;
        this.lastStats = message.stats;
        // Before anyone is answered, so that a created type or database is readable at once.
        if (message.catalogChanged) this.reloadCatalog();
        const ok = message.type === 'done';
        this.committed({
          ops: writesInAll(current.batch.map((p) => p.op)),
          ms: performance.now() - current.started,
          ok,
        });
        if (message.type === 'done') {
          current.batch.forEach((pending, i) => {
            const result = message.results[i]!;
            if (result.ok) pending.resolve(result.value);
            else pending.reject(deserializeError(result.error));
          });
        } else {
          const error = deserializeError(message.error);
          for (const pending of current.batch) pending.reject(error);
        }
        // What queued during the commit goes at once: it has waited one commit already.
        if (this.queue.length > 0) this.flush();
        else this.idle();
        break;
      }
      case 'busy': {
        // Another process held the write lock for the oldest write's whole time: nothing was
        // done; those past their time are refused, the rest are tried again at once.
        const current = this.inFlight;
        if (!current || current.id !== message.id) return;
        this.inFlight = undefined;
        this.lastStats = message.stats;
        const refused = current.batch.slice(0, message.error ? message.refused : 0);
        if (refused.length > 0 && message.error) {
          this.committed({ ops: writesInAll(refused.map((p) => p.op)), ms: message.ms, ok: false });
          const error = deserializeError(message.error);
          for (const pending of refused) pending.reject(error);
        }
        this.queue.unshift(...current.batch.slice(refused.length));
        if (this.queue.length > 0) this.flush();
        else this.idle();
        break;
      }
      case 'log':
        this.logger?.[message.level](message.obj, message.msg);
        break;
      case 'ready':
      case 'migrating':
      case 'failed':
      case 'closed':
        break;
    }
  }

  private reloadCatalog(): void {
    try {
      this.reader.reloadCatalog();
    } catch (err) {
      this.logger?.warn({ err }, 'sqlite store: reloading the catalogue failed');
    }
  }

  private idle(): void {
    if (!this.closing) this.thread.unref();
    for (const waiter of this.idleWaiters.splice(0)) waiter();
  }

  /** The writer thread died: fail what waits for it, and every later write. */
  private fail(err: unknown): void {
    if (this.broken) return;
    this.logger?.error({ err }, 'sqlite store: the writer thread stopped');
    this.broken = new TiesError('STORE_UNAVAILABLE', { reason: 'the writer thread stopped' });
    const waiting = [...(this.inFlight?.batch ?? []), ...this.queue.splice(0)];
    this.inFlight = undefined;
    for (const pending of waiting) pending.reject(this.broken);
    this.idle();
  }

  override ping(): Promise<void> {
    if (this.broken && !this.closed) return Promise.reject(this.broken);
    return super.ping();
  }

  /** Applies every queued write, then closes both connections; later calls are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    while (!this.broken && (this.inFlight || this.queue.length > 0)) {
      const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      this.flush();
      await idle;
    }
    if (!this.broken) {
      const exited = new Promise<void>((resolve) => this.closedWaiters.push(resolve));
      this.thread.ref();
      this.thread.postMessage({ type: 'close' } satisfies ToWorker);
      await exited;
    }
    await this.thread.terminate();
    this.reader.close();
  }
}
