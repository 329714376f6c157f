// The SQLite engine: one better-sqlite3 connection and its role objects (transactions, aggregate
// ledger, matching, profiles, relations, catalogue, tokens, diagnostics), composed once. It knows
// nothing of promises or queues, so it can serve SqliteStore on the main thread or run in a worker.
import type { ChangeFilter, ChangePage } from '../../core/change-feed.js';
import type { TiesError } from '../../core/errors.js';
import type { Database, RelationType, Resource, TokenInfo, TokenRecord } from '../../core/model.js';
import type { WebhookState } from '../../core/outbound-store.js';
import type {
  CounterInput,
  CounterOutcome,
  GetProfileOutcome,
  ListRelationsInput,
  ListRelationsOutcome,
  Page,
  ProfileRef,
} from '../../core/store.js';
import { AggregateLedger } from './sqlite-aggregate-ledger.js';
import { SqliteCatalog } from './sqlite-catalog.js';
import { CatalogCache } from './sqlite-catalog-cache.js';
import { SqliteChangeLog } from './sqlite-change-log.js';
import { openConnection, type SqliteEngineOptions } from './sqlite-connection.js';
import { SqliteDiagnostics } from './sqlite-diagnostics.js';
import type { WriteLockBusy } from './sqlite-errors.js';
import { SqliteFeedCursors } from './sqlite-feed-cursors.js';
import { SqliteHealth } from './sqlite-health.js';
import { ProfileFinder } from './sqlite-matching.js';
import { SqliteProfiles } from './sqlite-profiles.js';
import { SqliteRelations } from './sqlite-relations.js';
import { type Db, Statements } from './sqlite-statements.js';
import { SqliteTokens } from './sqlite-tokens.js';
import { type EngineStats, SqliteTransactions } from './sqlite-transactions.js';
import type { BatchResult, WriteOp } from './sqlite-write-ops.js';

export { DEFAULT_BUSY_TIMEOUT_MS, type SqliteEngineOptions, storagePragmas } from './sqlite-connection.js';
export type { EngineStats } from './sqlite-transactions.js';
export type { BatchResult, WriteArgs, WriteMethod, WriteOp, WriteResult } from './sqlite-write-ops.js';

function unknownWrite(op: never): never {
  throw new Error(`sqlite store: unknown write ${JSON.stringify((op as { method?: unknown }).method)}`);
}

export class SqliteEngine {
  /** Opens (creating when needed) and migrates the database, then prepares every fixed statement. */
  static open(options: SqliteEngineOptions): SqliteEngine {
    const db = openConnection(options);
    try {
      return new SqliteEngine(db, options);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  private readonly db: Db;
  private readonly cache: CatalogCache;
  private readonly tx: SqliteTransactions;
  private readonly profiles: SqliteProfiles;
  private readonly relations: SqliteRelations;
  private readonly catalog: SqliteCatalog;
  private readonly tokens: SqliteTokens;
  private readonly diagnostics: SqliteDiagnostics;
  private readonly changes: SqliteChangeLog;
  private readonly feedCursors: SqliteFeedCursors;

  private constructor(db: Db, options: SqliteEngineOptions) {
    const statements = new Statements(db);
    this.db = db;
    this.cache = new CatalogCache(statements);
    const ledger = new AggregateLedger(statements, options.topRows);
    this.tx = new SqliteTransactions(
      statements,
      ledger,
      this.cache,
      new SqliteHealth(options.logger, options.path),
    );
    const finder = new ProfileFinder(statements);
    this.changes = new SqliteChangeLog(statements, options.changeFeed ?? true);
    this.relations = new SqliteRelations(statements, this.tx, this.cache, finder, ledger, this.changes);
    this.profiles = new SqliteProfiles(statements, this.tx, this.cache, finder, this.relations);
    this.catalog = new SqliteCatalog(statements, this.tx, this.cache, this.relations, ledger);
    this.tokens = new SqliteTokens(statements, this.tx);
    this.diagnostics = new SqliteDiagnostics(statements, this.tx, this.cache, this.relations);
    this.feedCursors = new SqliteFeedCursors(statements, this.tx);
  }

  // -------------------------------------------------------------------------------------------
  // Writes

  /**
   * Applies writes as one transaction, each in its own savepoint, then one COMMIT (see
   * SqliteTransactions.runBatch); one result per op, in order.
   */
  runBatch(ops: readonly WriteOp[]): BatchResult[] {
    return this.tx.runBatch(ops, (op) => this.execute(op));
  }

  /** Runs one queued write (outside runBatch it is its own transaction). */
  execute(op: WriteOp): unknown {
    switch (op.method) {
      case 'saveProfile':
        return this.profiles.saveProfile(...op.args);
      case 'deleteProfile':
        return this.profiles.deleteProfile(...op.args);
      case 'attach':
        return this.relations.attach(...op.args);
      case 'attachMany':
        return this.relations.attachMany(...op.args);
      case 'strengthen':
        return this.relations.strengthen(...op.args);
      case 'edit':
        return this.relations.edit(...op.args);
      case 'detach':
        return this.relations.detach(...op.args);
      case 'createDatabase':
        return this.catalog.createDatabase(...op.args);
      case 'addDatabaseFields':
        return this.catalog.addDatabaseFields(...op.args);
      case 'createResource':
        return this.catalog.createResource(...op.args);
      case 'createRelationType':
        return this.catalog.createRelationType(...op.args);
      case 'updateRelationType':
        return this.catalog.updateRelationType(...op.args);
      case 'deleteRelationType':
        return this.catalog.deleteRelationType(...op.args);
      case 'createToken':
        return this.tokens.createToken(...op.args);
      case 'ensureToken':
        return this.tokens.ensureToken(...op.args);
      case 'revokeToken':
        return this.tokens.revokeToken(...op.args);
      case 'revokeTokensNamed':
        return this.tokens.revokeTokensNamed(...op.args);
      case 'touchTokens':
        return this.tokens.touchTokens(...op.args);
      case 'pruneChanges':
        return this.tx.write(() => this.changes.prune(...op.args));
      case 'createWebhook':
        return this.feedCursors.createWebhook(...op.args);
      case 'deleteWebhook':
        return this.feedCursors.deleteWebhook(...op.args);
      case 'claimFeedCursor':
        return this.feedCursors.claimFeedCursor(...op.args);
      case 'updateFeedCursor':
        return this.feedCursors.updateFeedCursor(...op.args);
      case 'releaseFeedCursor':
        return this.feedCursors.releaseFeedCursor(...op.args);
      default:
        return unknownWrite(op);
    }
  }

  /**
   * Refuses writes that waited their longest for another process's write lock: a failed batch,
   * logged once per episode; answers the error they get.
   */
  lockRefused(busy: WriteLockBusy, writes: number, waitMs: number): TiesError {
    return this.tx.lockRefused(busy, writes, waitMs);
  }

  /**
   * How long a statement of this connection waits inside SQLite for another process's lock. The
   * wait blocks the thread, so connections on the main thread keep it at 0 once open.
   */
  setBusyTimeout(ms: number): void {
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(ms))}`);
  }

  stats(): EngineStats {
    return this.tx.stats();
  }

  /** Changes whenever a catalogue write ran (committed or not); a reader on another connection reloads then. */
  catalogVersion(): number {
    return this.cache.version;
  }

  /** Rereads databases, resources and relation types, e.g. after another connection changed them. */
  reloadCatalog(): void {
    this.tx.read(() => this.cache.load());
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  getProfile(ref: ProfileRef): GetProfileOutcome {
    return this.profiles.getProfile(ref);
  }
  listRelations(input: ListRelationsInput): ListRelationsOutcome {
    return this.relations.listRelations(input);
  }
  counter(input: CounterInput): CounterOutcome {
    return this.relations.counter(input);
  }
  getDatabase(id: number): Database | null {
    return this.catalog.getDatabase(id);
  }
  listDatabases(afterId: number, limit: number): Page<Database> {
    return this.catalog.listDatabases(afterId, limit);
  }
  getResource(id: number): Resource | null {
    return this.catalog.getResource(id);
  }
  listResources(afterId: number, limit: number): Page<Resource> {
    return this.catalog.listResources(afterId, limit);
  }
  getRelationType(relId: number): RelationType | null {
    return this.catalog.getRelationType(relId);
  }
  listRelationTypes(): readonly RelationType[] {
    return this.catalog.listRelationTypes();
  }
  findTokenByHash(hash: string): TokenRecord | null {
    return this.tokens.findTokenByHash(hash);
  }
  listTokens(): readonly TokenInfo[] {
    return this.tokens.listTokens();
  }
  readChanges(after: number, limit: number, filter: ChangeFilter): ChangePage {
    return this.tx.read(() => this.changes.read(after, limit, filter));
  }
  listWebhooks(): { webhooks: WebhookState[]; head: number } {
    return this.feedCursors.listWebhooks();
  }

  // -------------------------------------------------------------------------------------------
  // Diagnostics and lifetime

  /** Runs a pragma; for operators and tests (e.g. max_page_count), never on a hot path. */
  pragma(source: string, simple = false): unknown {
    return this.diagnostics.pragma(source, simple);
  }

  /** The query plan of some SQL, one detail line per step; for tests. */
  explain(sql: string): string[] {
    return this.diagnostics.explain(sql);
  }

  /** Query plans of the per-request statements, by name; tests use them to prove nothing scans. */
  queryPlans(): Record<string, string[]> {
    return this.diagnostics.queryPlans();
  }

  /** Throws STORE_UNAVAILABLE once this connection has seen the file corrupt. */
  assertSound(): void {
    this.tx.health.assertSound();
  }

  /** Fails once the file is known to be corrupt, or when the schema cannot be read. */
  ping(): void {
    this.tx.health.assertSound();
    this.diagnostics.ping();
  }

  close(): void {
    if (!this.db.open) return;
    // Lets SQLite refresh the statistics it plans with; advisory, so a read-only file may skip it.
    this.tx.safely('optimize', () => this.db.pragma('optimize'));
    this.db.close();
  }
}
