// The change log on SQLite (the change feed's outbox, src/core/change-feed.ts): each relation write
// appends its event with the same connection inside its own savepoint, so an event commits exactly
// when its change does, and a write undone (a failed call, a failed batch) leaves no event. SQLite
// has one writer at a time, so `seq` (AUTOINCREMENT: never reused, even after every event was
// pruned) is commit order. With the feed off nothing is written.
import type {
  ChangeCall,
  ChangeEvent,
  ChangeFilter,
  ChangePage,
  PruneInput,
} from '../../core/change-feed.js';
import { FILTER_SCAN_WINDOW } from '../../core/change-feed.js';
import type { RelationType, Weights } from '../../core/model.js';
import { type EventRow, toChangeEvent } from '../feed-rows.js';
import { KIND } from './sqlite-layout.js';

function toEvent(row: EventRow<string>): ChangeEvent {
  return toChangeEvent(row, (json) => JSON.parse(json) as Weights);
}

import type { Statements, Stmt } from './sqlite-statements.js';

const COLUMNS = 'seq, at, call, rel_id, profile_a, db_a, profile_b, db_b, before, after';

/** Weights as the log stores them: JSON text (given as text when the caller has it already). */
type WeightsText = string | Weights | null;

function text(weights: WeightsText): string | null {
  return weights === null || typeof weights === 'string' ? weights : JSON.stringify(weights);
}

export class SqliteChangeLog {
  private readonly insert: Stmt;
  private readonly insertTypeDelete: Stmt;
  private readonly readAll: Stmt<EventRow<string>>;
  private readonly readWindow: Stmt<EventRow<string>>;
  private readonly bounds: Stmt<{ oldest: number | null; newest: number | null; pruned: number }>;
  private readonly pruneAge: Stmt;
  private readonly pruneCount: Stmt;
  private readonly setPruned: Stmt;

  constructor(
    statements: Statements,
    /** Whether events are written (TIES_FEED); reads work either way. */
    readonly enabled: boolean,
  ) {
    const s = statements;
    this.insert = s.hot(
      'changeInsert',
      `INSERT INTO change_log (at, call, rel_id, profile_a, db_a, profile_b, db_b, before, after)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // One event per relation of a deleted type, written by SQL from the rows about to go.
    this.insertTypeDelete = s.cold(
      `INSERT INTO change_log (at, call, rel_id, profile_a, db_a, profile_b, db_b, before, after)
       SELECT ?, 'relations/types/delete', rel_id, lower(hex(a)), ?, lower(hex(b)), ?, weights, NULL
         FROM relations_a WHERE rel_id = ? AND kind = ${KIND.relation} ORDER BY a, b`,
    );
    this.readAll = s.hot<EventRow<string>>(
      'changeRead',
      `SELECT ${COLUMNS} FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?`,
    );
    // With a filter: at most FILTER_SCAN_WINDOW seqs looked at (the primary key's range).
    this.readWindow = s.hot<EventRow<string>>(
      'changeReadFiltered',
      `SELECT ${COLUMNS} FROM change_log
        WHERE seq > ? AND seq <= ? AND (? IS NULL OR rel_id = ?) AND (? IS NULL OR profile_a = ? OR profile_b = ?)
        ORDER BY seq LIMIT ?`,
    );
    this.bounds = s.hot(
      'changeBounds',
      `SELECT (SELECT min(seq) FROM change_log) AS oldest, (SELECT max(seq) FROM change_log) AS newest,
              pruned_through AS pruned FROM change_state WHERE id = 1`,
    );
    // The oldest events first, a chunk at a time; the age test only inside the chunk, so a log
    // with nothing to prune is never scanned.
    this.pruneAge = s.cold(
      `DELETE FROM change_log WHERE seq IN (
         SELECT seq FROM (SELECT seq, at FROM change_log ORDER BY seq LIMIT ?) WHERE at < ?)
       RETURNING seq`,
    );
    this.pruneCount = s.cold(
      `DELETE FROM change_log WHERE seq IN (
         SELECT seq FROM change_log WHERE seq <= (SELECT max(seq) FROM change_log) - ? ORDER BY seq LIMIT ?)
       RETURNING seq`,
    );
    this.setPruned = s.cold('UPDATE change_state SET pruned_through = max(pruned_through, ?)');
  }

  /** Appends one event (inside the caller's savepoint). */
  append(
    call: ChangeCall,
    type: RelationType,
    a: string,
    b: string,
    before: WeightsText,
    after: WeightsText,
    at: string,
  ): void {
    if (!this.enabled) return;
    this.insert.run(at, call, type.relId, a, type.dbA, b, type.dbB, text(before), text(after));
  }

  /** One event per relation of a type about to be deleted. */
  appendTypeDelete(type: RelationType, at: string): void {
    if (!this.enabled) return;
    this.insertTypeDelete.run(at, type.dbA, type.dbB, type.relId);
  }

  read(after: number, limit: number, filter: ChangeFilter): ChangePage {
    const bounds = this.bounds.get()!;
    const newest = bounds.newest ?? bounds.pruned;
    const start = Math.max(0, after);
    let rows: EventRow<string>[];
    let scannedTo: number;
    if (filter.relId === undefined && filter.profileId === undefined) {
      rows = this.readAll.all(start, limit);
      scannedTo = newest;
    } else {
      scannedTo = Math.min(newest, start + FILTER_SCAN_WINDOW);
      const relId = filter.relId ?? null;
      const profile = filter.profileId ?? null;
      rows = this.readWindow.all(start, scannedTo, relId, relId, profile, profile, profile, limit);
    }
    const events = rows.map(toEvent);
    const full = events.length >= limit;
    const lastSeq = full ? events[events.length - 1]!.seq : Math.max(start, scannedTo);
    return { events, oldestSeq: bounds.oldest, lastSeq, prunedThrough: bounds.pruned, headSeq: newest };
  }

  /** Deletes at most input.maxRows of the oldest events past the retention (inside a write). */
  prune(input: PruneInput): number {
    let gone: { seq: number }[] = [];
    if (input.keepLast !== null) {
      gone = this.pruneCount.all(input.keepLast, input.maxRows) as { seq: number }[];
    }
    if (gone.length < input.maxRows && input.olderThan !== null) {
      gone = gone.concat(
        this.pruneAge.all(input.maxRows - gone.length, input.olderThan) as { seq: number }[],
      );
    }
    if (gone.length === 0) return 0;
    let top = 0;
    for (const row of gone) top = Math.max(top, row.seq);
    this.setPruned.run(top);
    return gone.length;
  }
}
