// Relations on SQLite: attach, strengthen, edit and detach (each moving the relation's share of the
// aggregates through the ledger), the rows of relations/get, get_counter, and the removal of every
// relation of a profile or a type.
import { resolveOne } from '../../core/matching.js';
import type { RelationRow, RelationType, Weights, WeightValue } from '../../core/model.js';
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
  StrengthenInput,
  StrengthenOutcome,
} from '../../core/store.js';
import type { AggregateLedger } from './sqlite-aggregate-ledger.js';
import type { CatalogCache } from './sqlite-catalog-cache.js';
import { CounterReader } from './sqlite-counters.js';
import type { ProfileFinder } from './sqlite-matching.js';
import { type Change, propertyOf, RelationUpdaters, setChange } from './sqlite-relation-updaters.js';
import type { Statements, Stmt } from './sqlite-statements.js';
import type { SqliteTransactions } from './sqlite-transactions.js';

function parseWeights(text: string): Weights {
  return JSON.parse(text) as Weights;
}

const SIDE_A_ONLY = { a: true, b: false } as const;

export class SqliteRelations {
  readonly updaters: RelationUpdaters;
  private readonly counters: CounterReader;
  private readonly relGet: Stmt<string>;
  private readonly relInsert: Stmt;
  private readonly relDelete: Stmt<string>;
  private readonly relDeleteByA: Stmt<string>;
  private readonly relDeleteByB: Stmt<{ a: string; weights: string }>;
  private readonly relDeleteType: Stmt;
  private readonly listByA: Stmt<{ other: string; weights: string }>;
  private readonly listByB: Stmt<{ other: string; weights: string }>;

  constructor(
    statements: Statements,
    private readonly tx: SqliteTransactions,
    private readonly catalog: CatalogCache,
    private readonly finder: ProfileFinder,
    private readonly ledger: AggregateLedger,
  ) {
    const s = statements;
    this.updaters = new RelationUpdaters(s.db);
    this.counters = new CounterReader(s);
    this.relGet = s
      .hot<string>('relGet', 'SELECT weights FROM relations WHERE rel_id = ? AND a = ? AND b = ?')
      .pluck();
    this.relInsert = s.cold(
      `INSERT INTO relations (rel_id, a, b, weights, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    );
    this.relDelete = s
      .hot<string>(
        'relDelete',
        'DELETE FROM relations WHERE rel_id = ? AND a = ? AND b = ? RETURNING weights',
      )
      .pluck();
    this.relDeleteByA = s
      .hot<string>('relDeleteByA', 'DELETE FROM relations WHERE rel_id = ? AND a = ? RETURNING b')
      .pluck();
    // INDEXED BY: for a WITHOUT ROWID table SQLite prices a non-covering secondary index above a
    // range of the primary key, and would read every relation of the type to find one B's.
    this.relDeleteByB = s.hot<{ a: string; weights: string }>(
      'relDeleteByB',
      'DELETE FROM relations INDEXED BY relations_by_b WHERE rel_id = ? AND b = ? RETURNING a, weights',
    );
    this.relDeleteType = s.cold('DELETE FROM relations WHERE rel_id = ?');
    this.listByA = s.hot<{ other: string; weights: string }>(
      'listByA',
      'SELECT b AS other, weights FROM relations WHERE rel_id = ? AND a = ? AND b > ? ORDER BY b LIMIT ?',
    );
    this.listByB = s.hot<{ other: string; weights: string }>(
      'listByB',
      `SELECT a AS other, weights FROM relations INDEXED BY relations_by_b
        WHERE rel_id = ? AND b = ? AND a > ? ORDER BY a LIMIT ?`,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Writes

  attach(input: AttachInput): AttachOutcome {
    return this.tx.write(() => {
      const type = this.catalog.typeOf(input.type);
      const pair = this.finder.pair(type, input.a, input.b);
      if (pair.kind !== 'ok') return pair;
      const inserted = this.relInsert.run(
        type.relId,
        pair.a,
        pair.b,
        JSON.stringify(input.weights),
        input.now,
        input.now,
      );
      if (inserted.changes === 0) return { kind: 'duplicate', a: pair.a, b: pair.b };
      this.ledger.applyStats(type, pair.a, pair.b, null, input.weights);
      return pair;
    });
  }

  strengthen(input: StrengthenInput): StrengthenOutcome {
    return this.tx.write(() => {
      const type = this.catalog.typeOf(input.type);
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

      const oldText = this.relGet.get(type.relId, a, b);
      if (oldText === undefined) {
        // A missing value counts as 0, so a created relation holds the amounts themselves.
        const weights = Object.fromEntries(changes.map((c) => [c.name, c.value!]));
        this.relInsert.run(type.relId, a, b, JSON.stringify(weights), input.now, input.now);
        this.ledger.applyStats(type, a, b, null, weights);
        return { kind: 'ok', a, b, created: true };
      }
      const before = parseWeights(oldText);
      const after: Record<string, WeightValue> = { ...before };
      const returned = this.updaters.run(type, changes, input.now, a, b);
      let i = 0;
      for (const change of changes) {
        if (change.mode === 'add-int' || change.mode === 'add-float') {
          const value = returned![i++];
          if (change.mode === 'add-int') {
            const n = typeof value === 'bigint' ? value : BigInt(Math.trunc(Number(value)));
            if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < -BigInt(Number.MAX_SAFE_INTEGER)) {
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
      return { kind: 'ok', a, b, created: false };
    });
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
      const oldText = this.relGet.get(type.relId, a, b);
      if (oldText === undefined) {
        const weights = Object.fromEntries(Object.keys(input.set).map((name) => [name, input.set[name]!]));
        this.relInsert.run(type.relId, a, b, JSON.stringify(weights), input.now, input.now);
        this.ledger.applyStats(type, a, b, null, weights);
        return { kind: 'ok', a, b, created: true };
      }
      const before = parseWeights(oldText);
      const after: Record<string, WeightValue> = { ...before };
      for (const change of changes) {
        if (change.mode === 'remove') delete after[change.name];
        else after[change.name] = change.value!;
      }
      this.updaters.run(type, changes, input.now, a, b);
      this.ledger.applyStats(type, a, b, before, after);
      return { kind: 'ok', a, b, created: false };
    });
  }

  detach(input: DetachInput): DetachOutcome {
    return this.tx.write(() => {
      const type = this.catalog.typeOf(input.type);
      const pair = this.finder.pair(type, input.a, input.b);
      if (pair.kind !== 'ok') return pair;
      const oldText = this.relDelete.get(type.relId, pair.a, pair.b);
      if (oldText === undefined) return { kind: 'no_relation', a: pair.a, b: pair.b };
      this.ledger.applyStats(type, pair.a, pair.b, parseWeights(oldText), null);
      return pair;
    });
  }

  /**
   * Removes every relation a profile of database `dbId` takes part in, on either side, with its
   * own aggregates; the other profiles' aggregates lose those relations. Inside a profile delete.
   */
  deleteAllOf(dbId: number, id: string): void {
    for (const type of this.catalog.types.values()) {
      if (type.dbA !== dbId && type.dbB !== dbId) continue;
      if (type.dbA === dbId) {
        // Its own side-a aggregates go with it; each B it was related to initiated one fewer.
        for (const b of this.relDeleteByA.all(type.relId, id)) this.ledger.dropInitiated(type.relId, b);
      }
      if (type.dbB === dbId) {
        for (const row of this.relDeleteByB.all(type.relId, id)) {
          this.ledger.applyStats(type, row.a, id, parseWeights(row.weights), null, SIDE_A_ONLY);
        }
      }
      this.ledger.deleteProfile(type.relId, id, type.dbA === dbId);
    }
  }

  /** Removes every relation of a type and its aggregates (inside the type's delete). */
  deleteType(relId: number): void {
    this.relDeleteType.run(relId);
    this.ledger.deleteType(relId);
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
      const list = input.side === 'a' ? this.listByA : this.listByB;
      const found2 = list.all(type.relId, id, input.after ?? '', limit + 1);
      const rows: RelationRow[] = found2
        .slice(0, limit)
        .map((r) =>
          input.side === 'a'
            ? { a: id, b: r.other, weights: parseWeights(r.weights) }
            : { a: r.other, b: id, weights: parseWeights(r.weights) },
        );
      return { kind: 'ok', profileId: id, total, rows, more: found2.length > limit };
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
