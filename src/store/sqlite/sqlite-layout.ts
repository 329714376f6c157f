// The storage layout of relations (schema version 2), in one place: what the kinds of rows in
// relations_a are, how a relation row is addressed, and when a profile's top entries are kept as
// rows. Migrations and the role files read these; README.md explains the choices and their figures.

/**
 * Rows of relations_a, all keyed (rel_id, a, kind, prop, value, b) so that everything one write
 * touches for profile A lies in one range of one B-tree: kind 0 first (A's aggregates), then kind 1
 * (A's relations, ordered by B), then kind 2 (A's top entries, by property, value descending, B).
 */
export const KIND = { aggregate: 0, relation: 1, top: 2 } as const;

/**
 * The key columns a relation row leaves unused: `prop` '' and `value` 0. Written out in every
 * statement (rather than bound) so that SQLite plans each lookup as a full primary-key equality.
 */
export const RELATION_KEY = `kind = ${KIND.relation} AND prop = '' AND value = 0`;

/** The key of A's total row (kind 0, prop ''), and of B's count row in relations_b (a = x''). */
export const TOTAL_KEY = `kind = ${KIND.aggregate} AND prop = '' AND value = 0 AND b = x''`;

/**
 * Top entries (kind 2) are kept as rows only for a profile A with many relations: for one with
 * few, get_counter reads its relations (a single short range) and orders them itself, so that the
 * common attach writes no top rows at all. A's total row records which is the case (`tops` 1 or 0);
 * the rows are made when A's total goes above `from` and dropped when it falls to `until` or
 * below, so that a profile near the threshold does not build and drop them on every write.
 */
export interface TopRowsThreshold {
  readonly from: number;
  readonly until: number;
}

export const TOP_ROWS: TopRowsThreshold = { from: 64, until: 32 };
