// Retry delays of the outbound senders: exponential backoff with full jitter (AWS Architecture
// Blog, "Exponential Backoff and Jitter"): attempt n waits a uniformly random time in
// [0, min(cap, base · 2^(n−1))], so many senders retrying one receiver spread out instead of
// arriving together.

/** The settings TIES_OUTBOUND_RETRY_BASE_MS and TIES_OUTBOUND_RETRY_MAX_MS (src/config.ts). */
export interface BackoffPolicy {
  /** The first retry waits up to this long (ms). */
  readonly baseMs: number;
  /** No retry waits longer than this (ms). */
  readonly capMs: number;
}

/** The delay before retry number `attempt` (1 for the first retry). */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 40));
  return Math.floor(random() * ceiling);
}
