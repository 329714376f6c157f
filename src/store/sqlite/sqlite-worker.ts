// Entry of the SQLite store's writer thread (worker_threads): owns the write connection and applies
// each batch SqliteWorkerStore posts with SqliteEngine.runBatch, so that the commit and its fsync
// happen while the main thread keeps parsing requests.
import { parentPort, workerData } from 'node:worker_threads';
import { DEFAULT_BUSY_TIMEOUT_MS, SqliteEngine } from './sqlite-engine.js';
import { type StoreLogger, WriteLockBusy } from './sqlite-errors.js';
import {
  type FromWorker,
  serializeError,
  type ToWorker,
  type WorkerOptions,
  type WorkerResult,
} from './sqlite-worker-protocol.js';
import { writesInAll } from './sqlite-write-ops.js';

const port = parentPort;
if (!port) throw new Error('sqlite-worker.ts runs as a worker thread only');

const post = (message: FromWorker) => port.postMessage(message);

// Log records cross to the main thread, which owns the logger; errors lose their class on the way.
const logger: StoreLogger = {
  warn: (obj, msg) => post({ type: 'log', level: 'warn', obj: plain(obj), msg }),
  error: (obj, msg) => post({ type: 'log', level: 'error', obj: plain(obj), msg }),
};

function plain(obj: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    out[key] =
      value instanceof Error ? { message: value.message, code: (value as { code?: unknown }).code } : value;
  }
  return out;
}

const options = workerData as WorkerOptions;
/** The longest a write waits for another process's write lock (the error text says it). */
const lockWaitBound = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
/** The connection's busy_timeout now: it opened (and migrated) with the whole bound. */
let busyTimeout = lockWaitBound;
let engine: SqliteEngine;
try {
  engine = SqliteEngine.open({
    ...options,
    logger,
    onMigrationProgress: (progress) => post({ type: 'migrating', progress }),
  });
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'failed', error: serializeError(err) });
  process.exit(0);
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'batch': {
      const catalogBefore = engine.catalogVersion();
      const started = performance.now();
      // Waiting for another process's lock blocks only this thread: SQLite's busy handler waits
      // for what is left of the oldest write's time (sqlite-lock-wait.ts).
      const wait = Math.ceil(Math.max(0, message.lockWaitMs[0] ?? 0));
      if (wait !== busyTimeout) {
        engine.setBusyTimeout(wait);
        busyTimeout = wait;
      }
      try {
        const results: WorkerResult[] = engine
          .runBatch(message.ops)
          .map((r) => (r.ok ? { ok: true, value: r.value } : { ok: false, error: serializeError(r.error) }));
        post({
          type: 'done',
          id: message.id,
          results,
          catalogChanged: engine.catalogVersion() !== catalogBefore,
          stats: engine.stats(),
          ms: performance.now() - started,
        });
      } catch (err) {
        if (err instanceof WriteLockBusy) {
          const waited = performance.now() - started;
          let refused = 0;
          while (refused < message.ops.length && message.lockWaitMs[refused]! <= waited) refused++;
          const writes = writesInAll(message.ops.slice(0, refused));
          post({
            type: 'busy',
            id: message.id,
            refused,
            error: refused > 0 ? serializeError(engine.lockRefused(err, writes, lockWaitBound)) : undefined,
            catalogChanged: false,
            stats: engine.stats(),
            ms: waited,
          });
          break;
        }
        post({
          type: 'batch-failed',
          id: message.id,
          error: serializeError(err),
          catalogChanged: engine.catalogVersion() !== catalogBefore,
          stats: engine.stats(),
          ms: performance.now() - started,
        });
      }
      break;
    }
    case 'close':
      engine.close();
      post({ type: 'closed' });
      port.close();
      break;
  }
});
