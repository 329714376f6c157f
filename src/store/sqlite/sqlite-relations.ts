// Relations on SQLite: attach, strengthen, edit and detach (each moving the relation's share of the
// aggregates through the ledger), the rows of relations/get (sorted or filtered ones in
// sqlite-relation-order.ts), get_counter, and the removal of every relation of a profile or a type.
import type { ChangeCall } from '../../core/change-feed.js';
import { resolveOne } from '../../core/matching.js';
import type { RelationType, Weights, WeightValue } from '../../core/model.js';
import { isNumeric } from '../../core/property-types.js';
import type {
  AttachInput,
  AttachOutcome,
  CounterInput,
  CounterOutcome,
  DetachInput,
  DetachOutcome,
  EditInput,
  EditOutcome,
  ListRelationsInput,
  ListRelationsOutcome,
  RelationTuple,
  StrengthenInput,
  StrengthenOutcome,
} from '../../core/store.js';
import type { AggregateLedger } from './sqlite-aggregate-ledger.js';
import type { CatalogCache } from './sqlite-catalog-cache.js';
import type { SqliteChangeLog } from './sqlite-change-log.js';
import { CounterReader } from './sqlite-counters.js';
import { KIND, RELATION_KEY } from './sqlite-layout.js';
import type { ProfileFinder } from './sqlite-matching.js';
import { SqliteRelationOrder } from './sqlite-relation-order.js';
import {
  addedHere,
  type Change,
  propertyOf,
  RelationUpdaters,
  setChange,
} from './sqlite-relation-updaters.js';
import type { Statements, Stmt } from './sqlite-statements.js';
import type { SqliteTransactions } from './sqlite-transactions.js';
import type { AttachManyItem } from './sqlite-write-ops.js';

function parseWeights(text: string): Weights {
  return JSON.parse(text) as Weights;
}

const SIDE_A_ONLY = { a: true, b: false } as const;

const noop = (): void => {};

/** Whether a type keeps a float sum, which is checked (and may refuse the call) as it is applied. */
function hasFloatSum(type: RelationType): boolean {
  return type.properties.some((p) => p.sum && p.type === 'float');
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Whether every addition of a strengthen is to an int property (checked exactly before writing). */
function onlyIntAdditions(type: RelationType, add: Readonly<Record<string, number>>): boolean {
  for (const name of Object.keys(add)) {
    if (type.properties.find((p) => p.name === name)?.type !== 'int') return false;
  }
  return true;
}

/** Length of a profile id as `lower(hex(…))` writes a 12-byte blob id. */
const ID_HEX = 24;

export class SqliteRelations {
  readonly updaters: RelationUpdaters;
  private readonly counters: CounterReader;
  private readonly ordered: SqliteRelationOrder;
  /** The last attach time seen and its milliseconds (a batch's items share one). */
  private parsedNow = '';
  private parsedNowMs = 0;
  private readonly relGet: Stmt<string>;
  /** A relation's weights written as text computed here (strengthen, see addedHere). */
  private readonly relSet: Stmt;
  private readonly relInsert: Stmt;
  private readonly byBInsert: Stmt;
  private readonly relDelete: Stmt<string>;
  private readonly byBDelete: Stmt;
  private readonly relDeleteByA: Stmt<string>;
  private readonly aggregatesDeleteOfA: Stmt;
  private readonly byBDeleteByB: Stmt<string>;
  private readonly relDeleteType: Stmt;
  private readonly byBDeleteType: Stmt;
  /**
   * relations/get's rows, each as one text: the other side's id (24 hex digits) followed by the
   * weights' JSON. better-sqlite3 builds every row of `.raw()` or `.all()` as an array or object
   * through its C++ API, which costs more than reading the row; one plucked text per row, cut in
   * two here, took 51 µs for 100 rows against 78 µs as raw rows (scratch measurement, README.md).
   */
  private readonly listByA: Stmt<string>;
  private readonly listByB: Stmt<string>;

  constructor(
    statements: Statements,
    private readonly tx: SqliteTransactions,
    private readonly catalog: CatalogCache,
    private readonly finder: ProfileFinder,
    private readonly ledger: AggregateLedger,
    /** Every change below appends its event here, inside the same savepoint. */
    private readonly log: SqliteChangeLog,
  ) {
    const s = statements;
    this.updaters = new RelationUpdaters(s.db);
    this.counters = new CounterReader(s);
    this.ordered = new SqliteRelationOrder(s);
    const relation = `rel_id = ? AND a = unhex(?) AND ${RELATION_KEY} AND b = unhex(?)`;
    this.relGet = s.hot<string>('relGet', `SELECT weights FROM relations_a WHERE ${relation}`).pluck();
    this.relSet = s.hot('relSet', `UPDATE relations_a SET weights = ?, updated_ms = ? WHERE ${relation}`);
    this.relInsert = s.cold(
      `INSERT INTO relations_a (rel_id, a, kind, prop, value, b, weights, created_ms, updated_ms)
       VALUES (?, unhex(?), ${KIND.relation}, '', 0, unhex(?), ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    this.byBInsert = s.cold('INSERT INTO relations_b (rel_id, b, a) VALUES (?, unhex(?), unhex(?))');
    this.relDelete = s
      .hot<string>('relDelete', `DELETE FROM relations_a WHERE ${relation} RETURNING weights`)
      .pluck();
    this.byBDelete = s.hot(
      'byBDelete',
      'DELETE FROM relations_b WHERE rel_id = ? AND b = unhex(?) AND a = unhex(?)',
    );
    this.relDeleteByA = s
      .hot<string>(
        'relDeleteByA',
        `DELETE FROM relations_a WHERE rel_id = ? AND a = unhex(?) AND kind = ${KIND.relation}
         RETURNING lower(hex(b)) || weights`,
      )
      .pluck();
    this.aggregatesDeleteOfA = s.hot(
      'aggregatesDeleteOfA',
      'DELETE FROM relations_a WHERE rel_id = ? AND a = unhex(?)',
    );
    // B's entries and its count row (a = x'', answered as '').
    this.byBDeleteByB = s
      .hot<string>(
        'byBDeleteByB',
        'DELETE FROM relations_b WHERE rel_id = ? AND b = unhex(?) RETURNING lower(hex(a))',
      )
      .pluck();
    this.relDeleteType = s.cold('DELETE FROM relations_a WHERE rel_id = ?');
    this.byBDeleteType = s.cold('DELETE FROM relations_b WHERE rel_id = ?');
    this.listByA = s
      .hot<string>(
        'listByA',
        `SELECT lower(hex(b)) || weights FROM relations_a
         WHERE rel_id = ? AND a = unhex(?) AND ${RELATION_KEY} AND b > unhex(?) ORDER BY b LIMIT ?`,
      )
      .pluck();
    this.listByB = s
      .hot<string>(
        'listByB',
        `SELECT lower(hex(x.a)) || r.weights FROM relations_b x
         JOIN relations_a r ON r.rel_id = x.rel_id AND r.a = x.a AND r.kind = ${KIND.relation}
           AND r.prop = '' AND r.value = 0 AND r.b = x.b
         WHERE x.rel_id = ? AND x.b = unhex(?) AND x.a > unhex(?) ORDER BY x.a LIMIT ?`,
      )
      .pluck();
  }

  // -------------------------------------------------------------------------------------------
  // Writes

  attach(input: AttachInput): AttachOutcome {
    return this.attachTyped(this.catalog.typeOf(input.type), input, input.call ?? 'relations/attach');
  }

  /**
   * attach_batch and ties import: every item as attach would run it, inside the one queued write,
   * each keeping its own outcome (a failed item changed nothing, see attach).
   */
  attachMany(inputs: readonly AttachInput[]): AttachManyItem[] {
    const items = new Array<AttachManyItem>(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i]!;
      const type = this.catalog.types.get(input.type.relId);
      items[i] = type
        ? this.attachTyped(type, input, input.call ?? 'relations/attach_batch')
        : { kind: 'error', code: 'RELATION_TYPE_NOT_FOUND', details: { rel_id: input.type.relId } };
    }
    return items;
  }

  private attachTyped(type: RelationType, input: AttachInput, call: ChangeCall): AttachOutcome {
    // A float sum is checked as it is applied (an infinite sum refuses the call after the insert),
    // so such a type needs the savepoint; every other attach checks all before it changes a row.
    if (hasFloatSum(type)) return this.tx.write(() => this.attachIn(type, input, call, noop));
    return this.tx.writeChecked((changing) => this.attachIn(type, input, call, changing));
  }

  private attachIn(
    type: RelationType,
    input: AttachInput,
    call: ChangeCall,
    changing: () => void,
  ): AttachOutcome {
    const pair = this.finder.pair(type, input.a, input.b);
    if (pair.kind !== 'ok') return pair;
    // A batch's items share one time: parsed once, not per item.
    if (input.now !== this.parsedNow) {
      this.parsedNow = input.now;
      this.parsedNowMs = Date.parse(input.now);
    }
    const nowMs = this.parsedNowMs;
    const weights = JSON.stringify(input.weights);
    // The insert is the duplicate test: nothing changed when it inserts nothing.
    if (this.relInsert.run(type.relId, pair.a, pair.b, weights, nowMs, nowMs).changes === 0) {
      return { kind: 'duplicate', a: pair.a, b: pair.b };
    }
    changing();
    this.byBInsert.run(type.relId, pair.b, pair.a);
    this.ledger.applyStats(type, pair.a, pair.b, null, input.weights);
    this.log.append(call, type, pair.a, pair.b, null, weights, input.now);
    return pair;
  }

  strengthen(input: StrengthenInput): StrengthenOutcome {
    const type = this.catalog.typeOf(input.type);
    // Int additions are checked before the UPDATE (exact in JavaScript too), so such a strengthen
    // changes nothing before it can fail: no savepoint. A float addition is checked on SQLite's
    // own result, and a float sum as it is applied: those keep the savepoint.
    if (hasFloatSum(type) || !onlyIntAdditions(type, input.add)) {
      return this.tx.write(() => this.strengthenIn(type, input, noop));
    }
    return this.tx.writeChecked((changing) => this.strengthenIn(type, input, changing));
  }

  private strengthenIn(type: RelationType, input: StrengthenInput, changing: () => void): StrengthenOutcome {
    const pair = this.finder.pair(type, input.a, input.b);
    if (pair.kind !== 'ok') return pair;
    const { a, b } = pair;
    const changes: Change[] = [];
    for (const name of Object.keys(input.add)) {
      const property = propertyOf(type, name);
      if (!isNumeric(property.type)) throw new Error(`strengthen: ${name} is not numeric`);
      changes.push({
        name,
        mode: property.type === 'int' ? 'add-int' : 'add-float',
        value: input.add[name]!,
      });
    }
    for (const name of Object.keys(input.set)) changes.push(setChange(type, name, input.set[name]!));

    const nowMs = Date.parse(input.now);
    const oldText = this.relGet.get(type.relId, a, b);
    if (oldText === undefined) {
      // A missing value counts as 0, so a created relation holds the amounts themselves.
      const weights = Object.fromEntries(changes.map((c) => [c.name, c.value!]));
      const weightsText = JSON.stringify(weights);
      this.insert(type, a, b, weightsText, nowMs);
      changing();
      this.ledger.applyStats(type, a, b, null, weights);
      this.log.append(input.call ?? 'relations/strengthen', type, a, b, null, weightsText, input.now);
      return { kind: 'ok', a, b, created: true };
    }
    const before = parseWeights(oldText);
    const call = input.call ?? 'relations/strengthen';
    const here = addedHere(before, changes);
    if (here !== undefined) {
      if (here.kind === 'overflow') return here;
      const afterText = JSON.stringify(here.weights);
      this.relSet.run(afterText, nowMs, type.relId, a, b);
      changing();
      this.ledger.applyStats(type, a, b, before, here.weights);
      this.log.append(call, type, a, b, oldText, afterText, input.now);
      return { kind: 'ok', a, b, created: false };
    }
    for (const change of changes) {
      if (change.mode !== 'add-int') continue;
      const old = Object.hasOwn(before, change.name) ? before[change.name] : 0;
      if (typeof old !== 'number' || !Number.isSafeInteger(old)) continue; // SQLite's result decides
      const n = BigInt(old) + BigInt(change.value as number);
      if (n > MAX_SAFE || n < -MAX_SAFE)
        return { kind: 'overflow', property: change.name, result: n.toString() };
    }
    const after: Record<string, WeightValue> = { ...before };
    const returned = this.updaters.run(type, changes, nowMs, a, b);
    changing();
    let i = 0;
    for (const change of changes) {
      if (change.mode === 'add-int' || change.mode === 'add-float') {
        const value = returned![i++];
        if (change.mode === 'add-int') {
          const n = typeof value === 'bigint' ? value : BigInt(Math.trunc(Number(value)));
          if (n > MAX_SAFE || n < -MAX_SAFE) {
            return { kind: 'overflow', property: change.name, result: n.toString() };
          }
          after[change.name] = Number(n);
        } else {
          const n = Number(value);
          if (!Number.isFinite(n)) return { kind: 'overflow', property: change.name, result: String(n) };
          after[change.name] = n;
        }
      } else {
        after[change.name] = change.value!;
      }
    }
    this.ledger.applyStats(type, a, b, before, after);
    this.log.append(call, type, a, b, oldText, after, input.now);
    return { kind: 'ok', a, b, created: false };
  }

  edit(input: EditInput): EditOutcome {
    return this.tx.write(() => {
      const type = this.catalog.typeOf(input.type);
      const pair = this.finder.pair(type, input.a, input.b);
      if (pair.kind !== 'ok') return pair;
      const { a, b } = pair;
      const changes: Change[] = Object.keys(input.set).map((name) => setChange(type, name, input.set[name]!));
      for (const name of input.remove) {
        propertyOf(type, name);
        if (!Object.hasOwn(input.set, name)) changes.push({ name, mode: 'remove' });
      }
      const nowMs = Date.parse(input.now);
      const oldText = this.relGet.get(type.relId, a, b);
      if (oldText === undefined) {
        const weights = Object.fromEntries(Object.keys(input.set).map((name) => [name, input.set[name]!]));
        const weightsText = JSON.stringify(weights);
        this.insert(type, a, b, weightsText, nowMs);
        this.ledger.applyStats(type, a, b, null, weights);
        this.log.append(input.call ?? 'relations/edit', type, a, b, null, weightsText, input.now);
        return { kind: 'ok', a, b, created: true };
      }
      const before = parseWeights(oldText);
      const after: Record<string, WeightValue> = { ...before };
      for (const change of changes) {
        if (change.mode === 'remove') delete after[change.name];
        else after[change.name] = change.value!;
      }
      this.updaters.run(type, changes, nowMs, a, b);
      this.ledger.applyStats(type, a, b, before, after);
      this.log.append(input.call ?? 'relations/edit', type, a, b, oldText, after, input.now);
      return { kind: 'ok', a, b, created: false };
    });
  }

  detach(input: DetachInput): DetachOutcome {
    return this.tx.write(() => {
      const type = this.catalog.typeOf(input.type);
      const pair = this.finder.pair(type, input.a, input.b);
      if (pair.kind !== 'ok') return pair;
      const oldText = this.remove(type, pair.a, pair.b);
      if (oldText === undefined) return { kind: 'no_relation', a: pair.a, b: pair.b };
      this.ledger.applyStats(type, pair.a, pair.b, parseWeights(oldText), null);
      this.log.append(input.call ?? 'relations/detach', type, pair.a, pair.b, oldText, null, input.now);
      return pair;
    });
  }

  /** Writes a new relation under A and its entry under B; false when it exists already. */
  private insert(type: RelationType, a: string, b: string, weights: string, nowMs: number): boolean {
    if (this.relInsert.run(type.relId, a, b, weights, nowMs, nowMs).changes === 0) return false;
    this.byBInsert.run(type.relId, b, a);
    return true;
  }

  /** Removes a relation under A and its entry under B; answers its weights (undefined: none). */
  private remove(type: RelationType, a: string, b: string): string | undefined {
    const weights = this.relDelete.get(type.relId, a, b);
    if (weights !== undefined) this.byBDelete.run(type.relId, b, a);
    return weights;
  }

  /**
   * Removes every relation a profile of database `dbId` takes part in, on either side, with its
   * own aggregates; the other profiles' aggregates lose those relations. Inside a profile delete,
   * after the batch's pending aggregate changes were applied.
   */
  deleteAllOf(dbId: number, id: string): void {
    const at = new Date().toISOString();
    for (const type of this.catalog.types.values()) {
      if (type.dbA === dbId) {
        // Its own rows (aggregates, top entries) go with it; each B it was related to initiated one fewer.
        for (const row of this.relDeleteByA.all(type.relId, id)) {
          const b = row.slice(0, ID_HEX);
          this.byBDelete.run(type.relId, b, id);
          this.ledger.dropInitiated(type, b);
          this.log.append('profiles/delete', type, id, b, row.slice(ID_HEX), null, at);
        }
        this.aggregatesDeleteOfA.run(type.relId, id);
      }
      if (type.dbB === dbId) {
        for (const a of this.byBDeleteByB.all(type.relId, id)) {
          if (a === '') continue; // its count row
          const weights = this.relDelete.get(type.relId, a, id);
          if (weights !== undefined) {
            this.ledger.applyStats(type, a, id, parseWeights(weights), null, SIDE_A_ONLY);
            this.log.append('profiles/delete', type, a, id, weights, null, at);
          }
        }
      }
    }
  }

  /** Removes every relation of a type and its aggregates (inside the type's delete), one event each. */
  deleteType(relId: number): void {
    const type = this.catalog.types.get(relId);
    if (type) this.log.appendTypeDelete(type, new Date().toISOString());
    this.relDeleteType.run(relId);
    this.byBDeleteType.run(relId);
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  listRelations(input: ListRelationsInput): ListRelationsOutcome {
    return this.tx.read(() => {
      const type = this.catalog.typeOf(input.type);
      const found = resolveOne(
        this.finder.findIds(input.side === 'a' ? type.dbA : type.dbB, input.profile),
        'profile',
      );
      if (found.kind !== 'ok') return found;
      const id = found.id;
      const total = this.counters.total(type.relId, id, input.side);
      if (input.refuseAbove !== undefined && total > input.refuseAbove) return { kind: 'too_many', total };
      const limit = Math.max(0, input.limit);
      if (input.order || input.offset !== undefined || input.filter) {
        return { kind: 'ok', profileId: id, total, ...this.ordered.list(type.relId, id, input, limit) };
      }
      const list = input.side === 'a' ? this.listByA : this.listByB;
      // One row past the page says whether more follow.
      const texts = list.all(type.relId, id, input.after ?? '', limit + 1);
      const count = Math.min(texts.length, limit);
      const rows = new Array<RelationTuple>(count);
      for (let i = 0; i < count; i++) {
        const text = texts[i]!;
        rows[i] = [text.slice(0, ID_HEX), text.slice(ID_HEX)];
      }
      return { kind: 'ok', profileId: id, total, rows, more: texts.length > limit };
    });
  }

  counter(input: CounterInput): CounterOutcome {
    return this.tx.read(() => {
      const type = this.catalog.typeOf(input.type);
      const found = resolveOne(this.finder.findIds(type.dbA, input.profile), 'profile');
      if (found.kind !== 'ok') return found;
      return { kind: 'ok', profileId: found.id, ...this.counters.counter(type, found.id) };
    });
  }

  /** The strengthen UPDATE of each numeric property of `type`, by name, for the query-plan test. */
  updaterSources(type: RelationType): Record<string, string> {
    const sources: Record<string, string> = {};
    for (const property of type.properties) {
      if (!isNumeric(property.type)) continue;
      const mode = property.type === 'int' ? 'add-int' : 'add-float';
      sources[property.name] = this.updaters.source(type, { name: property.name, mode, value: 1 });
    }
    return sources;
  }
}
