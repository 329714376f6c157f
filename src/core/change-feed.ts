// The change feed (issue #16): every committed relation change has an event in the store's change
// log, appended in the change's own transaction (outbox). This file holds the event types shared by
// every reader of the log (relations/changes, the SSE stream, webhooks, AMQP) and ChangeFeed, the
// core service that reads the log, checks cursors and lets a reader wait for new events.
import { badParameter, TiesError } from './errors.js';
import { PROFILE_ID_PATTERN } from './ids.js';
import type { Weights } from './model.js';
import type { Store } from './store.js';

/** The calls that change relations; batch items carry the batch call. */
export type ChangeCall =
  | 'relations/attach'
  | 'relations/detach'
  | 'relations/strengthen'
  | 'relations/edit'
  | 'relations/attach_batch'
  | 'relations/strengthen_batch'
  | 'profiles/delete'
  | 'relations/types/delete';

export const CHANGE_CALLS: readonly ChangeCall[] = [
  'relations/attach',
  'relations/detach',
  'relations/strengthen',
  'relations/edit',
  'relations/attach_batch',
  'relations/strengthen_batch',
  'profiles/delete',
  'relations/types/delete',
];

export interface ChangeEvent {
  /** Strictly increasing in commit order as readers see it: a reader never sees a smaller one appear later. */
  readonly seq: number;
  /** ISO-8601 UTC time of the change. */
  readonly at: string;
  /** The call that made it (batch items carry the batch call). */
  readonly call: ChangeCall;
  readonly relId: number;
  readonly profileA: string;
  readonly dbA: number;
  readonly profileB: string;
  readonly dbB: number;
  /** null when the relation did not exist before (attach, created by strengthen or edit). */
  readonly before: Weights | null;
  /** null when the relation no longer exists (detach, deletions). */
  readonly after: Weights | null;
}

export interface ChangeFilter {
  readonly relId?: number | undefined;
  /** Events where this profile is A or B. */
  readonly profileId?: string | undefined;
}

export interface ChangePage {
  /** Events with seq > after, ascending, at most `limit`. */
  readonly events: readonly ChangeEvent[];
  /** The oldest event the log still holds; null when it is empty. */
  readonly oldestSeq: number | null;
  /**
   * Where the next read continues (its `after`): the last event answered when the page is full,
   * otherwise everything readable up to here was looked at (so a filter that matched nothing still
   * moves the cursor on). Never below the `after` asked for.
   */
  readonly lastSeq: number;
  /** Events up to this seq may have been pruned (0: none ever was); a cursor below it has expired. */
  readonly prunedThrough: number;
  /**
   * The newest seq readable now (0: none ever was): a cursor here reads only events committed
   * later. With a filter it is still the whole log's head, so a reader can tell how far behind it is.
   */
  readonly headSeq: number;
}

/** `after=latest`: start at the head of the log (events committed from now on), not at the oldest kept. */
export const LATEST = 'latest';

/** The parameters of relations/changes, validated by the schema (ranges) and here (the profile id). */
export interface ChangesQuery {
  /** A seq, or LATEST: the head of the log when the call arrives. */
  readonly after?: number | typeof LATEST | undefined;
  readonly limit?: number | undefined;
  readonly relId?: number | undefined;
  readonly profileId?: string | undefined;
  readonly waitMs?: number | undefined;
}

/** How long events are kept; null: no limit of that kind. */
export interface ChangeRetention {
  readonly maxAgeMs: number | null;
  readonly maxCount: number | null;
}

/** One pruning step: at most `maxRows` of the oldest events that are past the retention. */
export interface PruneInput {
  /** Events older than this (ISO time) go. */
  readonly olderThan: string | null;
  /** Keep at most this many of the newest events. */
  readonly keepLast: number | null;
  readonly maxRows: number;
}

export const MAX_CHANGES_LIMIT = 1000;
export const DEFAULT_CHANGES_LIMIT = 100;
export const MAX_WAIT_MS = 30_000;
/** Events looked at per read with a filter: a rare filter answers an empty page that moves the cursor on. */
export const FILTER_SCAN_WINDOW = 10_000;

export interface ChangeFeedOptions {
  /**
   * Whether changes are logged (TIES_FEED); when off, the store writes no event and every read of
   * the feed (relations/changes, the stream, webhooks/create) answers FEED_DISABLED naming the setting.
   */
  readonly enabled: boolean;
  readonly retention: ChangeRetention;
  /** How often a waiting reader looks again for events written by other processes (ms). */
  readonly pollMs?: number | undefined;
  /** How often pruning runs (ms). */
  readonly pruneEveryMs?: number | undefined;
  readonly now?: (() => number) | undefined;
  /** Reports a pruning step that failed (the next one tries again). */
  readonly onPruneError?: ((err: unknown) => void) | undefined;
}

export const DEFAULT_RETENTION: ChangeRetention = { maxAgeMs: 7 * 24 * 3600 * 1000, maxCount: 10_000_000 };
const DEFAULT_POLL_MS = 1000;
const DEFAULT_PRUNE_EVERY_MS = 10_000;
/** Rows one pruning statement deletes: short transactions, so writes never wait long behind one. */
export const PRUNE_CHUNK = 1000;

/** A change feed that is off: what Ties uses when built without options. */
export const FEED_OFF: ChangeFeedOptions = { enabled: false, retention: DEFAULT_RETENTION };

export class ChangeFeed {
  private readonly wakers = new Set<() => void>();
  private pruneTimer: NodeJS.Timeout | undefined;
  private pruning: Promise<void> | undefined;
  private stopWatching: (() => void) | undefined;
  private isClosed = false;

  constructor(
    private readonly store: Store,
    readonly options: ChangeFeedOptions,
  ) {
    this.stopWatching = store.onChangesWritten?.(() => this.wake());
  }

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** Set by close() (a server stopping): waiters return at once, streams end. */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Refuses a read of the feed when it is off: a follower would otherwise wait for ever on a log
   * nothing writes to, with nothing telling it why (docs/decisions.md).
   */
  requireEnabled(call: string): void {
    if (!this.options.enabled) throw new TiesError('FEED_DISABLED', { call });
  }

  /** The newest seq readable now (0 on an empty log that never held an event). */
  async head(): Promise<number> {
    return (await this.store.readChanges(Number.MAX_SAFE_INTEGER, 1, {})).headSeq;
  }

  /** A cursor as a caller gives it: a seq, or LATEST (the head now). */
  async resolveAfter(after: number | typeof LATEST | undefined): Promise<number> {
    if (after === LATEST) return this.head();
    return after ?? 0;
  }

  /**
   * Events after a cursor. A cursor below what was pruned answers CURSOR_EXPIRED (410) rather than
   * silently skipping events; 0 means "from the oldest event kept".
   */
  async read(after: number, limit: number, filter: ChangeFilter = {}): Promise<ChangePage> {
    const page = await this.store.readChanges(after, Math.min(Math.max(1, limit), MAX_CHANGES_LIMIT), filter);
    if (after > 0 && after < page.prunedThrough) {
      throw new TiesError('CURSOR_EXPIRED', { after, oldest: page.prunedThrough });
    }
    return page;
  }

  /**
   * relations/changes: a page after the cursor; with none to answer and waitMs > 0, waits for
   * one (long-poll) and reads again.
   */
  async changes(p: ChangesQuery, signal?: AbortSignal): Promise<ChangePage> {
    this.requireEnabled('relations/changes');
    if (p.profileId !== undefined && !PROFILE_ID_PATTERN.test(p.profileId.toLowerCase())) {
      throw badParameter('profile_id', 'expected a profile id (24 hexadecimal characters)');
    }
    const after = await this.resolveAfter(p.after);
    const limit = p.limit ?? DEFAULT_CHANGES_LIMIT;
    const filter: ChangeFilter = { relId: p.relId, profileId: p.profileId?.toLowerCase() };
    const waitMs = Math.min(Math.max(0, p.waitMs ?? 0), MAX_WAIT_MS);
    const now = this.options.now ?? Date.now;
    const deadline = now() + waitMs;
    let cursor = after;
    for (;;) {
      const page = await this.read(cursor, limit, filter);
      const left = deadline - now();
      if (page.events.length > 0 || left <= 0 || signal?.aborted || this.isClosed) return page;
      // A filtered read may match nothing yet move the cursor on: wait from where it got to.
      cursor = page.lastSeq;
      await this.waitForChanges(cursor, left, signal);
    }
  }

  /**
   * Resolves when an event with seq > after may be readable, or at the timeout, or when `signal`
   * aborts. Writes of this process wake it at once; other processes' (several servers on one
   * PostgreSQL, `ties import`) are seen by looking again every pollMs.
   */
  async waitForChanges(after: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const now = this.options.now ?? Date.now;
    const deadline = now() + Math.max(0, timeoutMs);
    const pollMs = this.options.pollMs ?? DEFAULT_POLL_MS;
    for (;;) {
      if (signal?.aborted || this.isClosed) return;
      const page = await this.store.readChanges(after, 1, {});
      if (page.events.length > 0) return;
      const left = deadline - now();
      if (left <= 0) return;
      await this.sleep(Math.min(left, pollMs), signal);
    }
  }

  /** Starts pruning past the retention in the background (small deletes, one at a time). */
  startPruning(): void {
    if (this.pruneTimer || !this.options.enabled) return;
    const { maxAgeMs, maxCount } = this.options.retention;
    if (maxAgeMs === null && maxCount === null) return;
    this.pruneTimer = setInterval(() => {
      if (this.pruning) return;
      this.pruning = this.pruneNow().then(
        () => {
          this.pruning = undefined;
        },
        () => {
          this.pruning = undefined;
        },
      );
    }, this.options.pruneEveryMs ?? DEFAULT_PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  /** Prunes everything past the retention now, a chunk per transaction; answers how many events went. */
  async pruneNow(): Promise<number> {
    const { maxAgeMs, maxCount } = this.options.retention;
    const now = (this.options.now ?? Date.now)();
    const input: PruneInput = {
      olderThan: maxAgeMs === null ? null : new Date(now - maxAgeMs).toISOString(),
      keepLast: maxCount,
      maxRows: PRUNE_CHUNK,
    };
    let total = 0;
    try {
      for (;;) {
        if (this.isClosed) break;
        const n = await this.store.pruneChanges(input);
        total += n;
        if (n < PRUNE_CHUNK) break;
        // Let queued calls run between chunks.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      this.options.onPruneError?.(err);
    }
    return total;
  }

  /** Stops pruning and releases every waiter (they answer what they have). */
  async close(): Promise<void> {
    this.isClosed = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.pruneTimer = undefined;
    this.stopWatching?.();
    this.wake();
    await this.pruning;
  }

  private wake(): void {
    const wakers = [...this.wakers];
    this.wakers.clear();
    for (const w of wakers) w();
  }

  private sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
