// Catalogue and tokens of the PostgreSQL store: databases, resources, relation types and tokens,
// written through server-side functions (sql/functions/07-relation-types.sql, 08-catalogue.sql)
// and cached by every server. Every catalogue or token write sends NOTIFY ties_catalog (payload:
// the schema) in its transaction; each server listens on a connection of its own and drops its
// cache on a notification. While that connection is down, cached entries are trusted for 1 s at
// most and tokens are not cached.
import type pg from 'pg';
import type { Database, FieldDef, RelationType, Resource, TokenInfo, TokenRecord } from '../../core/model.js';
import type {
  NewDatabase,
  NewRelationType,
  NewResource,
  NewToken,
  Page,
  UpdateRelationTypeInput,
} from '../../core/store.js';
import {
  type DatabaseRow as CatalogDatabaseRow,
  type RelationTypeRow as CatalogRelationTypeRow,
  type ResourceRow as CatalogResourceRow,
  type TokenRow as CatalogTokenRow,
  catalogMappers,
  pageOf,
} from '../catalog-rows.js';
import { pgDriver } from './pg-driver.js';
import type { StoreLogger } from './postgres-errors.js';
import type { PgStatements } from './postgres-statements.js';

/** Without a listening connection, cached catalogue entries are trusted this long. */
const UNLISTENED_TTL_MS = 1_000;
const LISTEN_RETRY_MAX_MS = 5_000;
const MAX_CACHED_TOKENS = 10_000;
const CATALOG_CHANNEL = 'ties_catalog';

// Rows as pg returns them (jsonb parsed, int4 as number).
type DatabaseRow = CatalogDatabaseRow<unknown>;
type ResourceRow = CatalogResourceRow<unknown>;
type RelationTypeRow = CatalogRelationTypeRow<unknown>;
type TokenRow = CatalogTokenRow<unknown>;

interface Catalog {
  readonly databases: ReadonlyMap<number, Database>;
  readonly resources: ReadonlyMap<number, Resource>;
  readonly types: ReadonlyMap<number, RelationType>;
}

/** jsonb columns arrive parsed. */
const { toDatabase, toResource, toRelationType, toTokenRecord, toTokenInfo } = catalogMappers<unknown>(
  (value) => value,
);

export class PostgresCatalog {
  private catalog: Catalog | undefined;
  private catalogAt = 0;
  private catalogLoading: Promise<Catalog> | undefined;
  /** Bumped by every invalidation, so that a load started before it does not fill the cache. */
  private generation = 0;
  private readonly tokens = new Map<string, TokenRecord | null>();

  private listener: pg.Client | undefined;
  private listening = false;
  private listenTimer: NodeJS.Timeout | undefined;
  private listenDelay = 250;

  constructor(
    private readonly db: PgStatements,
    /** Settings of the listening connection (the pool's). */
    private readonly clientConfig: pg.ClientConfig,
    /** The schema in use, whose notifications count. */
    private readonly schema: () => string,
    private readonly logger: StoreLogger | undefined,
  ) {}

  invalidate(): void {
    this.generation++;
    this.catalog = undefined;
    this.catalogLoading = undefined;
    this.tokens.clear();
  }

  private async catalogNow(): Promise<Catalog> {
    return this.freshCatalog() ?? this.loadCatalog();
  }

  /** The catalogue in memory while it can be trusted (see catalogNow), else undefined. */
  private freshCatalog(): Catalog | undefined {
    const fresh = this.catalog && (this.listening || Date.now() - this.catalogAt < UNLISTENED_TTL_MS);
    return fresh ? this.catalog : undefined;
  }

  loadCatalog(): Promise<Catalog> {
    if (this.catalogLoading) return this.catalogLoading;
    const generation = this.generation;
    const loading = (async () => {
      const row = await this.db.one<{
        databases: DatabaseRow[];
        resources: ResourceRow[];
        types: RelationTypeRow[];
      }>({ name: 'ties_catalog', text: 'SELECT * FROM ties_load_catalog()' });
      const catalog: Catalog = {
        databases: new Map(row.databases.map((r) => [r.id, toDatabase(r)])),
        resources: new Map(row.resources.map((r) => [r.id, toResource(r)])),
        types: new Map(row.types.map((r) => [r.rel_id, toRelationType(r)])),
      };
      if (this.generation === generation) {
        this.catalog = catalog;
        this.catalogAt = Date.now();
      }
      return catalog;
    })();
    this.catalogLoading = loading;
    const clear = () => {
      if (this.catalogLoading === loading) this.catalogLoading = undefined;
    };
    loading.then(clear, clear);
    return loading;
  }

  /** Listens for catalogue changes on a connection of its own; reconnects with backoff when lost. */
  async listen(): Promise<void> {
    this.listenTimer = undefined;
    if (this.db.closed) return;
    const client = new pgDriver.Client(this.clientConfig);
    client.on('error', (err) => this.listenerLost(client, err));
    client.on('end', () => this.listenerLost(client));
    client.on('notification', (message) => {
      if (message.channel === CATALOG_CHANNEL && message.payload === this.schema()) this.invalidate();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CATALOG_CHANNEL}`);
    } catch (err) {
      this.logger?.warn({ err }, 'postgres store: cannot listen for catalogue changes; retrying');
      client.removeAllListeners('end');
      client.on('error', () => undefined);
      client.end().catch(() => undefined);
      this.scheduleListen();
      return;
    }
    if (this.db.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
    this.listening = true;
    this.listenDelay = 250;
    // Changes made while nobody listened are unknown: start from the database again.
    this.invalidate();
  }

  private listenerLost(client: pg.Client, err?: Error): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    this.listening = false;
    this.invalidate();
    if (!this.db.closed)
      this.logger?.warn({ err }, 'postgres store: lost the catalogue listener; reconnecting');
    client.end().catch(() => undefined);
    this.scheduleListen();
  }

  private scheduleListen(): void {
    if (this.db.closed || this.listenTimer) return;
    this.listenTimer = setTimeout(() => void this.listen(), this.listenDelay);
    this.listenTimer.unref();
    this.listenDelay = Math.min(LISTEN_RETRY_MAX_MS, this.listenDelay * 2);
  }

  /** Whether catalogue changes of other servers reach this one at once (else within a second). */
  isListening(): boolean {
    return this.listening;
  }

  private async catalogWrite<R extends object>(query: pg.QueryConfig): Promise<R> {
    try {
      return await this.db.one<R>(query);
    } finally {
      this.invalidate();
    }
  }

  async createDatabase(input: NewDatabase): Promise<Database> {
    return toDatabase(
      await this.catalogWrite<DatabaseRow>({
        text: 'SELECT * FROM ties_create_database($1, $2, $3, $4)',
        values: [input.name, input.description, JSON.stringify(input.customFields), input.now],
      }),
    );
  }

  async addDatabaseFields(id: number, fields: readonly FieldDef[]): Promise<Database | null> {
    const rows = await this.db
      .run<DatabaseRow>({
        text: 'SELECT * FROM ties_add_database_fields($1, $2)',
        values: [id, JSON.stringify(fields)],
      })
      .finally(() => this.invalidate());
    return rows[0] ? toDatabase(rows[0]) : null;
  }

  /**
   * What `pick` reads of the catalogue: the lookups every relation call makes answer from memory,
   * without an async function's awaits, while the catalogue is fresh.
   */
  private fromCatalog<T>(pick: (catalog: Catalog) => T): Promise<T> {
    const catalog = this.freshCatalog();
    return catalog ? Promise.resolve(pick(catalog)) : this.loadCatalog().then(pick);
  }

  getDatabase(id: number): Promise<Database | null> {
    return this.fromCatalog((c) => c.databases.get(id) ?? null);
  }

  async listDatabases(afterId: number, limit: number): Promise<Page<Database>> {
    return pageOf((await this.catalogNow()).databases.values(), afterId, limit);
  }

  async createResource(input: NewResource): Promise<Resource> {
    return toResource(
      await this.catalogWrite<ResourceRow>({
        text: 'SELECT * FROM ties_create_resource($1, $2, $3, $4, $5, $6)',
        values: [
          input.name,
          JSON.stringify(input.channels),
          JSON.stringify(input.dbIds),
          input.url,
          input.trkDomain,
          input.now,
        ],
      }),
    );
  }

  getResource(id: number): Promise<Resource | null> {
    return this.fromCatalog((c) => c.resources.get(id) ?? null);
  }

  async listResources(afterId: number, limit: number): Promise<Page<Resource>> {
    return pageOf((await this.catalogNow()).resources.values(), afterId, limit);
  }

  // -------------------------------------------------------------------------------------------
  // Relation types

  async createRelationType(input: NewRelationType): Promise<RelationType> {
    return toRelationType(
      await this.catalogWrite<RelationTypeRow>({
        text: 'SELECT * FROM ties_create_relation_type($1, $2, $3, $4, $5)',
        values: [input.name, input.dbA, input.dbB, JSON.stringify(input.properties), input.now],
      }),
    );
  }

  getRelationType(relId: number): Promise<RelationType | null> {
    return this.fromCatalog((c) => c.types.get(relId) ?? null);
  }

  async listRelationTypes(): Promise<readonly RelationType[]> {
    return [...(await this.catalogNow()).types.values()];
  }

  async updateRelationType(input: UpdateRelationTypeInput): Promise<RelationType | null> {
    const rows = await this.db
      .run<RelationTypeRow>({
        text: 'SELECT * FROM ties_update_type($1, $2, $3, $4)',
        values: [input.relId, input.name ?? null, JSON.stringify(input.properties), [...input.rebuild]],
      })
      .finally(() => this.invalidate());
    return rows[0] ? toRelationType(rows[0]) : null;
  }

  async deleteRelationType(relId: number): Promise<boolean> {
    const row = await this.catalogWrite<{ deleted: boolean }>({
      text: 'SELECT ties_delete_type($1) AS deleted',
      values: [relId],
    });
    return row.deleted;
  }

  // -------------------------------------------------------------------------------------------
  // Tokens: cached by hash while notifications flow (every token write notifies)

  private async saveToken(input: NewToken, upsert: boolean): Promise<TokenInfo> {
    return toTokenInfo(
      await this.catalogWrite<TokenRow>({
        text: 'SELECT * FROM ties_create_token($1, $2, $3, $4, $5)',
        values: [input.name, JSON.stringify(input.rights), input.hash, input.now, upsert],
      }),
    );
  }

  createToken(input: NewToken): Promise<TokenInfo> {
    return this.saveToken(input, false);
  }

  ensureToken(input: NewToken): Promise<TokenInfo> {
    return this.saveToken(input, true);
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | null> {
    if (this.listening && this.tokens.has(hash)) return this.tokens.get(hash) ?? null;
    const generation = this.generation;
    const rows = await this.db.run<TokenRow>({
      name: 'ties_token_by_hash',
      text: 'SELECT * FROM tokens WHERE hash = $1',
      values: [hash],
    });
    const record = rows[0] ? toTokenRecord(rows[0]) : null;
    if (this.listening && this.generation === generation) {
      if (this.tokens.size >= MAX_CACHED_TOKENS) this.tokens.clear();
      this.tokens.set(hash, record);
    }
    return record;
  }

  async listTokens(): Promise<readonly TokenInfo[]> {
    return (await this.db.run<TokenRow>({ text: 'SELECT * FROM tokens ORDER BY id' })).map(toTokenInfo);
  }

  /** Revokes the token with this id, or every token with this name; answers how many went. */
  private async revokeTokens(id: number | null, name: string | null): Promise<number> {
    const rows = await this.db
      .run({
        text: 'SELECT * FROM ties_revoke_tokens($1, $2)',
        values: [id, name],
      })
      .finally(() => this.invalidate());
    return rows.length;
  }

  async revokeToken(id: number): Promise<boolean> {
    return (await this.revokeTokens(id, null)) > 0;
  }

  revokeTokensNamed(name: string): Promise<number> {
    return this.revokeTokens(null, name);
  }

  async touchTokens(uses: readonly { readonly id: number; readonly at: string }[]): Promise<void> {
    if (uses.length === 0) return;
    await this.db.run({
      text: 'SELECT ties_touch_tokens($1, $2)',
      values: [uses.map((u) => u.id), uses.map((u) => u.at)],
    });
  }

  /** Ends the listening connection (the store is closing). */
  async stop(): Promise<void> {
    if (this.listenTimer) clearTimeout(this.listenTimer);
    this.listenTimer = undefined;
    const listener = this.listener;
    this.listener = undefined;
    this.listening = false;
    await listener?.end().catch(() => undefined);
  }
}
