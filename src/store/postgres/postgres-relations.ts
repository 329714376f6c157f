// Relation calls of the PostgreSQL store: attach, its set-based form for attach_batch, strengthen,
// edit, detach, get and get_counter. Each is one statement calling one server-side function
// (sql/functions/04-relation-writes.sql, 05-relation-reads.sql, 09-bulk.sql); the function answers
// what it found and the rules turning that into 404/409 stay in core (resolvePair, resolveOne).
import { isTiesError, TiesError } from '../../core/errors.js';
import { resolveOne, resolvePair } from '../../core/matching.js';
import type { PropertyDef, Weights } from '../../core/model.js';
import { isNumeric } from '../../core/property-types.js';
import type {
  AttachInput,
  AttachManyOutcome,
  AttachOutcome,
  CounterInput,
  CounterOutcome,
  DetachInput,
  DetachOutcome,
  EditInput,
  EditOutcome,
  ListRelationsInput,
  ListRelationsOutcome,
  PairFailure,
  PairOk,
  ProfileQuery,
  PropertyAggregate,
  RelationTuple,
  StrengthenInput,
  StrengthenOutcome,
} from '../../core/store.js';
import { ID_ARRAY_TYPES } from './pg-id-arrays.js';
import type { MatchRow, PairRow, PgStatements } from './postgres-statements.js';

/** ties_attach's text[] as the other writes' row: [status, a, b], or ['pair', nA, nB, ids…]. */
function attachRow(r: readonly string[]): PairRow {
  const status = r[0] as PairRow['status'];
  if (status !== 'pair') return { status, a_ids: null, b_ids: null, a: r[1] ?? null, b: r[2] ?? null };
  const nA = Number(r[1]);
  return { status, a_ids: r.slice(3, 3 + nA), b_ids: r.slice(3 + nA, 3 + nA + Number(r[2])) };
}

function pairOutcome(row: PairRow): PairFailure | PairOk {
  return resolvePair(row.a_ids ?? [], row.b_ids ?? []);
}

/**
 * Whether the items at `positions` are all looked up by id on both sides and name no pair twice:
 * then none can be a later repeat of an earlier item's pair, and ties_attach_many skips that
 * check (a hashed grouping of the chunk in the database, ~5 ms per 8,000 items, for ~1 ms here).
 * Two pairs sharing a key (only ids holding U+0000 could) just make it run the check.
 */
function pairsUnique(inputs: readonly AttachInput[], positions: readonly number[]): boolean {
  const seen = new Set<string>();
  for (const i of positions) {
    const { a, b } = inputs[i]!;
    if (a.by !== 'id' || b.by !== 'id') return false;
    const key = `${a.id}\u0000${b.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
  }
  return true;
}

/** An attach_batch item attached alone: the change feed still records the batch call. */
function asBatchItem(input: AttachInput): AttachInput {
  return input.call ? input : { ...input, call: 'relations/attach_batch' };
}

function noType(relId: number): TiesError {
  return new TiesError('RELATION_TYPE_NOT_FOUND', { rel_id: relId });
}

/**
 * A lookup as ties_attach_many takes it: by id the id alone (a JSON string), any other the query.
 * The chunk's jsonb parse was half of its cost with `{"by":"id","id":…}` objects (docs/benchmarks.md).
 */
function bulkQuery(q: ProfileQuery): ProfileQuery | string {
  return q.by === 'id' ? q.id : q;
}

export class PostgresRelations {
  constructor(private readonly db: PgStatements) {}

  async attach(input: AttachInput): Promise<AttachOutcome> {
    const { r } = await this.db.one<{ r: string[] }>({
      name: 'ties_attach',
      // One text[] (sql/functions/04-relation-writes.sql): no record to take apart, one column.
      text: 'SELECT ties_attach($1, $2, $3, $4, $5, $6) AS r',
      values: [
        input.type.relId,
        JSON.stringify(input.a),
        JSON.stringify(input.b),
        JSON.stringify(input.weights),
        input.now,
        input.call ?? 'relations/attach',
      ],
    });
    return this.relationOutcome(input.type.relId, attachRow(r)) as AttachOutcome;
  }

  /**
   * Set-based attach_batch: the inputs of one relation type in one statement and transaction
   * (ties_attach_many, sql/functions/09-bulk.sql), each answered as a single attach would be.
   */
  async attachMany(inputs: readonly AttachInput[]): Promise<AttachManyOutcome[]> {
    const outcomes: AttachManyOutcome[] = new Array(inputs.length);
    const byType = new Map<number, number[]>();
    inputs.forEach((input, i) => {
      const positions = byType.get(input.type.relId);
      if (positions) positions.push(i);
      else byType.set(input.type.relId, [i]);
    });
    for (const [relId, positions] of byType) {
      // Sparse: a row for each item but those attached by id on both sides, answered here with the
      // ids they sent; a and b for 'ok' and 'duplicate', the id arrays only for 'pair' (as
      // ties_attach answers). rows[k].idx is the item's place in the chunk, from 1.
      let rows: (PairRow & { idx: number })[];
      try {
        rows = await this.db.run({
          name: 'ties_attach_many',
          text: 'SELECT * FROM ties_attach_many($1, $2, $3, true, $4)',
          values: [
            relId,
            JSON.stringify(
              positions.map((i) => [bulkQuery(inputs[i]!.a), bulkQuery(inputs[i]!.b), inputs[i]!.weights]),
            ),
            inputs[positions[0]!]!.now,
            pairsUnique(inputs, positions),
          ],
          types: ID_ARRAY_TYPES,
        });
      } catch (err) {
        if (!isTiesError(err) || err.code !== 'INT_OVERFLOW') throw err;
        // A float sum would leave the double range: the chunk is attached item by item, so that
        // only the item that overflows is refused, as single calls would have it.
        for (const i of positions) outcomes[i] = await this.attachOrError(asBatchItem(inputs[i]!));
        continue;
      }
      for (const i of positions) {
        const { a, b } = inputs[i]!;
        if (a.by === 'id' && b.by === 'id') outcomes[i] = { kind: 'ok', a: a.id, b: b.id };
      }
      for (const row of rows) {
        outcomes[positions[row.idx - 1]!] =
          row.status === 'no_type'
            ? { kind: 'error', error: noType(relId) }
            : (this.relationOutcome(relId, row) as AttachOutcome);
      }
    }
    return outcomes;
  }

  /** One attach, a refusal (TiesError) answered as that item's error. */
  private attachOrError(input: AttachInput): Promise<AttachManyOutcome> {
    return this.attach(input).catch((e: unknown) => {
      if (isTiesError(e)) return { kind: 'error' as const, error: e };
      throw e;
    });
  }

  async strengthen(input: StrengthenInput): Promise<StrengthenOutcome> {
    const row = await this.db.one<PairRow>({
      name: 'ties_strengthen',
      text: 'SELECT * FROM ties_strengthen($1, $2, $3, $4, $5, $6, $7)',
      values: [
        input.type.relId,
        JSON.stringify(input.a),
        JSON.stringify(input.b),
        // Pairs keep the client's order: the first property to overflow is the one reported.
        JSON.stringify(Object.keys(input.add).map((name) => [name, input.add[name]])),
        JSON.stringify(input.set),
        input.now,
        input.call ?? 'relations/strengthen',
      ],
    });
    return this.relationOutcome(input.type.relId, row) as StrengthenOutcome;
  }

  async edit(input: EditInput): Promise<EditOutcome> {
    const row = await this.db.one<PairRow>({
      name: 'ties_edit',
      text: 'SELECT * FROM ties_edit($1, $2, $3, $4, $5, $6, $7)',
      values: [
        input.type.relId,
        JSON.stringify(input.a),
        JSON.stringify(input.b),
        JSON.stringify(input.set),
        [...input.remove],
        input.now,
        input.call ?? 'relations/edit',
      ],
    });
    return this.relationOutcome(input.type.relId, row) as EditOutcome;
  }

  async detach(input: DetachInput): Promise<DetachOutcome> {
    const row = await this.db.one<PairRow>({
      name: 'ties_detach',
      text: 'SELECT * FROM ties_detach($1, $2, $3, $4, $5)',
      values: [
        input.type.relId,
        JSON.stringify(input.a),
        JSON.stringify(input.b),
        input.now,
        input.call ?? 'relations/detach',
      ],
    });
    return this.relationOutcome(input.type.relId, row) as DetachOutcome;
  }

  private relationOutcome(relId: number, row: PairRow) {
    const a = row.a ?? row.a_ids?.[0] ?? '';
    const b = row.b ?? row.b_ids?.[0] ?? '';
    switch (row.status) {
      case 'no_type':
        throw noType(relId);
      case 'pair':
        return pairOutcome(row);
      case 'duplicate':
        return { kind: 'duplicate' as const, a, b };
      case 'no_relation':
        return { kind: 'no_relation' as const, a, b };
      case 'overflow':
        return {
          kind: 'overflow' as const,
          property: row.overflow_property ?? '',
          result: row.overflow_result ?? '',
        };
      case 'ok':
        return row.created === null || row.created === undefined
          ? { kind: 'ok' as const, a, b }
          : { kind: 'ok' as const, a, b, created: row.created };
    }
  }

  // -------------------------------------------------------------------------------------------
  // Relation reads

  async listRelations(input: ListRelationsInput): Promise<ListRelationsOutcome> {
    const limit = Math.max(0, input.limit);
    const values = [
      input.type.relId,
      input.side,
      JSON.stringify(input.profile),
      input.after ?? '',
      limit,
      input.refuseAbove ?? null,
    ];
    const ordered = input.order !== undefined || input.offset !== undefined || input.filter !== undefined;
    const row = await this.db.one<
      MatchRow & { total: string | null; items: [string, Weights][] | null; matched?: string | null }
    >(
      ordered
        ? {
            name: 'ties_list_ordered',
            text: 'SELECT * FROM ties_list_ordered($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)',
            values: [
              ...values,
              input.order?.property.name ?? null,
              input.order?.property.type ?? null,
              input.order?.descending ?? false,
              input.offset ?? 0,
              input.filter?.idLow ?? '',
              input.filter?.idHigh ?? 'ffffffffffffffffffffffff',
              input.filter?.min ?? null,
              input.filter?.max ?? null,
              input.filter !== undefined,
            ],
          }
        : { name: 'ties_list', text: 'SELECT * FROM ties_list($1, $2, $3, $4, $5, $6)', values },
    );
    if (row.status === 'no_type') throw noType(input.type.relId);
    const found = resolveOne(row.ids ?? [], 'profile');
    if (found.kind !== 'ok') return found;
    const total = Number(row.total ?? 0);
    if (row.status === 'too_many') return { kind: 'too_many', total };
    const items = row.items ?? [];
    const id = found.id;
    // The driver parsed the jsonb; core takes the weights as JSON text (SQLite hands its raw rows over).
    const rows: RelationTuple[] = items
      .slice(0, limit)
      .map(([other, weights]) => [other, JSON.stringify(weights)]);
    const more = items.length > limit;
    if (input.filter)
      return { kind: 'ok', profileId: id, total, rows, more, matched: Number(row.matched ?? 0) };
    return { kind: 'ok', profileId: id, total, rows, more };
  }

  async counter(input: CounterInput): Promise<CounterOutcome> {
    const row = await this.db.one<
      MatchRow & {
        props: PropertyDef[] | null;
        stats: [string, string | number, string, number, number][] | null;
        tops: Record<string, [string, number][]> | null;
      }
    >({
      name: 'ties_counter',
      text: 'SELECT * FROM ties_counter($1, $2)',
      values: [input.type.relId, JSON.stringify(input.profile)],
    });
    if (row.status === 'no_type') throw noType(input.type.relId);
    const found = resolveOne(row.ids ?? [], 'profile');
    if (found.kind !== 'ok') return found;
    const stats = new Map((row.stats ?? []).map((s) => [s[0], s]));
    const props: PropertyAggregate[] = [];
    // The definition read in the same snapshot as the aggregates, not a cached one.
    for (const property of row.props ?? []) {
      const stat = stats.get(property.name);
      const count = stat ? Number(stat[1]) : 0;
      if (!stat || count <= 0) continue;
      const numeric = isNumeric(property.type);
      let sum: number | null = null;
      if (property.sum && numeric) sum = property.type === 'int' ? Number(stat[2]) : stat[3] + stat[4];
      const top =
        property.top > 0 && numeric
          ? (row.tops?.[property.name] ?? []).map(([profileId, value]) => ({ profileId, value }))
          : null;
      props.push({ name: property.name, count, sum, top });
    }
    const total = stats.get('');
    return { kind: 'ok', profileId: found.id, total: total ? Number(total[1]) : 0, props };
  }
}
