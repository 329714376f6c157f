// When and how long the client waits before sending a call again: only after 429 (rate limited) and
// 503 (store unavailable) — answers that guarantee the call changed nothing — with exponential
// backoff, jitter, and the server's Retry-After as a floor.

export interface RetryOptions {
  /** Sends in total, the first one included (default 3). */
  readonly attempts?: number;
  /** The first backoff; each further one doubles (default 100 ms). */
  readonly baseDelayMs?: number;
  /**
   * The longest wait between two sends (default 5000 ms). A Retry-After asking for longer ends the
   * retries: the error is thrown rather than the caller kept waiting past what it allowed.
   */
  readonly maxDelayMs?: number;
}

export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** Envelope codes after which a call is sent again: both mean the call was not applied. */
export const RETRYABLE_CODES: ReadonlySet<number> = new Set([429, 503]);

export const NO_RETRY: RetryPolicy = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

export function retryPolicy(options: RetryOptions | boolean | undefined): RetryPolicy {
  if (!options) return NO_RETRY;
  const o = options === true ? {} : options;
  const attempts = o.attempts ?? 3;
  const baseDelayMs = o.baseDelayMs ?? 100;
  const maxDelayMs = o.maxDelayMs ?? 5000;
  if (!Number.isInteger(attempts) || attempts < 1)
    throw new RangeError('retry.attempts: expected an integer ≥ 1');
  if (!(baseDelayMs >= 0)) throw new RangeError('retry.baseDelayMs: expected a number ≥ 0');
  if (!(maxDelayMs >= 0)) throw new RangeError('retry.maxDelayMs: expected a number ≥ 0');
  return { attempts, baseDelayMs, maxDelayMs };
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The wait before send number `attempt + 1` (attempt counts from 1), or undefined to stop.
 * "Equal jitter": half the exponential step fixed, half random, so that clients rejected together
 * do not come back together, yet no wait collapses to zero.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  if (attempt >= policy.attempts) return undefined;
  if (retryAfterMs !== undefined && retryAfterMs > policy.maxDelayMs) return undefined;
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const backoff = step / 2 + random() * (step / 2);
  return Math.max(backoff, retryAfterMs ?? 0);
}
