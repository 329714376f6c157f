// The aggregate ledger: what get_counter and total_count read (A's total and per-property counts
// and sums, B's count, and A's top entries when A keeps them as rows), kept in step with every
// relation write. Changes are recorded per write, kept only if the write succeeds, merged per row
// across a group-commit batch and applied profile by profile, in key order, just before COMMIT.
import BetterSqlite3 from 'better-sqlite3';
import { TiesError } from '../../core/errors.js';
import type { PropertyDef, RelationType, Weights, WeightValue } from '../../core/model.js';
import { isNumeric } from '../../core/property-types.js';
import { KIND, RELATION_KEY, TOP_ROWS, TOTAL_KEY, type TopRowsThreshold } from './sqlite-layout.js';
import { mergedTops, type PendingA, PendingAggregates } from './sqlite-pending-aggregates.js';
import type { Statements, Stmt } from './sqlite-statements.js';

/** The aggregate changes of one running write; see AggregateLedger.beginWrite. */
export interface WriteScope {
  /** The write's own changes; unset for a direct write, whose changes go straight into the batch's. */
  readonly pending: PendingAggregates | undefined;
  readonly outer: WriteScope | undefined;
}

/** Which sides of a relation a change counts for (a profile being deleted keeps none of its own). */
export interface Sides {
  readonly a: boolean;
  readonly b: boolean;
}
const BOTH_SIDES: Sides = { a: true, b: true };

/** A weight as stored, read without ever reaching Object.prototype (a property may be named toString). */
function own(weights: Weights, name: string): WeightValue | undefined {
  return Object.hasOwn(weights, name) ? weights[name] : undefined;
}

/** Whether get_counter reports a top for the property. */
export function keepsTop(property: PropertyDef): boolean {
  return property.top > 0 && isNumeric(property.type);
}

export function keepsSum(property: PropertyDef): boolean {
  return property.sum && isNumeric(property.type);
}

function infiniteSum(property: string): TiesError {
  return new TiesError('INT_OVERFLOW', { property, result: "Infinity (the sum over profile A's relations)" });
}

/** A numeric weight as SQLite should hold it: ints as INTEGER (BigInt binds so), floats as REAL. */
function bindNumber(property: PropertyDef, value: WeightValue): bigint | number {
  return property.type === 'int' ? BigInt(value as number) : (value as number);
}

const A = `rel_id = ? AND a = unhex(?)`;

export class AggregateLedger {
  /**
   * Changes of the batch's successful writes, merged per row and applied in key order just
   * before COMMIT: a profile's rows share pages, and a hot profile's rows are written once per
   * batch rather than once per write. Nothing reads them in between: reads run between batches,
   * and the writes that read aggregates apply them first.
   */
  private readonly pending = new PendingAggregates();
  /** The running write's own changes; unset outside a write. */
  private scope: WriteScope | undefined;

  private readonly statAdd: Stmt<number>;
  private readonly totalAdd: Stmt<{ count: number; tops: number }>;
  private readonly totalGet: Stmt<{ count: number; tops: number }>;
  private readonly totalDrop: Stmt;
  private readonly setTops: Stmt;
  private readonly statAddFloat: Stmt<{ count: number; sum: number; sum_c: number }>;
  private readonly statDrop: Stmt;
  private readonly countAddB: Stmt<number>;
  private readonly countDropB: Stmt;
  private readonly statDeleteProp: Stmt;
  private readonly statRebuild: Stmt;
  private readonly topInsert: Stmt;
  private readonly topDelete: Stmt;
  private readonly topsDeleteOfA: Stmt;
  private readonly topsBuildOfA: Stmt;
  private readonly topsDeleteProp: Stmt;
  private readonly topsRebuildProp: Stmt;

  constructor(
    statements: Statements,
    private readonly threshold: TopRowsThreshold = TOP_ROWS,
  ) {
    const s = statements;
    const aggregate = `INSERT INTO relations_a (rel_id, a, kind, prop, value, b, count, sum, sum_c)
      VALUES (?, unhex(?), ${KIND.aggregate}, ?, 0, x'', ?, ?, 0.0)
      ON CONFLICT (rel_id, a, kind, prop, value, b)`;
    // Counts, and int sums (bound as BigInt so that they stay INTEGER); sum stays NULL when not kept.
    this.statAdd = s
      .cold<number>(
        `${aggregate} DO UPDATE SET count = count + excluded.count, sum = sum + excluded.sum RETURNING count`,
      )
      .pluck();
    // Float sums with Kahan-Neumaier compensation; every expression reads the row's old values.
    this.statAddFloat = s.cold<{ count: number; sum: number; sum_c: number }>(
      `${aggregate} DO UPDATE SET count = count + excluded.count, sum = sum + excluded.sum,
         sum_c = sum_c + CASE WHEN abs(sum) >= abs(excluded.sum)
           THEN (sum - (sum + excluded.sum)) + excluded.sum
           ELSE (excluded.sum - (sum + excluded.sum)) + sum END
       RETURNING count, sum, sum_c`,
    );
    this.statDrop = s.hot(
      'statDrop',
      `DELETE FROM relations_a WHERE ${A} AND kind = ${KIND.aggregate} AND prop = ? AND value = 0 AND b = x''
         AND count <= 0`,
    );
    this.totalAdd = s.cold<{ count: number; tops: number }>(
      `INSERT INTO relations_a (rel_id, a, kind, prop, value, b, count, tops)
       VALUES (?, unhex(?), ${KIND.aggregate}, '', 0, x'', ?, 0)
       ON CONFLICT (rel_id, a, kind, prop, value, b) DO UPDATE SET count = count + excluded.count
       RETURNING count, tops`,
    );
    this.totalGet = s.hot<{ count: number; tops: number }>(
      'totalGet',
      `SELECT count, tops FROM relations_a WHERE ${A} AND ${TOTAL_KEY}`,
    );
    this.totalDrop = s.hot('totalDrop', `DELETE FROM relations_a WHERE ${A} AND ${TOTAL_KEY}`);
    this.setTops = s.hot('setTops', `UPDATE relations_a SET tops = ? WHERE ${A} AND ${TOTAL_KEY}`);
    this.countAddB = s
      .cold<number>(
        `INSERT INTO relations_b (rel_id, b, a, count) VALUES (?, unhex(?), x'', ?)
         ON CONFLICT (rel_id, b, a) DO UPDATE SET count = count + excluded.count RETURNING count`,
      )
      .pluck();
    this.countDropB = s.hot(
      'countDropB',
      "DELETE FROM relations_b WHERE rel_id = ? AND b = unhex(?) AND a = x'' AND count <= 0",
    );
    this.statDeleteProp = s.cold(
      `DELETE FROM relations_a WHERE rel_id = ? AND kind = ${KIND.aggregate} AND prop = ?`,
    );
    // SQLite's sum() is itself compensated for floats, so a rebuilt row starts with sum_c = 0.
    this.statRebuild = s.cold(
      `INSERT INTO relations_a (rel_id, a, kind, prop, value, b, count, sum, sum_c)
       SELECT rel_id, a, ${KIND.aggregate}, ?, 0, x'', count(*),
              CASE WHEN ? THEN sum(json_extract(weights, ?)) END, 0.0
       FROM relations_a WHERE rel_id = ? AND ${RELATION_KEY} AND json_type(weights, ?) IS NOT NULL
       GROUP BY a`,
    );
    const top = `${A} AND kind = ${KIND.top}`;
    this.topInsert = s.cold(
      `INSERT INTO relations_a (rel_id, a, kind, prop, value, b) VALUES (?, unhex(?), ${KIND.top}, ?, ?, unhex(?))`,
    );
    this.topDelete = s.hot(
      'topDelete',
      `DELETE FROM relations_a WHERE ${top} AND prop = ? AND value = ? AND b = unhex(?)`,
    );
    this.topsDeleteOfA = s.hot('topsDeleteOfA', `DELETE FROM relations_a WHERE ${top}`);
    // Every numeric value of one property of A's relations, as get_counter orders them.
    this.topsBuildOfA = s.hot(
      'topsBuildOfA',
      `INSERT INTO relations_a (rel_id, a, kind, prop, value, b)
       SELECT rel_id, a, ${KIND.top}, ?, json_extract(weights, ?), b FROM relations_a
       WHERE ${A} AND ${RELATION_KEY} AND json_type(weights, ?) IN ('integer', 'real')`,
    );
    this.topsDeleteProp = s.cold(
      `DELETE FROM relations_a WHERE rel_id = ? AND kind = ${KIND.top} AND prop = ?`,
    );
    this.topsRebuildProp = s.cold(
      `INSERT INTO relations_a (rel_id, a, kind, prop, value, b)
       SELECT r.rel_id, r.a, ${KIND.top}, ?, json_extract(r.weights, ?), r.b
       FROM relations_a t JOIN relations_a r
         ON r.rel_id = t.rel_id AND r.a = t.a AND r.kind = ${KIND.relation} AND r.prop = '' AND r.value = 0
       WHERE t.rel_id = ? AND t.kind = ${KIND.aggregate} AND t.prop = '' AND t.tops = 1
         AND json_type(r.weights, ?) IN ('integer', 'real')`,
    );
  }

  // -------------------------------------------------------------------------------------------
  // The write scope (used by SqliteTransactions.write)

  /**
   * Starts recording a write's changes; `endWrite` restores the enclosing scope. A `direct` write
   * (one that is never undone alone) merges its changes into the batch's at once: no lists to keep.
   */
  beginWrite(direct = false): WriteScope {
    const scope: WriteScope = { pending: direct ? undefined : new PendingAggregates(), outer: this.scope };
    this.scope = scope;
    return scope;
  }

  endWrite(scope: WriteScope): void {
    this.scope = scope.outer;
  }

  /** Merges a successful write's changes into the batch's pending ones. */
  keep(scope: WriteScope): void {
    scope.pending?.mergeInto(this.pending);
  }

  /** Applies a successful write's changes at once (a write outside a batch). */
  applyNow(scope: WriteScope): void {
    if (scope.pending) this.apply(scope.pending);
  }

  /** Applies the batch's pending changes, in key order. */
  applyPending(): void {
    if (this.pending.empty) return;
    this.apply(this.pending);
  }

  /** Forgets the pending changes of a batch that rolled back. */
  discardPending(): void {
    this.pending.clear();
  }

  /** Where a change goes: the write's own changes, the batch's, or (outside a write) a set applied at once. */
  private target(): PendingAggregates {
    const scope = this.scope;
    if (scope === undefined) return new PendingAggregates();
    return scope.pending ?? this.pending;
  }

  /** Applies a change made outside any write at once; inside one it waits (see `pending`). */
  private settle(target: PendingAggregates): void {
    if (this.scope === undefined) this.apply(target);
  }

  /** Applies (and empties) a set of changes: A by A in key order, then B's counts. */
  private apply(changes: PendingAggregates): void {
    const as = changes.sortedAs();
    const bs = changes.sortedBs();
    changes.clear();
    for (const p of as) this.applyA(p);
    for (const c of bs) {
      if (c.count === 0) continue;
      const left = this.countAddB.get(c.type.relId, c.b, c.count)!;
      if (left <= 0) this.countDropB.run(c.type.relId, c.b);
    }
  }

  /**
   * A's property rows, then its total (if it changed), then its top rows as the new total asks:
   * kept and changed, built from A's relations (which already hold this batch's changes), or dropped.
   */
  private applyA(p: PendingA): void {
    const { type, a } = p;
    const relId = type.relId;
    for (let i = 0; i < p.props.length; i++) {
      const c = p.props[i];
      if (c === undefined || (c.count === 0 && (c.sum === null || c.sum === 0n))) continue;
      const prop = type.properties[i]!.name;
      const left = this.statAdd.get(relId, a, prop, c.count, c.sum)!;
      if (left <= 0) this.statDrop.run(relId, a, prop);
    }
    // With neither a total change nor top changes, nothing more to do.
    if (!p.totalTouched && p.tops === undefined) return;
    const row =
      p.totalTouched && p.total !== 0 ? this.totalAdd.get(relId, a, p.total) : this.totalGet.get(relId, a);
    if (!row || row.count <= 0) {
      if (row) this.totalDrop.run(relId, a);
      if (row?.tops) this.topsDeleteOfA.run(relId, a);
      return;
    }
    if (row.tops && row.count <= this.threshold.until) {
      this.topsDeleteOfA.run(relId, a);
      this.setTops.run(0, relId, a);
    } else if (!row.tops && row.count > this.threshold.from) {
      // Built from A's relations as they now are, so this batch's top changes are already in.
      this.setTops.run(1, relId, a);
      for (const property of type.properties) {
        if (!keepsTop(property)) continue;
        const path = `$.${property.name}`;
        this.topsBuildOfA.run(property.name, path, relId, a, path);
      }
    } else if (row.tops && p.tops) {
      for (const c of mergedTops(p.tops)) {
        if (c.change < 0) this.topDelete.run(relId, a, c.prop, c.value, c.b);
        else if (c.change > 0) this.topInsert.run(relId, a, c.prop, c.value, c.b);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Changes

  /**
   * Moves one relation's contribution to the aggregates from `before` to `after` (null: the
   * relation does not exist on that side of the change). `sides` skips a profile being deleted.
   */
  applyStats(
    type: RelationType,
    a: string,
    b: string,
    before: Weights | null,
    after: Weights | null,
    sides: Sides = BOTH_SIDES,
  ): void {
    const target = this.target();
    const total = (after ? 1 : 0) - (before ? 1 : 0);
    if (total !== 0) {
      if (sides.a) target.addTotal(type, a, total);
      if (sides.b) target.addB(type, b, total);
    }
    if (sides.a) {
      const properties = type.properties;
      for (let i = 0; i < properties.length; i++) {
        const property = properties[i]!;
        const old = before ? own(before, property.name) : undefined;
        const now = after ? own(after, property.name) : undefined;
        if (old === undefined && now === undefined) continue;
        if (keepsTop(property) && old !== now) {
          if (old !== undefined)
            target.addTop(type, a, { prop: property.name, value: bindNumber(property, old), b, change: -1 });
          if (now !== undefined)
            target.addTop(type, a, { prop: property.name, value: bindNumber(property, now), b, change: 1 });
        }
        const count = (now !== undefined ? 1 : 0) - (old !== undefined ? 1 : 0);
        if (!keepsSum(property)) {
          if (count !== 0) target.addProp(type, a, i, count, null);
        } else if (property.type === 'int') {
          const sum = BigInt((now as number | undefined) ?? 0) - BigInt((old as number | undefined) ?? 0);
          if (count !== 0 || sum !== 0n) target.addProp(type, a, i, count, sum);
        } else if (old !== now) {
          // Float: take the old value away and add the new one as two compensated steps, rather
          // than adding a rounded difference; in this order a value replaced by a similar one never
          // takes the sum past the double range on the way.
          if (old !== undefined)
            this.bumpFloat(type.relId, a, property.name, now === undefined ? -1 : 0, -(old as number));
          if (now !== undefined)
            this.bumpFloat(type.relId, a, property.name, old === undefined ? 1 : 0, now as number);
        }
      }
    }
    this.settle(target);
  }

  /** One fewer relation initiated by B (its A is being deleted, with all of A's own aggregates). */
  dropInitiated(type: RelationType, b: string): void {
    const target = this.target();
    target.addB(type, b, -1);
    this.settle(target);
  }

  /**
   * A float sum, applied at once (its compensation needs the row). One that would leave the
   * double range refuses the write (400, nothing changed), as a float value that would become
   * infinite does: an infinite sum cannot be answered, and its compensation turns NaN, which
   * SQLite stores as NULL.
   */
  private bumpFloat(relId: number, a: string, prop: string, count: number, sum: number): void {
    let row: { count: number; sum: number; sum_c: number };
    try {
      row = this.statAddFloat.get(relId, a, prop, count, sum)!;
    } catch (err) {
      if (err instanceof BetterSqlite3.SqliteError && err.code.startsWith('SQLITE_CONSTRAINT')) {
        throw infiniteSum(prop);
      }
      throw err;
    }
    // NaN (inf − inf in the compensation) is stored as NULL, which isFinite refuses too.
    if (!Number.isFinite(row.sum) || !Number.isFinite(row.sum_c)) throw infiniteSum(prop);
    if (row.count <= 0) this.statDrop.run(relId, a, prop);
  }

  // -------------------------------------------------------------------------------------------
  // Whole properties

  /**
   * Recomputes a property's aggregates from the relations themselves: counts and sums, and the
   * top rows of the profiles that keep them. Reads only this type's relations.
   */
  rebuildProperty(type: RelationType, property: PropertyDef): void {
    const path = `$.${property.name}`;
    this.statDeleteProp.run(type.relId, property.name);
    this.statRebuild.run(property.name, keepsSum(property) ? 1 : 0, path, type.relId, path);
    this.topsDeleteProp.run(type.relId, property.name);
    if (keepsTop(property)) this.topsRebuildProp.run(property.name, path, type.relId, path);
  }
}
