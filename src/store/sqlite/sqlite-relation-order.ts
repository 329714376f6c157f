// relations/get with a sort, an offset or a filter (Ties extension, issue #17) on SQLite. The
// plain listing (rows by the other id, keyset paging) keeps its own hot statements in
// sqlite-relations.ts; this reads the same key range of the profile's relations, computes the
// sort value with json_extract, and lets SQLite keep the first offset + limit keys in its sorter
// (one pass over the profile's relations, no sort of all of them), then reads the page's weights.
import type { ListRelationsInput, RelationOrder, RelationTuple } from '../../core/store.js';
import { KIND, RELATION_KEY } from './sqlite-layout.js';
import type { Statements, Stmt } from './sqlite-statements.js';

/** Length of a profile id as `lower(hex(…))` writes a 12-byte blob id. */
const ID_HEX = 24;

export interface OrderedListInput {
  readonly relId: number;
  readonly side: 'a' | 'b';
  readonly profileId: string;
  readonly after?: string | undefined;
  readonly order?: RelationOrder | undefined;
  readonly offset: number;
  readonly limit: number;
  readonly idLow: string;
  readonly idHigh: string;
  readonly min?: number | undefined;
  readonly max?: number | undefined;
}

/**
 * The sort keys of one profile's rows (side a: by A; side b: B's list joined with A's relation
 * rows) as (other id, sort value), within the id bounds and the value bounds; `@name` parameters.
 * Only keys go through the sorter: the weights of the page's rows are read afterwards by key.
 * Rows without the property sort last: in DESC order NULL is already last (SQLite orders NULL
 * below every value); in ASC order it is replaced by x'' (a blob sorts above every number and text).
 */
function keysOf(side: 'a' | 'b', direction: Direction, bounds: { min: boolean; max: boolean }): string {
  const json = side === 'a' ? 'json_extract(weights, @path)' : 'json_extract(r.weights, @path)';
  const v = direction === 'id' ? 'NULL' : direction === 'asc' ? `coalesce(${json}, x'')` : json;
  const value = `${bounds.min ? ` AND ${json} >= @min` : ''}${bounds.max ? ` AND ${json} <= @max` : ''}`;
  // One lower bound (@from, see bind) so that SQLite searches the key range from it.
  if (side === 'a') {
    return `SELECT b AS other, ${v} AS v FROM relations_a
      WHERE rel_id = @rel AND a = unhex(@id) AND ${RELATION_KEY}
        AND b >= unhex(@from) AND b <= unhex(@high)${value}`;
  }
  return `SELECT x.a AS other, ${v} AS v FROM relations_b x
      JOIN relations_a r ON r.rel_id = x.rel_id AND r.a = x.a AND r.kind = ${KIND.relation}
        AND r.prop = '' AND r.value = 0 AND r.b = x.b
      WHERE x.rel_id = @rel AND x.b = unhex(@id) AND x.a >= unhex(@from) AND x.a <= unhex(@high)${value}`;
}

/** The relation row of a sorted key `k.other`, for its weights. */
function rowOf(side: 'a' | 'b'): string {
  const pair = side === 'a' ? 'r.a = unhex(@id) AND r.b = k.other' : 'r.a = k.other AND r.b = unhex(@id)';
  return `relations_a r ON r.rel_id = @rel AND ${pair} AND r.kind = ${KIND.relation} AND r.prop = '' AND r.value = 0`;
}

type Direction = 'asc' | 'desc' | 'id';

export class SqliteRelationOrder {
  /** Prepared on first use, by side, direction and bounds (a few dozen statements at most). */
  private readonly pages = new Map<string, Stmt<string>>();
  private readonly counts = new Map<string, Stmt<number>>();

  constructor(private readonly statements: Statements) {}

  /** The page listRelations answers, with the filter's count when there is a filter. */
  list(
    relId: number,
    profileId: string,
    input: ListRelationsInput,
    limit: number,
  ): { rows: RelationTuple[]; more: boolean; matched?: number } {
    const ordered: OrderedListInput = {
      relId,
      side: input.side,
      profileId,
      after: input.after,
      order: input.order,
      offset: input.offset ?? 0,
      limit,
      idLow: input.filter?.idLow ?? '',
      idHigh: input.filter?.idHigh ?? 'ffffffffffffffffffffffff',
      min: input.filter?.min,
      max: input.filter?.max,
    };
    const page = this.page(ordered);
    return input.filter ? { ...page, matched: this.count(ordered) } : page;
  }

  /** One page (plus one row telling whether more follow) in the asked order. */
  page(input: OrderedListInput): { rows: RelationTuple[]; more: boolean } {
    const direction: Direction = input.order ? (input.order.descending ? 'desc' : 'asc') : 'id';
    const bounds = { min: input.min !== undefined, max: input.max !== undefined };
    const key = `${input.side}:${direction}:${bounds.min}:${bounds.max}`;
    let stmt = this.pages.get(key);
    if (!stmt) {
      const orderBy = direction === 'id' ? 'other' : `v ${direction.toUpperCase()}, other`;
      stmt = this.statements
        .cold<string>(
          `SELECT lower(hex(k.other)) || r.weights FROM (
             ${keysOf(input.side, direction, bounds)} ORDER BY ${orderBy} LIMIT @limit OFFSET @offset) k
           JOIN ${rowOf(input.side)} ORDER BY ${orderBy.replaceAll('v ', 'k.v ').replace(/other$/, 'k.other')}`,
        )
        .pluck();
      this.pages.set(key, stmt);
    }
    const texts = stmt.all({ ...this.bind(input), limit: input.limit + 1, offset: input.offset });
    const count = Math.min(texts.length, input.limit);
    const rows = new Array<RelationTuple>(count);
    for (let i = 0; i < count; i++) {
      const text = texts[i]!;
      rows[i] = [text.slice(0, ID_HEX), text.slice(ID_HEX)];
    }
    return { rows, more: texts.length > input.limit };
  }

  /** How many of the profile's relations pass the filter (every page). */
  count(input: OrderedListInput): number {
    const bounds = { min: input.min !== undefined, max: input.max !== undefined };
    const key = `${input.side}:${bounds.min}:${bounds.max}`;
    let stmt = this.counts.get(key);
    if (!stmt) {
      stmt = this.statements
        .cold<number>(`SELECT count(*) FROM (${keysOf(input.side, 'id', bounds)})`)
        .pluck();
      this.counts.set(key, stmt);
    }
    return stmt.get(this.bind(input)) ?? 0;
  }

  private bind(input: OrderedListInput) {
    return {
      // Property names are plain identifiers (NAME_PATTERN); without an order the value is unused.
      path: input.order ? `$.${input.order.property.name}` : '$.__none',
      rel: input.relId,
      id: input.profileId,
      // `b > after` is `b >= after || 00` (the next blob up); with the filter's low bound, the higher.
      from: input.after !== undefined && `${input.after}00` > input.idLow ? `${input.after}00` : input.idLow,
      high: input.idHigh,
      min: input.min ?? null,
      max: input.max ?? null,
    };
  }
}
