// Entry of the SQLite store's writer thread (worker_threads): owns the write connection and applies
// each batch SqliteWorkerStore posts with SqliteEngine.runBatch, so that the commit and its fsync
// happen while the main thread keeps parsing requests.
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteEngine } from './sqlite-engine.js';
import type { StoreLogger } from './sqlite-errors.js';
import {
  type FromWorker,
  serializeError,
  type ToWorker,
  type WorkerOptions,
  type WorkerResult,
} from './sqlite-worker-protocol.js';

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
