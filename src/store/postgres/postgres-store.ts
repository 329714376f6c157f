// The PostgreSQL store: the Store port over a pg Pool, made of one part per role — running
// statements (postgres-statements.ts), profiles (postgres-profiles.ts), relations
// (postgres-relations.ts), the catalogue and tokens with their cache (postgres-catalog.ts) — and
// the schema's migrations (migrations.ts). Every call is one statement — a call of a server-side
// function (sql/functions/*.sql) for relation and profile calls — so one round trip and one
// transaction. See README.md in this folder.
import type pg from 'pg';
import type { ChangeFilter, ChangePage, PruneInput } from '../../core/change-feed.js';
import { TiesError } from '../../core/errors.js';
import type { Database, FieldDef, RelationType, Resource, TokenInfo, TokenRecord } from '../../core/model.js';
import type {
  CursorClaim,
  CursorUpdate,
  FeedCursor,
  NewWebhook,
  Webhook,
  WebhookState,
} from '../../core/outbound-store.js';
import type {
  AttachInput,
  AttachManyOutcome,
  AttachOutcome,
  CounterInput,
  CounterOutcome,
  DeleteProfileOutcome,
  DetachInput,
  DetachOutcome,
  EditInput,
  EditOutcome,
  GetProfileOutcome,
  ListRelationsInput,
  ListRelationsOutcome,
  NewDatabase,
  NewRelationType,
  NewResource,
  NewToken,
  Page,
  ProfileRef,
  SaveProfileInput,
  SaveProfileOutcome,
  Store,
  StrengthenInput,
  StrengthenOutcome,
  UpdateRelationTypeInput,
} from '../../core/store.js';
import type { ProgressListener } from '../migration-runner.js';
import { migrate, SchemaTooNewError } from './migrations.js';
import {
  DEFAULT_POOL_MAX,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  PG_BULK_CHUNK,
  PG_BULK_CHUNK_MAX,
} from './pg-defaults.js';
import { pgDriver } from './pg-driver.js';
import { PostgresCatalog } from './postgres-catalog.js';
import { PostgresChanges } from './postgres-changes.js';
import { breaksConnection, type StoreLogger, sqlState, toStoreError } from './postgres-errors.js';
import { PostgresFeedCursors } from './postgres-feed-cursors.js';
import { PostgresProfiles } from './postgres-profiles.js';
import { PostgresRelations } from './postgres-relations.js';
import { PgStatements } from './postgres-statements.js';

export interface PostgresStoreOptions {
  /** postgres://user@host:port/db; a `schema` query parameter sets the schema as the option does. */
  readonly url: string;
  /**
   * Schema holding Ties' tables (lower case, digits, _), created when missing; every connection
   * gets it as search_path. Default: the server's search_path (usually public).
   */
  readonly schema?: string | undefined;
  /** Connections in the pool (default 10). */
  readonly poolMax?: number | undefined;
  /** Longest wait for a new connection before the call answers 503 (default 5000 ms). */
  readonly connectTimeoutMs?: number | undefined;
  /** Longest statement; PostgreSQL cancels it after this, and the call answers 503 (default 30000 ms). */
  readonly statementTimeoutMs?: number | undefined;
  /** Attempts of a call PostgreSQL rolled back for a deadlock or serialization failure (default 5). */
  readonly maxAttempts?: number | undefined;
  readonly logger?: StoreLogger | undefined;
  /** Reports of migrations at work while the store opens (a large 0.1.0 store takes a while). */
  readonly onMigrationProgress?: ProgressListener | undefined;
  /** Whether this server's writes log their changes for the change feed (TIES_FEED; default true). */
  readonly changeFeed?: boolean | undefined;
}

export { DEFAULT_POOL_MAX, DEFAULT_STATEMENT_TIMEOUT_MS, PG_BULK_CHUNK };
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Connects, creates the schema when missing, migrates, and loads the catalogue. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const store = new PostgresStore(options);
  try {
    await store.open();
    return store;
  } catch (err) {
    await store.close();
    throw err;
  }
}

export class PostgresStore implements Store {
  readonly engine = 'postgres' as const;
  /** The schema actually in use (known after open). */
  schema = '';
  readonly pool: pg.Pool;
  private readonly wantedSchema: string | undefined;
  private readonly logger: StoreLogger | undefined;
  private readonly onMigrationProgress: ProgressListener | undefined;
  /** How a second connection for watching a long migration is made (migration-watch.ts). */
  private readonly clientConfig: pg.ClientConfig;
  private readonly db: PgStatements;
  private readonly catalog: PostgresCatalog;
  private readonly profiles: PostgresProfiles;
  private readonly relations: PostgresRelations;
  private readonly changes: PostgresChanges;
  private readonly feedCursors: PostgresFeedCursors;

  constructor(options: PostgresStoreOptions) {
    const url = new URL(options.url);
    const fromUrl = url.searchParams.get('schema') ?? undefined;
    url.searchParams.delete('schema');
    const schema = options.schema ?? fromUrl;
    if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
      throw new Error(`postgres store: schema must match ${SCHEMA_NAME} (got ${JSON.stringify(schema)})`);
    }
    this.wantedSchema = schema;
    this.logger = options.logger;
    this.onMigrationProgress = options.onMigrationProgress;
    const statementTimeout = Math.max(100, options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS);
    // extra_float_digits=1 (the default since PostgreSQL 12) makes float8 text the shortest exact
    // form, so doubles survive jsonb and the wire unchanged; set here in case a server lowered it.
    const settings = [`-c extra_float_digits=1`, `-c statement_timeout=${statementTimeout}`];
    if (schema !== undefined) settings.push(`-c search_path=${schema}`);
    // Read by ties_feed_on() (sql/functions/10-change-log.sql): with the feed off, no event is written.
    if (options.changeFeed === false) settings.push('-c ties.feed=off');
    const clientConfig: pg.ClientConfig = {
      connectionString: url.toString(),
      connectionTimeoutMillis: Math.max(100, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
      // Client-side guard for a server that stops answering without closing the socket.
      query_timeout: statementTimeout + 5_000,
      keepAlive: true,
      application_name: 'ties',
      options: settings.join(' '),
    };
    this.pool = new pgDriver.Pool({
      ...clientConfig,
      max: Math.max(1, options.poolMax ?? DEFAULT_POOL_MAX),
      idleTimeoutMillis: 30_000,
      // Never keeps a process alive on its own (tests, the CLI).
      allowExitOnIdle: true,
    });
    // Idle connections die when PostgreSQL restarts; without these handlers that would crash Node.
    this.pool.on('error', (err) => this.logger?.warn({ err }, 'postgres store: idle connection lost'));
    this.pool.on('connect', (client) => {
      client.on('error', (err) => this.logger?.warn({ err }, 'postgres store: connection lost'));
    });
    this.db = new PgStatements(this.pool, Math.max(1, options.maxAttempts ?? 5), this.logger, () =>
      this.repairSchema(),
    );
    this.clientConfig = clientConfig;
    this.catalog = new PostgresCatalog(this.db, clientConfig, () => this.schema, this.logger);
    this.profiles = new PostgresProfiles(this.db);
    this.relations = new PostgresRelations(this.db);
    this.changes = new PostgresChanges(this.db);
    this.feedCursors = new PostgresFeedCursors(this.db);
  }

  /** Creates the schema when missing, migrates it, loads the catalogue and starts listening. */
  async open(): Promise<void> {
    await this.prepareSchema();
    await this.catalog.loadCatalog();
    await this.catalog.listen();
  }

  private repairing: Promise<void> | undefined;

  /**
   * The schema was dropped or recreated under the running server: calls answer 503 meanwhile, and
   * the migrations run again (under their advisory lock, so several servers may try at once).
   */
  private repairSchema(): void {
    if (this.repairing || this.db.closed) return;
    this.logger?.error(
      { schema: this.schema },
      'postgres store: the schema is missing; re-running the migrations',
    );
    this.repairing = (async () => {
      try {
        await this.prepareSchema();
        await this.catalog.loadCatalog();
        this.logger?.warn({ schema: this.schema }, 'postgres store: the schema is back');
      } catch (err) {
        this.logger?.error(
          { err },
          'postgres store: re-creating the schema failed; the next call tries again',
        );
      } finally {
        this.repairing = undefined;
      }
    })();
  }

  /** Creates the schema when missing and brings it up to date. */
  private async prepareSchema(): Promise<void> {
    const client = await this.db.connect();
    let broken: Error | undefined;
    try {
      if (this.wantedSchema !== undefined) {
        // IF NOT EXISTS still races with another server creating it at the same moment.
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.wantedSchema}`).catch((err: unknown) => {
          if (sqlState(err) !== '23505' && sqlState(err) !== '42P06') throw err;
        });
      }
      const { rows } = await client.query<{ schema: string | null }>('SELECT current_schema() AS schema');
      if (!rows[0]?.schema) {
        throw new TiesError('STORE_UNAVAILABLE', {
          reason: 'no schema in the search_path to create tables in',
        });
      }
      this.schema = rows[0].schema;
      await migrate(client, {
        onProgress: this.onMigrationProgress,
        watch: {
          open: async () => {
            const watcher = new pgDriver.Client({
              ...this.clientConfig,
              application_name: 'ties migration watch',
            });
            // A connection that dies while idle must not take the process with it.
            watcher.on('error', () => undefined);
            await watcher.connect();
            return watcher;
          },
        },
      });
    } catch (err) {
      if (err instanceof SchemaTooNewError) throw err;
      if (breaksConnection(err)) broken = err as Error;
      throw toStoreError(err, this.logger);
    } finally {
      client.release(broken);
    }
  }

  /** Runs one statement (one transaction); see PgStatements.run. */
  run<R extends object>(query: pg.QueryConfig): Promise<R[]> {
    return this.db.run<R>(query);
  }

  /** Statements sent (each one round trip) and calls retried after a deadlock or serialization failure. */
  stats(): { readonly statements: number; readonly retries: number } {
    return this.db.stats();
  }

  /** Whether catalogue changes of other servers reach this one at once (else within a second). */
  isListening(): boolean {
    return this.catalog.isListening();
  }

  // Profiles
  saveProfile(input: SaveProfileInput): Promise<SaveProfileOutcome> {
    return this.profiles.saveProfile(input);
  }
  getProfile(ref: ProfileRef): Promise<GetProfileOutcome> {
    return this.profiles.getProfile(ref);
  }
  deleteProfile(ref: ProfileRef): Promise<DeleteProfileOutcome> {
    return this.changes.written(this.profiles.deleteProfile(ref));
  }

  // Relations
  attach(input: AttachInput): Promise<AttachOutcome> {
    return this.changes.written(this.relations.attach(input));
  }
  /**
   * `ties import` sends 8,000 items per ties_attach_many call, not attach_batch's 1,000: a call has
   * a fixed cost (staging table, lookups, locks, one commit) and a chunk's aggregate changes are
   * merged per row, so fewer, larger chunks write fewer rows. Measured 1.3-1.5 x the rows/s of 1,000
   * (bench/pg-import-split.ts, docs/benchmarks.md "PostgreSQL import: where the time goes"); past
   * 8,000 a short import gains nothing more (its two connections lose their overlap), a long one
   * does (bulkChunkMax).
   */
  readonly bulkChunk = PG_BULK_CHUNK;
  /**
   * A long import's chunks grow to 32,000 items: on a store of many As a chunk's merge rewrites
   * the aggregate rows of every A it names (~27,500 rows per 8,000 items over 10,000 As), so
   * larger chunks share them. 1,000,000 relations over 10,000 × 10,000 profiles loaded 1.57 × as
   * fast with 32,000-item chunks, 1.88 × with 64,000 (docs/benchmarks.md, "PostgreSQL import: the
   * chunk grows"); 32,000 keeps a chunk a few seconds long on Citus, under the statement timeout.
   */
  readonly bulkChunkMax = PG_BULK_CHUNK_MAX;

  attachMany(inputs: readonly AttachInput[]): Promise<AttachManyOutcome[]> {
    return this.changes.written(this.relations.attachMany(inputs));
  }
  strengthen(input: StrengthenInput): Promise<StrengthenOutcome> {
    return this.changes.written(this.relations.strengthen(input));
  }
  edit(input: EditInput): Promise<EditOutcome> {
    return this.changes.written(this.relations.edit(input));
  }
  detach(input: DetachInput): Promise<DetachOutcome> {
    return this.changes.written(this.relations.detach(input));
  }
  listRelations(input: ListRelationsInput): Promise<ListRelationsOutcome> {
    return this.relations.listRelations(input);
  }
  counter(input: CounterInput): Promise<CounterOutcome> {
    return this.relations.counter(input);
  }

  // Databases and resources
  createDatabase(input: NewDatabase): Promise<Database> {
    return this.catalog.createDatabase(input);
  }
  addDatabaseFields(id: number, fields: readonly FieldDef[]): Promise<Database | null> {
    return this.catalog.addDatabaseFields(id, fields);
  }
  getDatabase(id: number): Promise<Database | null> {
    return this.catalog.getDatabase(id);
  }
  listDatabases(afterId: number, limit: number): Promise<Page<Database>> {
    return this.catalog.listDatabases(afterId, limit);
  }
  createResource(input: NewResource): Promise<Resource> {
    return this.catalog.createResource(input);
  }
  getResource(id: number): Promise<Resource | null> {
    return this.catalog.getResource(id);
  }
  listResources(afterId: number, limit: number): Promise<Page<Resource>> {
    return this.catalog.listResources(afterId, limit);
  }

  // Relation types
  createRelationType(input: NewRelationType): Promise<RelationType> {
    return this.catalog.createRelationType(input);
  }
  getRelationType(relId: number): Promise<RelationType | null> {
    return this.catalog.getRelationType(relId);
  }
  listRelationTypes(): Promise<readonly RelationType[]> {
    return this.catalog.listRelationTypes();
  }
  updateRelationType(input: UpdateRelationTypeInput): Promise<RelationType | null> {
    return this.catalog.updateRelationType(input);
  }
  deleteRelationType(relId: number): Promise<boolean> {
    return this.changes.written(this.catalog.deleteRelationType(relId));
  }

  // Tokens
  createToken(input: NewToken): Promise<TokenInfo> {
    return this.catalog.createToken(input);
  }
  ensureToken(input: NewToken): Promise<TokenInfo> {
    return this.catalog.ensureToken(input);
  }
  findTokenByHash(hash: string): Promise<TokenRecord | null> {
    return this.catalog.findTokenByHash(hash);
  }
  listTokens(): Promise<readonly TokenInfo[]> {
    return this.catalog.listTokens();
  }
  revokeToken(id: number): Promise<boolean> {
    return this.catalog.revokeToken(id);
  }
  revokeTokensNamed(name: string): Promise<number> {
    return this.catalog.revokeTokensNamed(name);
  }
  touchTokens(uses: readonly { readonly id: number; readonly at: string }[]): Promise<void> {
    return this.catalog.touchTokens(uses);
  }

  // Change feed
  readChanges(after: number, limit: number, filter: ChangeFilter): Promise<ChangePage> {
    return this.changes.read(after, limit, filter);
  }
  pruneChanges(input: PruneInput): Promise<number> {
    return this.changes.prune(input);
  }
  onChangesWritten(listener: () => void): () => void {
    return this.changes.onWritten(listener);
  }

  // Webhooks and feed cursors
  createWebhook(input: NewWebhook): Promise<Webhook> {
    return this.feedCursors.createWebhook(input);
  }
  listWebhooks(): Promise<{ readonly webhooks: readonly WebhookState[]; readonly head: number }> {
    return this.feedCursors.listWebhooks();
  }
  deleteWebhook(id: number): Promise<boolean> {
    return this.feedCursors.deleteWebhook(id);
  }
  claimFeedCursor(claim: CursorClaim): Promise<FeedCursor | null> {
    return this.feedCursors.claimFeedCursor(claim);
  }
  updateFeedCursor(update: CursorUpdate): Promise<boolean> {
    return this.feedCursors.updateFeedCursor(update);
  }
  releaseFeedCursor(name: string, owner: string): Promise<void> {
    return this.feedCursors.releaseFeedCursor(name, owner);
  }

  async ping(): Promise<void> {
    // The schema, not only the connection: /health fails while Ties' tables are gone.
    await this.db.run({ name: 'ties_ping_schema', text: 'SELECT max(version) FROM schema_migrations' });
  }

  /** Ends the listener and every pooled connection; later calls are refused. */
  async close(): Promise<void> {
    if (this.db.closed) return;
    this.db.closed = true;
    await this.catalog.stop();
    await this.pool.end().catch(() => undefined);
  }
}
