// The SQLite store's defaults that the settings (src/config.ts) name, kept apart from the connection
// module so that naming them loads neither better-sqlite3 nor the migrations.

/** How long a write waits for another process's write lock before it answers 503 (ms). */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/**
 * SQLite's page cache per connection, MiB (TIES_SQLITE_CACHE_MB). It holds the B-tree pages a call
 * reads; a page past it comes from the OS's file cache (a system call and a copy) or the disk.
 */
export const DEFAULT_CACHE_MB = 32;
