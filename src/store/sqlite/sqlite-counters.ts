// Reads of the aggregate ledger: a profile's relation total (relations/get's total_count) and
// get_counter's figures, from A's aggregate rows and either A's top rows or, for an A with few
// relations, its relations themselves (one short range, ordered here); never a scan of a hub.
import type { RelationType } from '../../core/model.js';
import { isNumeric } from '../../core/property-types.js';
import type { PropertyAggregate } from '../../core/store.js';
import { keepsTop } from './sqlite-aggregate-ledger.js';
import { KIND, RELATION_KEY, TOTAL_KEY } from './sqlite-layout.js';
import type { Statements, Stmt } from './sqlite-statements.js';

interface StatRow {
  prop: string;
  count: number;
  sum: number | null;
  sum_c: number | null;
  tops: number | null;
}

type TopRow = { id: string; v: number };

export class CounterReader {
  private readonly totalA: Stmt<number>;
  private readonly totalB: Stmt<number>;
  private readonly statRowsA: Stmt<StatRow>;
  private readonly topQuery: Stmt<TopRow>;
  private readonly topScan: Stmt<TopRow>;

  constructor(statements: Statements) {
    const s = statements;
    const a = 'rel_id = ? AND a = unhex(?)';
    this.totalA = s
      .hot<number>('totalA', `SELECT count FROM relations_a WHERE ${a} AND ${TOTAL_KEY}`)
      .pluck();
    this.totalB = s
      .hot<number>('totalB', "SELECT count FROM relations_b WHERE rel_id = ? AND b = unhex(?) AND a = x''")
      .pluck();
    this.statRowsA = s.hot<StatRow>(
      'statRowsA',
      `SELECT prop, count, sum, sum_c, tops FROM relations_a WHERE ${a} AND kind = ${KIND.aggregate}`,
    );
    this.topQuery = s.hot<TopRow>(
      'topQuery',
      `SELECT lower(hex(b)) AS id, value AS v FROM relations_a WHERE ${a} AND kind = ${KIND.top} AND prop = ?
       ORDER BY value DESC, b LIMIT ?`,
    );
    // Only for an A without top rows, i.e. with at most TOP_ROWS.from relations: a short sort.
    this.topScan = s.hot<TopRow>(
      'topScan',
      `SELECT lower(hex(b)) AS id, json_extract(weights, ?) AS v FROM relations_a
       WHERE ${a} AND ${RELATION_KEY} AND json_type(weights, ?) IN ('integer', 'real')
       ORDER BY v DESC, b LIMIT ?`,
    );
  }

  /** How many relations point at (side a) or start from (side b) the profile. */
  total(relId: number, profileId: string, side: 'a' | 'b'): number {
    return ((side === 'a' ? this.totalA : this.totalB).get(relId, profileId) as number | undefined) ?? 0;
  }

  /** get_counter's figures for profile A: its total and each property's count, sum and top. */
  counter(type: RelationType, id: string): { total: number; props: PropertyAggregate[] } {
    const stats = new Map<string, StatRow>();
    for (const row of this.statRowsA.all(type.relId, id)) stats.set(row.prop, row);
    const totalRow = stats.get('');
    const topRows = totalRow?.tops === 1;
    const props: PropertyAggregate[] = [];
    for (const property of type.properties) {
      const row = stats.get(property.name);
      if (!row || row.count <= 0) continue;
      const numeric = isNumeric(property.type);
      let sum: number | null = null;
      if (property.sum && numeric && row.sum !== null) {
        sum = property.type === 'int' ? Number(row.sum) : row.sum + (row.sum_c ?? 0);
      }
      let top: { profileId: string; value: number }[] | null = null;
      if (keepsTop(property)) {
        const path = `$.${property.name}`;
        const rows = topRows
          ? this.topQuery.all(type.relId, id, property.name, property.top)
          : this.topScan.all(path, type.relId, id, path, property.top);
        top = rows.map((r) => ({ profileId: r.id, value: r.v }));
      }
      props.push({ name: property.name, count: row.count, sum, top });
    }
    return { total: totalRow?.count ?? 0, props };
  }
}
