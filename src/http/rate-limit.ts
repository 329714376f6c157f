// Per-token rate limit (SPEC §1, off by default): a token bucket per token id, refilled
// continuously, holding at most one second's worth of calls.
export class RateLimiter {
  private readonly buckets = new Map<number, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one call from the token's bucket; false when it is empty. */
  take(tokenId: number): boolean {
    const t = this.now();
    const bucket = this.buckets.get(tokenId) ?? { tokens: this.perSecond, at: t };
    bucket.tokens = Math.min(this.perSecond, bucket.tokens + ((t - bucket.at) / 1000) * this.perSecond);
    bucket.at = t;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(tokenId, bucket);
    return allowed;
  }
}
