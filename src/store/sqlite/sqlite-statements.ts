// Prepared statements: the types every role file uses, and the registry of the statements that run
// per request, by name, so that the diagnostics can show (and tests check) that none of them scans.
import type BetterSqlite3 from 'better-sqlite3';

export type Db = BetterSqlite3.Database;
export type Stmt<R = unknown> = BetterSqlite3.Statement<unknown[], R>;

/**
 * Prepares each role's statements once, at open. `hot` registers a statement that runs per request
 * under a name (the query-plan test refers to statements by these names); `cold` one that runs
 * rarely (catalogue writes, whole-type rebuilds), whose plan may scan.
 */
export class Statements {
  private readonly hotByName = new Map<string, Stmt>();

  constructor(readonly db: Db) {}

  hot<R = unknown>(name: string, sql: string): Stmt<R> {
    if (this.hotByName.has(name)) throw new Error(`sqlite store: two statements named ${name}`);
    const stmt = this.db.prepare<unknown[], R>(sql);
    this.hotByName.set(name, stmt as Stmt);
    return stmt;
  }

  cold<R = unknown>(sql: string): Stmt<R> {
    return this.db.prepare<unknown[], R>(sql);
  }

  /** The per-request statements, by name. */
  hotStatements(): ReadonlyMap<string, Stmt> {
    return this.hotByName;
  }
}
