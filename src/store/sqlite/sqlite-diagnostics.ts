// What operators and tests look at: pragmas, query plans of the per-request statements (to prove
// that none scans or sorts), and the ping that health checks run.
import type { CatalogCache } from './sqlite-catalog-cache.js';
import type { SqliteRelations } from './sqlite-relations.js';
import type { Statements, Stmt } from './sqlite-statements.js';
import type { SqliteTransactions } from './sqlite-transactions.js';

export class SqliteDiagnostics {
  private readonly pingStmt: Stmt;

  constructor(
    private readonly statements: Statements,
    private readonly tx: SqliteTransactions,
    private readonly catalog: CatalogCache,
    private readonly relations: SqliteRelations,
  ) {
    this.pingStmt = statements.cold('SELECT max(version) FROM schema_migrations').pluck();
  }

  /** Runs a pragma; for operators and tests (e.g. max_page_count), never on a hot path. */
  pragma(source: string, simple = false): unknown {
    return this.tx.read(() => this.statements.db.pragma(source, { simple }));
  }

  /** The query plan of some SQL, one detail line per step (parameters bound to NULL); for tests. */
  explain(sql: string): string[] {
    const params = new Array<null>(sql.split('?').length - 1).fill(null);
    return this.statements.db
      .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((r) => r.detail);
  }

  /**
   * Query plans of the statements that run per request, by name, plus a strengthen UPDATE of
   * each numeric property of each relation type (`strengthen:<rel_id>:<property>`).
   */
  queryPlans(): Record<string, string[]> {
    const plans: Record<string, string[]> = {};
    for (const [name, stmt] of this.statements.hotStatements()) plans[name] = this.explain(stmt.source);
    for (const type of this.catalog.types.values()) {
      for (const [property, sql] of Object.entries(this.relations.updaterSources(type))) {
        plans[`strengthen:${type.relId}:${property}`] = this.explain(sql);
      }
    }
    return plans;
  }

  ping(): void {
    this.tx.read(() => this.pingStmt.get());
  }
}
