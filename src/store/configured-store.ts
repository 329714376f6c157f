// The store the settings name, opened as every command opens it. Kept apart from server.ts so that
// commands that only need the store (ties import, ties token) do not load the HTTP server's
// modules (Fastify, metrics, outbound): ~0.5 s of CPU at every start of such a command.
import type { StoreConfig } from '../config.js';
import type { Store } from '../core/store.js';
import { openStore, type StoreLogger } from './open-store.js';

/** Opens the store the store settings name; every command that opens one comes through here. */
export function openConfiguredStore(config: StoreConfig, logger?: StoreLogger): Promise<Store> {
  return openStore(config.db, logger, {
    sqliteWriter: config.sqliteWriter,
    adoptForeign: config.adoptDb,
    sqliteBusyTimeoutMs: config.sqliteBusyTimeoutMs,
    sqliteCacheMb: config.sqliteCacheMb,
    pgPoolMax: config.pgPoolMax,
    pgStatementTimeoutMs: config.pgStatementTimeoutMs,
    changeFeed: config.feed === 'on',
  });
}
