// Reads of the aggregate ledger: a profile's relation total (relations/get's total_count) and
// get_counter's figures, each from a few rows of relation_stats and relation_tops, never a scan.
import type { RelationType } from '../../core/model.js';
import { isNumeric } from '../../core/property-types.js';
import type { PropertyAggregate } from '../../core/store.js';
import { keepsTop } from './sqlite-aggregate-ledger.js';
import type { Statements, Stmt } from './sqlite-statements.js';

interface StatRow {
  prop: string;
  count: number;
  sum: number | null;
  sum_c: number;
}

export class CounterReader {
  private readonly statTotal: Stmt<number>;
  private readonly statRowsA: Stmt<StatRow>;
  private readonly topQuery: Stmt<{ b: string; v: number }>;

  constructor(statements: Statements) {
    const s = statements;
    this.statTotal = s
      .hot<number>(
        'statTotal',
        "SELECT count FROM relation_stats WHERE rel_id = ? AND profile_id = ? AND side = ? AND prop = ''",
      )
      .pluck();
    this.statRowsA = s.hot<StatRow>(
      'statRowsA',
      "SELECT prop, count, sum, sum_c FROM relation_stats WHERE rel_id = ? AND profile_id = ? AND side = 'a'",
    );
    this.topQuery = s.hot<{ b: string; v: number }>(
      'topQuery',
      'SELECT b, value AS v FROM relation_tops WHERE rel_id = ? AND a = ? AND prop = ? ORDER BY value DESC, b LIMIT ?',
    );
  }

  /** How many relations point at (side a) or start from (side b) the profile. */
  total(relId: number, profileId: string, side: 'a' | 'b'): number {
    return this.statTotal.get(relId, profileId, side) ?? 0;
  }

  /** get_counter's figures for profile A: its total and each property's count, sum and top. */
  counter(type: RelationType, id: string): { total: number; props: PropertyAggregate[] } {
    const stats = new Map<string, StatRow>();
    for (const row of this.statRowsA.all(type.relId, id)) stats.set(row.prop, row);
    const props: PropertyAggregate[] = [];
    for (const property of type.properties) {
      const row = stats.get(property.name);
      if (!row || row.count <= 0) continue;
      const numeric = isNumeric(property.type);
      let sum: number | null = null;
      if (property.sum && numeric && row.sum !== null) {
        sum = property.type === 'int' ? Number(row.sum) : row.sum + row.sum_c;
      }
      const top = keepsTop(property)
        ? this.topQuery
            .all(type.relId, id, property.name, property.top)
            .map((r) => ({ profileId: r.b, value: r.v }))
        : null;
      props.push({ name: property.name, count: row.count, sum, top });
    }
    return { total: stats.get('')?.count ?? 0, props };
  }
}
