// Waiting for another process's write lock (a second server, `ties import`, an operator's sqlite3
// shell) without blocking: a batch whose BEGIN IMMEDIATE finds the lock held (WriteLockBusy) did
// nothing; its writes wait, each until its own deadline (queued + TIES_SQLITE_BUSY_TIMEOUT_MS),
// and are then refused with 503. The inline store tries again from a timer with this backoff, so
// reads and /health are answered meanwhile; the worker store lets SQLite's busy handler wait in
// the writer thread, for what is left of the oldest write's time.
import type { PendingWrite } from './sqlite-base-store.js';

/** Delays between tries: short first (most locks are held for a commit), then every 50 ms. */
const BACKOFF_MS = [1, 2, 5, 10, 20, 50] as const;

/** How long to wait before try number `tries` + 1 of a batch that found the lock held. */
export function lockRetryDelay(tries: number): number {
  return BACKOFF_MS[Math.min(tries, BACKOFF_MS.length - 1)]!;
}

/**
 * How many writes at the head of `batch` have waited their longest by `now`. Deadlines grow with
 * the queue's order (same bound, later queued), so those are a prefix.
 */
export function expiredCount(batch: readonly PendingWrite[], now: number): number {
  let n = 0;
  while (n < batch.length && batch[n]!.deadline <= now) n++;
  return n;
}
