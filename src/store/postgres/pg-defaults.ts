// The PostgreSQL store's defaults that the settings (src/config.ts) and `ties import --help` name,
// kept apart from postgres-store.ts so that naming them does not load the driver (~0.15 s of CPU).

export const DEFAULT_POOL_MAX = 10;
/** Items per ties_attach_many call for `ties import` (PostgresStore.bulkChunk says why). */
export const PG_BULK_CHUNK = 8000;
/** What a long `ties import`'s chunks grow to (PostgresStore.bulkChunkMax says why). */
export const PG_BULK_CHUNK_MAX = 32_000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
