// The aggregate ledger: what get_counter and total_count read (relation_stats: totals, per-property
// counts and sums; relation_tops: the values of properties that keep a top), kept in step with every
// relation write. Changes are recorded per write, kept only if the write succeeds, merged per row
// across a group-commit batch and applied in key order just before COMMIT.
import BetterSqlite3 from 'better-sqlite3';
import { TiesError } from '../../core/errors.js';
import type { PropertyDef, RelationType, Weights, WeightValue } from '../../core/model.js';
import { isNumeric } from '../../core/property-types.js';
import type { Statements, Stmt } from './sqlite-statements.js';

/** A change to one relation_stats row (a count, and an int sum when kept), merged per row. */
interface StatChange {
  /** The row's primary key as text, in the table's order. */
  readonly key: string;
  readonly relId: number;
  readonly profileId: string;
  readonly side: 'a' | 'b';
  readonly prop: string;
  count: number;
  sum: bigint | null;
}

/** A relation_tops row to insert (+1) or delete (−1); merged per row, the changes add up. */
interface TopChange {
  readonly key: string;
  readonly relId: number;
  readonly a: string;
  readonly prop: string;
  readonly value: bigint | number;
  readonly b: string;
  change: number;
}

/** The aggregate changes of one running write; see AggregateLedger.beginWrite. */
export interface WriteScope {
  readonly stats: StatChange[];
  readonly tops: TopChange[];
  readonly outer: WriteScope | undefined;
}

/** Which sides of a relation a change counts for (a profile being deleted keeps none of its own). */
export interface Sides {
  readonly a: boolean;
  readonly b: boolean;
}
const BOTH_SIDES: Sides = { a: true, b: true };

/** Rel ids in aggregate keys sort as SQLite orders the integers. */
const relKey = (relId: number) => relId.toString(36).padStart(8, '0');

function byKey(x: { readonly key: string }, y: { readonly key: string }): number {
  return x.key < y.key ? -1 : x.key > y.key ? 1 : 0;
}

/** A weight as stored, read without ever reaching Object.prototype (a property may be named toString). */
function own(weights: Weights, name: string): WeightValue | undefined {
  return Object.hasOwn(weights, name) ? weights[name] : undefined;
}

/** Whether get_counter reports a top for the property (and relation_tops holds its values). */
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

export class AggregateLedger {
  /**
   * Aggregate changes (counts, int sums, top rows) of the batch's successful writes, merged per
   * row and applied in key order just before COMMIT: neighbouring rows share pages, and a hot
   * profile's rows are written once per batch rather than once per write. Nothing reads them in
   * between: reads run between batches, and the writes that read aggregates apply them first.
   */
  private readonly pendingStats = new Map<string, StatChange>();
  private readonly pendingTops = new Map<string, TopChange>();
  /** The running write's own changes; unset outside a write. */
  private scope: WriteScope | undefined;

  private readonly statAdd: Stmt<number>;
  private readonly statAddFloat: Stmt<{ count: number; sum: number; sum_c: number }>;
  private readonly statDrop: Stmt;
  private readonly statDeleteProfile: Stmt;
  private readonly statDeleteType: Stmt;
  private readonly statDeleteProp: Stmt;
  private readonly statRebuild: Stmt;
  private readonly topInsert: Stmt;
  private readonly topDelete: Stmt;
  private readonly topDeleteByA: Stmt;
  private readonly topDeleteType: Stmt;
  private readonly topDeleteProp: Stmt;
  private readonly topRebuild: Stmt;

  constructor(statements: Statements) {
    const s = statements;
    // Counts, and int sums (bound as BigInt so that they stay INTEGER); sum stays NULL when not kept.
    this.statAdd = s
      .cold<number>(
        `INSERT INTO relation_stats (rel_id, profile_id, side, prop, count, sum, sum_c) VALUES (?, ?, ?, ?, ?, ?, 0.0)
         ON CONFLICT (rel_id, profile_id, side, prop)
         DO UPDATE SET count = count + excluded.count, sum = sum + excluded.sum
         RETURNING count`,
      )
      .pluck();
    // Float sums with Kahan-Neumaier compensation; every expression reads the row's old values.
    this.statAddFloat = s.cold<{ count: number; sum: number; sum_c: number }>(
      `INSERT INTO relation_stats (rel_id, profile_id, side, prop, count, sum, sum_c) VALUES (?, ?, ?, ?, ?, ?, 0.0)
       ON CONFLICT (rel_id, profile_id, side, prop)
       DO UPDATE SET count = count + excluded.count, sum = sum + excluded.sum,
         sum_c = sum_c + CASE WHEN abs(sum) >= abs(excluded.sum)
           THEN (sum - (sum + excluded.sum)) + excluded.sum
           ELSE (excluded.sum - (sum + excluded.sum)) + sum END
       RETURNING count, sum, sum_c`,
    );
    this.statDrop = s.hot(
      'statDrop',
      'DELETE FROM relation_stats WHERE rel_id = ? AND profile_id = ? AND side = ? AND prop = ? AND count <= 0',
    );
    this.statDeleteProfile = s.hot(
      'statDeleteProfile',
      'DELETE FROM relation_stats WHERE rel_id = ? AND profile_id = ?',
    );
    this.statDeleteType = s.cold('DELETE FROM relation_stats WHERE rel_id = ?');
    this.statDeleteProp = s.cold("DELETE FROM relation_stats WHERE rel_id = ? AND side = 'a' AND prop = ?");
    // SQLite's sum() is itself compensated for floats, so a rebuilt row starts with sum_c = 0.
    this.statRebuild = s.cold(
      `INSERT INTO relation_stats (rel_id, profile_id, side, prop, count, sum, sum_c)
       SELECT rel_id, a, 'a', ?, count(*), CASE WHEN ? THEN sum(json_extract(weights, ?)) END, 0.0
       FROM relations WHERE rel_id = ? AND json_type(weights, ?) IS NOT NULL GROUP BY a`,
    );
    // Every value of every property that keeps a top, so a changed N needs no rebuild; the
    // primary key orders them as get_counter answers: value descending, ties by B ascending.
    this.topInsert = s.cold('INSERT INTO relation_tops (rel_id, a, prop, value, b) VALUES (?, ?, ?, ?, ?)');
    this.topDelete = s.hot(
      'topDelete',
      'DELETE FROM relation_tops WHERE rel_id = ? AND a = ? AND prop = ? AND value = ? AND b = ?',
    );
    this.topDeleteByA = s.hot('topDeleteByA', 'DELETE FROM relation_tops WHERE rel_id = ? AND a = ?');
    this.topDeleteType = s.cold('DELETE FROM relation_tops WHERE rel_id = ?');
    this.topDeleteProp = s.cold('DELETE FROM relation_tops WHERE rel_id = ? AND prop = ?');
    this.topRebuild = s.cold(
      `INSERT INTO relation_tops (rel_id, a, prop, value, b)
       SELECT rel_id, a, ?, json_extract(weights, ?), b FROM relations
       WHERE rel_id = ? AND json_type(weights, ?) IN ('integer', 'real')`,
    );
  }

  // -------------------------------------------------------------------------------------------
  // The write scope (used by SqliteTransactions.write)

  /** Starts recording a write's changes; `endWrite` restores the enclosing scope. */
  beginWrite(): WriteScope {
    const scope: WriteScope = { stats: [], tops: [], outer: this.scope };
    this.scope = scope;
    return scope;
  }

  endWrite(scope: WriteScope): void {
    this.scope = scope.outer;
  }

  /** Merges a successful write's changes into the batch's pending ones. */
  keep(scope: WriteScope): void {
    for (const change of scope.stats) {
      const found = this.pendingStats.get(change.key);
      if (!found) {
        this.pendingStats.set(change.key, { ...change });
      } else {
        found.count += change.count;
        if (change.sum !== null) found.sum = (found.sum ?? 0n) + change.sum;
      }
    }
    for (const change of scope.tops) {
      const found = this.pendingTops.get(change.key);
      if (found) found.change += change.change;
      else this.pendingTops.set(change.key, { ...change });
    }
  }

  /** Applies a successful write's changes at once (a write outside a batch). */
  applyNow(scope: WriteScope): void {
    this.applyStatChanges(scope.stats);
    this.applyTopChanges(scope.tops);
  }

  /** Applies the batch's pending changes, in key order. */
  applyPending(): void {
    const tops = [...this.pendingTops.values()].sort(byKey);
    const stats = [...this.pendingStats.values()].sort(byKey);
    this.pendingTops.clear();
    this.pendingStats.clear();
    this.applyTopChanges(tops);
    this.applyStatChanges(stats);
  }

  /** Forgets the pending changes of a batch that rolled back. */
  discardPending(): void {
    this.pendingStats.clear();
    this.pendingTops.clear();
  }

  private applyStatChanges(changes: readonly StatChange[]): void {
    for (const c of changes) {
      if (c.count === 0 && (c.sum === null || c.sum === 0n)) continue;
      const left = this.statAdd.get(c.relId, c.profileId, c.side, c.prop, c.count, c.sum)!;
      if (left <= 0) this.statDrop.run(c.relId, c.profileId, c.side, c.prop);
    }
  }

  private applyTopChanges(changes: readonly TopChange[]): void {
    for (const c of changes) {
      if (c.change < 0) this.topDelete.run(c.relId, c.a, c.prop, c.value, c.b);
      else if (c.change > 0) this.topInsert.run(c.relId, c.a, c.prop, c.value, c.b);
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
    const relId = type.relId;
    const total = (after ? 1 : 0) - (before ? 1 : 0);
    if (total !== 0) {
      if (sides.a) this.bump(relId, a, 'a', '', total, null, false);
      if (sides.b) this.bump(relId, b, 'b', '', total, null, false);
    }
    if (!sides.a) return;
    for (const property of type.properties) {
      const old = before ? own(before, property.name) : undefined;
      const now = after ? own(after, property.name) : undefined;
      if (old === undefined && now === undefined) continue;
      if (keepsTop(property) && old !== now) {
        if (old !== undefined) this.topChange(relId, a, property, old, b, -1);
        if (now !== undefined) this.topChange(relId, a, property, now, b, 1);
      }
      const count = (now !== undefined ? 1 : 0) - (old !== undefined ? 1 : 0);
      if (!keepsSum(property)) {
        if (count !== 0) this.bump(relId, a, 'a', property.name, count, null, false);
      } else if (property.type === 'int') {
        const sum = BigInt((now as number | undefined) ?? 0) - BigInt((old as number | undefined) ?? 0);
        if (count !== 0 || sum !== 0n) this.bump(relId, a, 'a', property.name, count, sum, false);
      } else if (old !== now) {
        // Float: take the old value away and add the new one as two compensated steps, rather
        // than adding a rounded difference; in this order a value replaced by a similar one never
        // takes the sum past the double range on the way.
        if (old !== undefined)
          this.bump(relId, a, 'a', property.name, now === undefined ? -1 : 0, -(old as number), true);
        if (now !== undefined)
          this.bump(relId, a, 'a', property.name, old === undefined ? 1 : 0, now as number, true);
      }
    }
  }

  /** One fewer relation initiated by B (its A is being deleted, with all of A's own aggregates). */
  dropInitiated(relId: number, b: string): void {
    this.bump(relId, b, 'b', '', -1, null, false);
  }

  /** A top row of one property of one relation appears (+1) or goes (−1); see pendingTops. */
  private topChange(
    relId: number,
    a: string,
    property: PropertyDef,
    value: WeightValue,
    b: string,
    change: 1 | -1,
  ): void {
    const c: TopChange = {
      key: `${relKey(relId)}\0${a}\0${property.name}\0${String(value)}\0${b}`,
      relId,
      a,
      prop: property.name,
      value: bindNumber(property, value),
      b,
      change,
    };
    if (this.scope) this.scope.tops.push(c);
    else this.applyTopChanges([c]);
  }

  private bump(
    relId: number,
    profileId: string,
    side: 'a' | 'b',
    prop: string,
    count: number,
    sum: bigint | number | null,
    float: boolean,
  ): void {
    if (!float) {
      // Counts and int sums are exact, so they can wait for the end of the batch (see pendingStats).
      const change = {
        key: `${relKey(relId)}\0${profileId}\0${side}\0${prop}`,
        relId,
        profileId,
        side,
        prop,
        count,
        sum: sum as bigint | null,
      };
      if (this.scope) this.scope.stats.push(change);
      else this.applyStatChanges([change]);
      return;
    }
    const left = this.bumpFloat(relId, profileId, side, prop, count, sum as number);
    if (left <= 0) this.statDrop.run(relId, profileId, side, prop);
  }

  /**
   * A float sum that would leave the double range refuses the write (400, nothing changed), as a
   * float value that would become infinite does: an infinite sum cannot be answered, and its
   * compensation turns NaN, which SQLite stores as NULL (so the NOT NULL constraint fails).
   */
  private bumpFloat(
    relId: number,
    profileId: string,
    side: 'a' | 'b',
    prop: string,
    count: number,
    sum: number,
  ): number {
    let row: { count: number; sum: number; sum_c: number };
    try {
      row = this.statAddFloat.get(relId, profileId, side, prop, count, sum)!;
    } catch (err) {
      if (err instanceof BetterSqlite3.SqliteError && err.code === 'SQLITE_CONSTRAINT_NOTNULL') {
        throw infiniteSum(prop);
      }
      throw err;
    }
    if (!Number.isFinite(row.sum) || !Number.isFinite(row.sum_c)) throw infiniteSum(prop);
    return row.count;
  }

  // -------------------------------------------------------------------------------------------
  // Whole profiles, properties and types

  /** Drops a profile's own aggregates of one type (both sides); its tops as A when `asA`. */
  deleteProfile(relId: number, profileId: string, asA: boolean): void {
    if (asA) this.topDeleteByA.run(relId, profileId);
    this.statDeleteProfile.run(relId, profileId);
  }

  deleteType(relId: number): void {
    this.statDeleteType.run(relId);
    this.topDeleteType.run(relId);
  }

  /**
   * Recomputes a property's aggregates from the relations themselves: counts and sum in
   * relation_stats, values in relation_tops. Reads only this type's relations.
   */
  rebuildProperty(type: RelationType, property: PropertyDef): void {
    const path = `$.${property.name}`;
    this.statDeleteProp.run(type.relId, property.name);
    this.statRebuild.run(property.name, keepsSum(property) ? 1 : 0, path, type.relId, path);
    this.topDeleteProp.run(type.relId, property.name);
    if (keepsTop(property)) this.topRebuild.run(property.name, path, type.relId, path);
  }
}
