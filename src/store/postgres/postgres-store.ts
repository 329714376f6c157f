// The PostgreSQL store: the Store port over a pg Pool. Every call is one statement — a call of a
// server-side function (sql/functions/*.sql) for relation and profile calls — so one round
// trip and one transaction. The catalogue and tokens are cached and dropped on NOTIFY, so that
// several servers sharing one database see each other's changes within milliseconds.
import pg from 'pg';
import { isTiesError, TiesError } from '../../core/errors.js';
import { mergeFields, profileMatchKeys } from '../../core/fields.js';
import { resolveOne, resolvePair } from '../../core/matching.js';
import type {
  Channel,
  Database,
  FieldDef,
  FieldValue,
  PropertyDef,
  RelationType,
  Resource,
  SubscriptionStatus,
  TokenInfo,
  TokenRecord,
  Weights,
} from '../../core/model.js';
import { isNumeric } from '../../core/property-types.js';
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
  MatchKeys,
  NewDatabase,
  NewRelationType,
  NewResource,
  NewToken,
  Page,
  PairFailure,
  PairOk,
  ProfileRef,
  PropertyAggregate,
  RelationTuple,
  SaveProfileInput,
  SaveProfileOutcome,
  Store,
  StrengthenInput,
  StrengthenOutcome,
  SubscriptionChange,
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
import type { ProgressListener } from '../migration-runner.js';
import { migrate, SchemaTooNewError } from './migrations.js';
import {
  breaksConnection,
  isRetryable,
  type StoreLogger,
  sqlState,
  storeClosed,
  toStoreError,
} from './postgres-errors.js';

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
}

export const DEFAULT_POOL_MAX = 10;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** Without a listening connection, cached catalogue entries are trusted this long. */
const UNLISTENED_TTL_MS = 1_000;
const LISTEN_RETRY_MAX_MS = 5_000;
const MAX_CACHED_TOKENS = 10_000;
const CATALOG_CHANNEL = 'ties_catalog';

// ---------------------------------------------------------------------------------------------
// Rows as pg returns them (jsonb parsed, int4 as number, int8 and numeric as string)

type DatabaseRow = CatalogDatabaseRow<unknown>;
type ResourceRow = CatalogResourceRow<unknown>;
type RelationTypeRow = CatalogRelationTypeRow<unknown>;
type TokenRow = CatalogTokenRow<unknown>;
interface PairRow {
  status: 'ok' | 'no_type' | 'pair' | 'duplicate' | 'no_relation' | 'overflow';
  a_ids: string[] | null;
  b_ids: string[] | null;
  created?: boolean | null;
  overflow_property?: string | null;
  overflow_result?: string | null;
}
interface MatchRow {
  status: string;
  ids: string[] | null;
}

interface Catalog {
  readonly databases: ReadonlyMap<number, Database>;
  readonly resources: ReadonlyMap<number, Resource>;
  readonly types: ReadonlyMap<number, RelationType>;
}

/** jsonb columns arrive parsed. */
const { toDatabase, toResource, toRelationType, toTokenRecord, toTokenInfo } = catalogMappers<unknown>(
  (value) => value,
);

/** The match_keys pairs of a set of fields: [kind, key]. */
function keyPairs(keys: MatchKeys): [string, string][] {
  const pairs: [string, string][] = [];
  if (keys.email !== null) pairs.push(['e', keys.email]);
  for (const phone of keys.phones) pairs.push(['p', phone]);
  for (const k of keys.fields) pairs.push([`f:${k.field}`, k.key]);
  return pairs;
}

/** One subscription per (resource, channel, contact key), the last given winning, as upserts in order would. */
function distinctSubscriptions(subscriptions: readonly SubscriptionChange[]): SubscriptionChange[] {
  const byKey = new Map<string, SubscriptionChange>();
  for (const s of subscriptions) byKey.set(JSON.stringify([s.resourceId, s.channel, s.contactKey]), s);
  return [...byKey.values()];
}

function pairOutcome(row: PairRow): PairFailure | PairOk {
  return resolvePair(row.a_ids ?? [], row.b_ids ?? []);
}

function noType(relId: number): TiesError {
  return new TiesError('RELATION_TYPE_NOT_FOUND', { rel_id: relId });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------

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
  private readonly clientConfig: pg.ClientConfig;
  private readonly wantedSchema: string | undefined;
  private readonly maxAttempts: number;
  private readonly logger: StoreLogger | undefined;
  private readonly onMigrationProgress: ProgressListener | undefined;
  private closed = false;
  private counters = { statements: 0, retries: 0 };

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
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    const statementTimeout = Math.max(100, options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS);
    // extra_float_digits=1 (the default since PostgreSQL 12) makes float8 text the shortest exact
    // form, so doubles survive jsonb and the wire unchanged; set here in case a server lowered it.
    const settings = [`-c extra_float_digits=1`, `-c statement_timeout=${statementTimeout}`];
    if (schema !== undefined) settings.push(`-c search_path=${schema}`);
    this.clientConfig = {
      connectionString: url.toString(),
      connectionTimeoutMillis: Math.max(100, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
      // Client-side guard for a server that stops answering without closing the socket.
      query_timeout: statementTimeout + 5_000,
      keepAlive: true,
      application_name: 'ties',
      options: settings.join(' '),
    };
    this.pool = new pg.Pool({
      ...this.clientConfig,
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
  }

  /** Creates the schema when missing, migrates it, loads the catalogue and starts listening. */
  async open(): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw toStoreError(err, this.logger);
    }
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
      await migrate(client, { onProgress: this.onMigrationProgress });
    } catch (err) {
      if (err instanceof SchemaTooNewError) throw err;
      if (breaksConnection(err)) broken = err as Error;
      throw toStoreError(err, this.logger);
    } finally {
      client.release(broken);
    }
    await this.loadCatalog();
    await this.listen();
  }

  // -------------------------------------------------------------------------------------------
  // Running statements

  /**
   * Runs one statement (one transaction) on a pooled connection. A deadlock or serialization
   * failure rolled the whole call back, so it is retried a bounded number of times; failures
   * meaning the store is unavailable become STORE_UNAVAILABLE.
   */
  async run<R extends object>(query: pg.QueryConfig): Promise<R[]> {
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw storeClosed();
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw toStoreError(err, this.logger);
      }
      let broken: Error | undefined;
      let retry = false;
      this.counters.statements++;
      try {
        const result = await client.query<R>(query);
        return result.rows;
      } catch (err) {
        if (breaksConnection(err)) broken = err as Error;
        if (isRetryable(err) && attempt < this.maxAttempts) retry = true;
        else throw toStoreError(err, this.logger);
      } finally {
        client.release(broken);
      }
      if (retry) {
        this.counters.retries++;
        await sleep(Math.random() * 5 * 2 ** attempt);
      }
    }
  }

  /** Statements sent (each one round trip) and calls retried after a deadlock or serialization failure. */
  stats(): { readonly statements: number; readonly retries: number } {
    return { ...this.counters };
  }

  private async one<R extends object>(query: pg.QueryConfig): Promise<R> {
    const rows = await this.run<R>(query);
    if (!rows[0]) throw new Error(`postgres store: ${query.name ?? 'query'} answered no row`);
    return rows[0];
  }

  // -------------------------------------------------------------------------------------------
  // Catalogue cache and notifications

  private invalidate(): void {
    this.generation++;
    this.catalog = undefined;
    this.catalogLoading = undefined;
    this.tokens.clear();
  }

  private async catalogNow(): Promise<Catalog> {
    const fresh = this.catalog && (this.listening || Date.now() - this.catalogAt < UNLISTENED_TTL_MS);
    return fresh ? this.catalog! : this.loadCatalog();
  }

  private loadCatalog(): Promise<Catalog> {
    if (this.catalogLoading) return this.catalogLoading;
    const generation = this.generation;
    const loading = (async () => {
      const row = await this.one<{
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
  private async listen(): Promise<void> {
    this.listenTimer = undefined;
    if (this.closed) return;
    const client = new pg.Client(this.clientConfig);
    client.on('error', (err) => this.listenerLost(client, err));
    client.on('end', () => this.listenerLost(client));
    client.on('notification', (message) => {
      if (message.channel === CATALOG_CHANNEL && message.payload === this.schema) this.invalidate();
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
    if (this.closed) {
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
    if (!this.closed) this.logger?.warn({ err }, 'postgres store: lost the catalogue listener; reconnecting');
    client.end().catch(() => undefined);
    this.scheduleListen();
  }

  private scheduleListen(): void {
    if (this.closed || this.listenTimer) return;
    this.listenTimer = setTimeout(() => void this.listen(), this.listenDelay);
    this.listenTimer.unref();
    this.listenDelay = Math.min(LISTEN_RETRY_MAX_MS, this.listenDelay * 2);
  }

  /** Whether catalogue changes of other servers reach this one at once (else within a second). */
  isListening(): boolean {
    return this.listening;
  }

  // -------------------------------------------------------------------------------------------
  // Profiles

  async saveProfile(input: SaveProfileInput): Promise<SaveProfileOutcome> {
    const { database } = input;
    const set: Record<string, FieldValue> = {};
    const remove: string[] = [];
    const kinds: string[] = [];
    const custom = new Set(database.customFields.map((f) => f.name));
    for (const name of Object.keys(input.set)) {
      const value = input.set[name];
      if (value === null || value === undefined) remove.push(name);
      else set[name] = value;
      if (name === 'email') kinds.push('e');
      else if (name === 'phones') kinds.push('p');
      else if (custom.has(name)) kinds.push(`f:${name}`);
    }
    // A field's match keys depend on its value alone: the changed fields' new keys replace
    // their old ones, and the stored profile is never read into JavaScript to merge it.
    const createFields = mergeFields(input.setOnCreate, input.set);
    const row = await this.one<MatchRow & { id: string | null; created: boolean | null }>({
      name: 'ties_save_profile',
      text: 'SELECT * FROM ties_save_profile($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
      values: [
        database.id,
        input.mode,
        input.query ? JSON.stringify(input.query) : null,
        JSON.stringify(set),
        remove,
        JSON.stringify(keyPairs(profileMatchKeys(set, database))),
        kinds,
        JSON.stringify(createFields),
        JSON.stringify(keyPairs(profileMatchKeys(createFields, database))),
        JSON.stringify(distinctSubscriptions(input.subscriptions)),
        input.newId,
        input.now,
      ],
    });
    if (row.status !== 'ok') return resolveOne(row.ids ?? [], 'profile') as SaveProfileOutcome;
    return { kind: 'ok', id: row.id!, created: row.created === true };
  }

  async getProfile(ref: ProfileRef): Promise<GetProfileOutcome> {
    const row = await this.one<
      MatchRow & {
        fields: Record<string, FieldValue> | null;
        created_at: string | null;
        updated_at: string | null;
        subs: [number, Channel, string, SubscriptionStatus][] | null;
      }
    >({
      name: 'ties_get_profile',
      text: 'SELECT * FROM ties_get_profile($1, $2)',
      values: [ref.dbId, JSON.stringify(ref.query)],
    });
    // 'match' comes with other than one id, so resolveOne answers the failure.
    const found = resolveOne(row.ids ?? [], 'profile');
    if (found.kind !== 'ok') return found;
    return {
      kind: 'ok',
      profile: {
        id: found.id,
        dbId: ref.dbId,
        fields: row.fields ?? {},
        subscriptions: (row.subs ?? []).map(([resourceId, channel, contact, status]) => ({
          resourceId,
          channel,
          contact,
          status,
        })),
        createdAt: row.created_at!,
        updatedAt: row.updated_at!,
      },
    };
  }

  async deleteProfile(ref: ProfileRef): Promise<DeleteProfileOutcome> {
    const row = await this.one<MatchRow>({
      name: 'ties_delete_profile',
      text: 'SELECT * FROM ties_delete_profile($1, $2)',
      values: [ref.dbId, JSON.stringify(ref.query)],
    });
    const found = resolveOne(row.ids ?? [], 'profile');
    if (found.kind !== 'ok') return found;
    return { kind: 'ok', id: found.id };
  }

  // -------------------------------------------------------------------------------------------
  // Relation writes

  async attach(input: AttachInput): Promise<AttachOutcome> {
    const row = await this.one<PairRow>({
      name: 'ties_attach',
      text: 'SELECT * FROM ties_attach($1, $2, $3, $4, $5)',
      values: [
        input.type.relId,
        JSON.stringify(input.a),
        JSON.stringify(input.b),
        JSON.stringify(input.weights),
        input.now,
      ],
    });
    return this.relationOutcome(input.type.relId, row) as AttachOutcome;
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
      let rows: (PairRow & { idx: number })[];
      try {
        rows = await this.run({
          name: 'ties_attach_many',
          text: 'SELECT * FROM ties_attach_many($1, $2, $3)',
          values: [
            relId,
            JSON.stringify(positions.map((i) => [inputs[i]!.a, inputs[i]!.b, inputs[i]!.weights])),
            inputs[positions[0]!]!.now,
          ],
        });
      } catch (err) {
        if (!isTiesError(err) || err.code !== 'INT_OVERFLOW') throw err;
        // A float sum would leave the double range: the chunk is attached item by item, so that
        // only the item that overflows is refused, as single calls would have it.
        for (const i of positions) {
          outcomes[i] = await this.attach(inputs[i]!).catch((e: unknown) => {
            if (isTiesError(e)) return { kind: 'error' as const, error: e };
            throw e;
          });
        }
        continue;
      }
      rows.forEach((row, k) => {
        outcomes[positions[k]!] =
          row.status === 'no_type'
            ? { kind: 'error', error: noType(relId) }
            : (this.relationOutcome(relId, row) as AttachOutcome);
      });
    }
    return outcomes;
  }

  async strengthen(input: StrengthenInput): Promise<StrengthenOutcome> {
    const row = await this.one<PairRow>({
      name: 'ties_strengthen',
      text: 'SELECT * FROM ties_strengthen($1, $2, $3, $4, $5, $6)',
      values: [
        input.type.relId,
        JSON.stringify(input.a),
        JSON.stringify(input.b),
        // Pairs keep the client's order: the first property to overflow is the one reported.
        JSON.stringify(Object.keys(input.add).map((name) => [name, input.add[name]])),
        JSON.stringify(input.set),
        input.now,
      ],
    });
    return this.relationOutcome(input.type.relId, row) as StrengthenOutcome;
  }

  async edit(input: EditInput): Promise<EditOutcome> {
    const row = await this.one<PairRow>({
      name: 'ties_edit',
      text: 'SELECT * FROM ties_edit($1, $2, $3, $4, $5, $6)',
      values: [
        input.type.relId,
        JSON.stringify(input.a),
        JSON.stringify(input.b),
        JSON.stringify(input.set),
        [...input.remove],
        input.now,
      ],
    });
    return this.relationOutcome(input.type.relId, row) as EditOutcome;
  }

  async detach(input: DetachInput): Promise<DetachOutcome> {
    const row = await this.one<PairRow>({
      name: 'ties_detach',
      text: 'SELECT * FROM ties_detach($1, $2, $3)',
      values: [input.type.relId, JSON.stringify(input.a), JSON.stringify(input.b)],
    });
    return this.relationOutcome(input.type.relId, row) as DetachOutcome;
  }

  private relationOutcome(relId: number, row: PairRow) {
    const a = row.a_ids?.[0] ?? '';
    const b = row.b_ids?.[0] ?? '';
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
    const row = await this.one<MatchRow & { total: string | null; items: [string, Weights][] | null }>({
      name: 'ties_list',
      text: 'SELECT * FROM ties_list($1, $2, $3, $4, $5, $6)',
      values: [
        input.type.relId,
        input.side,
        JSON.stringify(input.profile),
        input.after ?? '',
        limit,
        input.refuseAbove ?? null,
      ],
    });
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
    return { kind: 'ok', profileId: id, total, rows, more: items.length > limit };
  }

  async counter(input: CounterInput): Promise<CounterOutcome> {
    const row = await this.one<
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

  // -------------------------------------------------------------------------------------------
  // Databases and resources

  private async catalogWrite<R extends object>(query: pg.QueryConfig): Promise<R> {
    try {
      return await this.one<R>(query);
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
    const rows = await this.run<DatabaseRow>({
      text: 'SELECT * FROM ties_add_database_fields($1, $2)',
      values: [id, JSON.stringify(fields)],
    }).finally(() => this.invalidate());
    return rows[0] ? toDatabase(rows[0]) : null;
  }

  async getDatabase(id: number): Promise<Database | null> {
    return (await this.catalogNow()).databases.get(id) ?? null;
  }

  async listDatabases(afterId: number, limit: number): Promise<Page<Database>> {
    return pageOf((await this.catalogNow()).databases.values(), afterId, limit);
  }

  async createResource(input: NewResource): Promise<Resource> {
    return toResource(
      await this.catalogWrite<ResourceRow>({
        text: 'SELECT * FROM ties_create_resource($1, $2, $3, $4)',
        values: [input.name, JSON.stringify(input.channels), JSON.stringify(input.dbIds), input.now],
      }),
    );
  }

  async getResource(id: number): Promise<Resource | null> {
    return (await this.catalogNow()).resources.get(id) ?? null;
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

  async getRelationType(relId: number): Promise<RelationType | null> {
    return (await this.catalogNow()).types.get(relId) ?? null;
  }

  async listRelationTypes(): Promise<readonly RelationType[]> {
    return [...(await this.catalogNow()).types.values()];
  }

  async updateRelationType(input: UpdateRelationTypeInput): Promise<RelationType | null> {
    const rows = await this.run<RelationTypeRow>({
      text: 'SELECT * FROM ties_update_type($1, $2, $3, $4)',
      values: [input.relId, input.name ?? null, JSON.stringify(input.properties), [...input.rebuild]],
    }).finally(() => this.invalidate());
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
    const rows = await this.run<TokenRow>({
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
    return (await this.run<TokenRow>({ text: 'SELECT * FROM tokens ORDER BY id' })).map(toTokenInfo);
  }

  /** Revokes the token with this id, or every token with this name; answers how many went. */
  private async revokeTokens(id: number | null, name: string | null): Promise<number> {
    const rows = await this.run({
      text: 'SELECT * FROM ties_revoke_tokens($1, $2)',
      values: [id, name],
    }).finally(() => this.invalidate());
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
    await this.run({
      text: 'SELECT ties_touch_tokens($1, $2)',
      values: [uses.map((u) => u.id), uses.map((u) => u.at)],
    });
  }

  async ping(): Promise<void> {
    await this.run({ name: 'ties_ping', text: 'SELECT 1' });
  }

  /** Ends the listener and every pooled connection; later calls are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.listenTimer) clearTimeout(this.listenTimer);
    this.listenTimer = undefined;
    const listener = this.listener;
    this.listener = undefined;
    this.listening = false;
    await listener?.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}
