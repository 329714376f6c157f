// The change log on PostgreSQL (the change feed's outbox, src/core/change-feed.ts): each writing
// function appends its events itself, last, in its own transaction (sql/functions/10-change-log.sql);
// this part reads pages of the log, prunes it, and tells local waiters that a write committed.
import type { ChangeEvent, ChangeFilter, ChangePage, PruneInput } from '../../core/change-feed.js';
import { FILTER_SCAN_WINDOW } from '../../core/change-feed.js';
import type { Weights } from '../../core/model.js';
import { type EventRow, toChangeEvent } from '../feed-rows.js';
import type { PgStatements } from './postgres-statements.js';

interface PageRow {
  events: EventRow<Weights>[];
  oldest: string | null;
  newest: string | null;
  pruned: string;
  scanned_to: string;
}

/**
 * How long a read waits for the writers that may still hold seqs below the horizon it read; past
 * that (a transaction left open), it answers up to the last horizon known settled instead.
 */
const HORIZON_WAIT_MS = 2000;

export class PostgresChanges {
  private readonly listeners = new Set<() => void>();
  /** The highest horizon seen settled: every seq up to it is committed or gone for good. */
  private settled = 0;

  constructor(private readonly db: PgStatements) {}

  async read(after: number, limit: number, filter: ChangeFilter): Promise<ChangePage> {
    const start = Math.max(0, Math.trunc(after));
    const upto = await this.settledHorizon();
    const row = await this.db.one<PageRow>({
      name: 'ties_read_changes',
      text: 'SELECT * FROM ties_read_changes($1, $2, $3, $4, $5, $6)',
      values: [start, upto, limit, filter.relId ?? null, filter.profileId ?? null, FILTER_SCAN_WINDOW],
    });
    const events: ChangeEvent[] = row.events.map((e) => toChangeEvent(e, (weights) => weights));
    const full = events.length >= limit;
    const pruned = Number(row.pruned);
    return {
      events,
      oldestSeq: row.oldest === null ? null : Number(row.oldest),
      lastSeq: full ? events[events.length - 1]!.seq : Math.max(start, Number(row.scanned_to)),
      prunedThrough: pruned,
      // What an unfiltered read looks at (ties_read_changes' scanned_to without a filter).
      headSeq: Math.min(row.newest === null ? pruned : Number(row.newest), Math.max(upto, pruned)),
    };
  }

  /**
   * Writers take seqs in parallel and commit in any order (see ties_feed_lock in
   * sql/functions/10-change-log.sql): the last seq taken is readable once the transactions that held
   * the feed lock when it was read have ended. Each read waits for them (milliseconds: they were
   * committing), polling with a growing pause.
   */
  private async settledHorizon(): Promise<number> {
    const candidate = await this.db.one<{ upto: string; holders: string[] }>({
      name: 'ties_feed_horizon',
      text: 'SELECT upto, holders FROM ties_feed_horizon()',
      values: [],
    });
    let holders = candidate.holders;
    const deadline = Date.now() + HORIZON_WAIT_MS;
    let pause = 1;
    while (holders.length > 0) {
      if (Date.now() >= deadline) return this.settled;
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 25);
      holders = (
        await this.db.one<{ still: string[] }>({
          name: 'ties_feed_unsettled',
          text: 'SELECT ties_feed_unsettled($1) AS still',
          values: [holders],
        })
      ).still;
    }
    this.settled = Math.max(this.settled, Number(candidate.upto));
    return this.settled;
  }

  async prune(input: PruneInput): Promise<number> {
    const row = await this.db.one<{ n: number }>({
      name: 'ties_prune_changes',
      text: 'SELECT ties_prune_changes($1, $2, $3) AS n',
      values: [input.olderThan, input.keepLast, input.maxRows],
    });
    return row.n;
  }

  onWritten(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Passes a write's answer through, telling waiters that events may have committed. */
  async written<T>(write: Promise<T>): Promise<T> {
    const result = await write;
    for (const listener of this.listeners) listener();
    return result;
  }
}
