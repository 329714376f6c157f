// The UPDATE statements of strengthen and edit: one per relation type and shape of change (which
// properties, how each changes), built on first use and cached, so that an increment JavaScript
// cannot make exactly happens in SQL (`json_set(weights, '$.p', coalesce(…) + ?)`). A strengthen
// that only adds to ints stored as safe integers is computed here instead (`addedHere`).
import type { PropertyDef, RelationType, Weights, WeightValue } from '../../core/model.js';
import { findProperty } from '../../core/property-types.js';
import { isValidName } from '../../core/values.js';
import { RELATION_KEY } from './sqlite-layout.js';
import type { Db, Stmt } from './sqlite-statements.js';

/** How one property changes in a strengthen or edit UPDATE. */
export type ChangeMode =
  | 'add-int'
  | 'add-float'
  | 'set-int'
  | 'set-float'
  | 'set-bool'
  | 'set-string'
  | 'remove';

export interface Change {
  readonly name: string;
  readonly mode: ChangeMode;
  readonly value?: WeightValue;
}

interface Updater {
  readonly stmt: Stmt;
  /** Whether the statement answers the new values of the add-* changes, in change order. */
  readonly returns: boolean;
}

/** More distinct strengthen/edit shapes than this for one type means clients vary them freely. */
const MAX_UPDATERS_PER_TYPE = 256;

/** JSON path of a property; names are validated by core, checked again because they enter SQL text. */
export function pathOf(name: string): string {
  if (!isValidName(name)) throw new Error(`sqlite store: invalid property name ${JSON.stringify(name)}`);
  return `'$.${name}'`;
}

export function propertyOf(type: RelationType, name: string): PropertyDef {
  const property = findProperty(type, name);
  if (!property) throw new Error(`relation type ${type.relId} has no property ${name}`);
  return property;
}

/** The change that sets a property to a value, by the property's type. */
export function setChange(type: RelationType, name: string, value: WeightValue): Change {
  const property = propertyOf(type, name);
  const mode: ChangeMode =
    property.type === 'int'
      ? 'set-int'
      : property.type === 'float'
        ? 'set-float'
        : property.type === 'bool'
          ? 'set-bool'
          : 'set-string';
  return { name, mode, value };
}

/** A strengthen refused because an int would leave the safe range (its exact result as text). */
export interface Overflow {
  readonly kind: 'overflow';
  readonly property: string;
  readonly result: string;
}

/**
 * A strengthen's new weights computed here, when that is exact: every addition is to an int
 * property whose stored value is a safe integer (or missing: 0), every other change sets a value.
 * Two safe integers add exactly in a double whenever their sum is safe, and rounding is monotonic,
 * so a sum past 2^53 − 1 is seen here too (and answered exactly, with BigInt). Undefined when SQL
 * must compute (a float addition; a stored value that is not a safe integer). The caller then
 * writes the text it already needs for the change log in a plain UPDATE, instead of a json_set
 * per property with RETURNING read back (the side-by-side experiment in docs/benchmarks.md).
 */
export function addedHere(
  before: Weights,
  changes: readonly Change[],
): { readonly kind: 'ok'; readonly weights: Record<string, WeightValue> } | Overflow | undefined {
  const weights: Record<string, WeightValue> = { ...before };
  for (const change of changes) {
    if (change.mode === 'add-int') {
      const old = Object.hasOwn(before, change.name) ? before[change.name] : 0;
      if (typeof old !== 'number' || !Number.isSafeInteger(old)) return undefined;
      const add = change.value as number;
      const n = old + add;
      if (n > Number.MAX_SAFE_INTEGER || n < -Number.MAX_SAFE_INTEGER) {
        return { kind: 'overflow', property: change.name, result: (BigInt(old) + BigInt(add)).toString() };
      }
      weights[change.name] = n;
    } else if (change.mode === 'add-float' || change.mode === 'remove') {
      return undefined;
    } else {
      weights[change.name] = change.value!;
    }
  }
  return { kind: 'ok', weights };
}

export class RelationUpdaters {
  /**
   * Keyed by the type object, which the catalogue replaces whenever the type changes (or is
   * reloaded), so a changed type never runs SQL built for its old definition.
   */
  private readonly byType = new WeakMap<RelationType, Map<string, Updater>>();

  constructor(private readonly db: Db) {}

  /**
   * Applies changes to an existing relation in one UPDATE; answers the new values of the add-*
   * changes, in the order of `changes` (null when there are none).
   */
  run(type: RelationType, changes: readonly Change[], nowMs: number, a: string, b: string): unknown[] | null {
    const ordered = [...changes].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    const updater = this.updater(type, ordered);
    const params: unknown[] = [];
    for (const change of ordered) {
      switch (change.mode) {
        case 'add-int':
        case 'set-int':
          params.push(BigInt(change.value as number));
          break;
        case 'add-float':
        case 'set-float':
          params.push(change.value as number);
          break;
        case 'set-bool':
          params.push(change.value ? 'true' : 'false');
          break;
        case 'set-string':
          params.push(change.value as string);
          break;
        case 'remove':
          break;
      }
    }
    params.push(nowMs, type.relId, a, b);
    if (!updater.returns) {
      updater.stmt.run(...params);
      return null;
    }
    const row = updater.stmt.get(...params) as unknown[] | undefined;
    if (!row) throw new Error('strengthen: the relation vanished inside its transaction');
    // The caller walks changes in its own order: map the sorted answers back to it.
    const byName = new Map<string, unknown>();
    let i = 0;
    for (const change of ordered) {
      if (change.mode === 'add-int' || change.mode === 'add-float') byName.set(change.name, row[i++]);
    }
    return changes
      .filter((c) => c.mode === 'add-int' || c.mode === 'add-float')
      .map((c) => byName.get(c.name));
  }

  /** The SQL of the UPDATE for one change (the query-plan test checks it uses the primary key). */
  source(type: RelationType, change: Change): string {
    return this.updater(type, [change]).stmt.source;
  }

  private updater(type: RelationType, ordered: readonly Change[]): Updater {
    let updaters = this.byType.get(type);
    if (!updaters) {
      updaters = new Map();
      this.byType.set(type, updaters);
    }
    const key = ordered.map((c) => `${c.mode}:${c.name}`).join(',');
    const cached = updaters.get(key);
    if (cached) return cached;

    const sets: string[] = [];
    const removes: string[] = [];
    const returning: string[] = [];
    for (const change of ordered) {
      const path = pathOf(change.name);
      const current = `coalesce(json_extract(weights, ${path}), 0)`;
      switch (change.mode) {
        case 'add-int':
          sets.push(`${path}, ${current} + CAST(? AS INTEGER)`);
          returning.push(`json_extract(weights, ${path})`);
          break;
        case 'add-float':
          sets.push(`${path}, ${current} + CAST(? AS REAL)`);
          returning.push(`json_extract(weights, ${path})`);
          break;
        case 'set-int':
          sets.push(`${path}, CAST(? AS INTEGER)`);
          break;
        case 'set-float':
          sets.push(`${path}, CAST(? AS REAL)`);
          break;
        case 'set-bool':
          sets.push(`${path}, json(?)`);
          break;
        case 'set-string':
          sets.push(`${path}, ?`);
          break;
        case 'remove':
          removes.push(path);
          break;
      }
    }
    let weights = 'weights';
    if (sets.length > 0) weights = `json_set(${weights}, ${sets.join(', ')})`;
    if (removes.length > 0) weights = `json_remove(${weights}, ${removes.join(', ')})`;
    const assign = weights === 'weights' ? '' : `weights = ${weights}, `;
    const sql =
      `UPDATE relations_a SET ${assign}updated_ms = ?
       WHERE rel_id = ? AND a = unhex(?) AND ${RELATION_KEY} AND b = unhex(?)` +
      (returning.length > 0 ? ` RETURNING ${returning.join(', ')}` : '');
    const stmt = this.db.prepare(sql);
    // Int results come back as BigInt so that one past 2^53 is seen exactly, not rounded.
    if (returning.length > 0) stmt.raw(true).safeIntegers(true);
    const updater = { stmt, returns: returning.length > 0 };
    if (updaters.size >= MAX_UPDATERS_PER_TYPE) updaters.clear();
    updaters.set(key, updater);
    return updater;
  }
}
