// The SQLite engine: one better-sqlite3 connection, statements prepared once, one synchronous
// method per operation of the store port, and runBatch for group commit. It knows nothing of
// promises or queues, so it can serve SqliteStore on the main thread or run in a worker thread.
import BetterSqlite3 from 'better-sqlite3';
import { TiesError } from '../../core/errors.js';
import { mergeFields, profileMatchKeys } from '../../core/fields.js';
import { resolveOne, resolvePair } from '../../core/matching.js';
import type {
  Channel,
  Database,
  FieldDef,
  FieldValue,
  PropertyDef,
  RelationRow,
  RelationType,
  Resource,
  Right,
  Subscription,
  SubscriptionStatus,
  TokenInfo,
  TokenRecord,
  Weights,
  WeightValue,
} from '../../core/model.js';
import { findProperty, isNumeric } from '../../core/property-types.js';
import type {
  AttachInput,
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
  PairFailure,
  PairOk,
  ProfileQuery,
  ProfileRef,
  PropertyAggregate,
  SaveProfileInput,
  SaveProfileOutcome,
  StrengthenInput,
  StrengthenOutcome,
  UpdateRelationTypeInput,
} from '../../core/store.js';
import { isValidName } from '../../core/values.js';
import { MIGRATIONS, migrate, SchemaTooNewError, schemaVersion } from './migrations.js';
import { type StoreLogger, toStoreError } from './sqlite-errors.js';

type Db = BetterSqlite3.Database;
type Stmt<R = unknown> = BetterSqlite3.Statement<unknown[], R>;

export interface SqliteEngineOptions {
  /** A file path, or ':memory:'. */
  readonly path: string;
  /** How long a write waits for another process's lock before failing (default 5000). */
  readonly busyTimeoutMs?: number | undefined;
  /** Opens the file read-only: reads work, every write fails with STORE_UNAVAILABLE. */
  readonly readonly?: boolean | undefined;
  /** Page cache per connection; bounds memory whatever the data size (default 32 MiB). */
  readonly cacheSizeKiB?: number | undefined;
  readonly logger?: StoreLogger | undefined;
}

/** What runBatch answers for one operation. */
export type BatchResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown };

/** Operations that write; SqliteStore queues these and runBatch applies them. */
export type WriteMethod =
  | 'saveProfile'
  | 'deleteProfile'
  | 'attach'
  | 'strengthen'
  | 'edit'
  | 'detach'
  | 'createDatabase'
  | 'addDatabaseFields'
  | 'createResource'
  | 'createRelationType'
  | 'updateRelationType'
  | 'deleteRelationType'
  | 'createToken'
  | 'ensureToken'
  | 'revokeToken'
  | 'revokeTokensNamed'
  | 'touchTokens';

/** One queued write: plain data, so that it can also cross to a worker thread. */
export type WriteOp = {
  [M in WriteMethod]: { readonly method: M; readonly args: Parameters<SqliteEngine[M]> };
}[WriteMethod];

export interface EngineStats {
  /** Batches run by runBatch. */
  readonly batches: number;
  /** Batches that committed. */
  readonly commits: number;
  /** Operations inside committed or failed batches. */
  readonly ops: number;
  /** Batches that failed as a whole (BEGIN or COMMIT failed, or SQLite rolled them back). */
  readonly failedBatches: number;
  readonly largestBatch: number;
}

// ---------------------------------------------------------------------------------------------
// Rows as SQLite returns them

interface DatabaseRow {
  id: number;
  name: string;
  description: string;
  custom_fields: string;
  created_at: string;
}
interface ResourceRow {
  id: number;
  name: string;
  channels: string;
  db_ids: string;
  created_at: string;
}
interface RelationTypeRow {
  rel_id: number;
  name: string;
  db_a: number;
  db_b: number;
  properties: string;
  created_at: string;
}
interface TokenRow {
  id: number;
  name: string;
  rights: string;
  hash: string;
  created_at: string;
  last_used_at: string | null;
}
interface ProfileRow {
  id: string;
  db_id: number;
  fields: string;
  created_at: string;
  updated_at: string;
}
interface SubscriptionRow {
  resource_id: number;
  channel: Channel;
  contact: string;
  status: SubscriptionStatus;
}
interface StatRow {
  prop: string;
  count: number;
  sum: number | null;
  sum_c: number;
}

/** How one property changes in a strengthen or edit UPDATE. */
type ChangeMode = 'add-int' | 'add-float' | 'set-int' | 'set-float' | 'set-bool' | 'set-string' | 'remove';
interface Change {
  readonly name: string;
  readonly mode: ChangeMode;
  readonly value?: WeightValue;
}

interface Updater {
  readonly stmt: Stmt;
  /** Whether the statement answers the new values of the add-* changes, in change order. */
  readonly returns: boolean;
}

/** Statements whose SQL depends on one relation type; dropped whenever the type changes. */
interface TypeStatements {
  readonly updaters: Map<string, Updater>;
}

/** A change to one relation_stats row (a count, and an int sum when kept), merged per row. */
interface StatChange {
  /** The row's primary key as text, in the table's order. */
  readonly key: string;
  readonly relId: number;
  readonly profileId: string;
  readonly side: 'a' | 'b';
  readonly prop: string;
  count: number;
  sum: bigint | null;
}

/** A relation_tops row to insert (+1) or delete (−1); merged per row, the changes add up. */
interface TopChange {
  readonly key: string;
  readonly relId: number;
  readonly a: string;
  readonly prop: string;
  readonly value: bigint | number;
  readonly b: string;
  change: number;
}

/** Writes whose own SQL reads or rewrites the aggregates: what is pending is applied before them. */
const APPLY_AGGREGATES_BEFORE: ReadonlySet<WriteMethod> = new Set([
  'deleteProfile',
  'updateRelationType',
  'deleteRelationType',
]);

/** Rel ids in aggregate keys sort as SQLite orders the integers. */
const relKey = (relId: number) => relId.toString(36).padStart(8, '0');

function byKey(x: { readonly key: string }, y: { readonly key: string }): number {
  return x.key < y.key ? -1 : x.key > y.key ? 1 : 0;
}

/** More distinct strengthen/edit shapes than this for one type means clients vary them freely. */
const MAX_UPDATERS_PER_TYPE = 256;

const BOTH_SIDES = { a: true, b: true } as const;

// ---------------------------------------------------------------------------------------------
// Helpers

/** A weight as stored, read without ever reaching Object.prototype (a property may be named toString). */
function own(weights: Weights, name: string): WeightValue | undefined {
  return Object.hasOwn(weights, name) ? weights[name] : undefined;
}

function parseWeights(text: string): Weights {
  return JSON.parse(text) as Weights;
}

/** JSON path of a property; names are validated by core, checked again because they enter SQL text. */
function pathOf(name: string): string {
  if (!isValidName(name)) throw new Error(`sqlite store: invalid property name ${JSON.stringify(name)}`);
  return `'$.${name}'`;
}

function toDatabase(row: DatabaseRow): Database {
  return Object.freeze({
    id: row.id,
    name: row.name,
    description: row.description,
    customFields: JSON.parse(row.custom_fields) as FieldDef[],
    createdAt: row.created_at,
  });
}

function toResource(row: ResourceRow): Resource {
  return Object.freeze({
    id: row.id,
    name: row.name,
    channels: JSON.parse(row.channels) as Channel[],
    dbIds: JSON.parse(row.db_ids) as number[],
    createdAt: row.created_at,
  });
}

function toRelationType(row: RelationTypeRow): RelationType {
  return Object.freeze({
    relId: row.rel_id,
    name: row.name,
    dbA: row.db_a,
    dbB: row.db_b,
    properties: JSON.parse(row.properties) as PropertyDef[],
    createdAt: row.created_at,
  });
}

function toTokenRecord(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    rights: JSON.parse(row.rights) as Right[],
    hash: row.hash,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

function toTokenInfo(row: TokenRow): TokenInfo {
  const { hash: _hash, ...info } = toTokenRecord(row);
  return info;
}

function isFailedOutcome(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'kind' in value && value.kind !== 'ok';
}

function pageOf<T extends { readonly id: number }>(
  all: Iterable<T>,
  afterId: number,
  limit: number,
): Page<T> {
  const list = [...all];
  const items = list.filter((x) => x.id > afterId).slice(0, Math.max(0, limit));
  return { items, total: list.length };
}

/** Whether get_counter reports a top for the property (and relation_tops holds its values). */
function keepsTop(property: PropertyDef): boolean {
  return property.top > 0 && isNumeric(property.type);
}

function keepsSum(property: PropertyDef): boolean {
  return property.sum && isNumeric(property.type);
}

function infiniteSum(property: string): TiesError {
  return new TiesError('INT_OVERFLOW', { property, result: "Infinity (the sum over profile A's relations)" });
}

/** A numeric weight as SQLite should hold it: ints as INTEGER (BigInt binds so), floats as REAL. */
function bindNumber(property: PropertyDef, value: WeightValue): bigint | number {
  return property.type === 'int' ? BigInt(value as number) : (value as number);
}

/**
 * The settings that decide what a write costs and how durable it is, in the order they are applied.
 * Exported so that the benchmark's raw-store baseline writes with the very same ones.
 */
export function storagePragmas(cacheSizeKiB = 32 * 1024): readonly string[] {
  return [
    // WAL lets readers (the CLI, backups, the worker store's reader) work during writes.
    'journal_mode = WAL',
    // An acknowledged write must survive a machine crash; group commit pays for the fsync.
    'synchronous = FULL',
    // Page cache per connection; bounds memory whatever the data size.
    `cache_size = -${Math.max(1024, Math.trunc(cacheSizeKiB))}`,
    // Keeps the WAL file from staying at its high-water mark after a checkpoint.
    'journal_size_limit = 67108864',
    // Checkpoints every 10,000 pages (~40 MiB of WAL) rather than 1,000: a page written by many
    // commits reaches the database file once per checkpoint, and the file is fsynced ten times
    // less often (bulk loading measured ~25% faster; each commit is still fsynced).
    'wal_autocheckpoint = 10000',
  ];
}

// ---------------------------------------------------------------------------------------------

export class SqliteEngine {
  /** Opens (creating when needed) and migrates the database, then prepares every fixed statement. */
  static open(options: SqliteEngineOptions): SqliteEngine {
    const readonly = options.readonly ?? false;
    let db: Db;
    try {
      db = new BetterSqlite3(options.path, { readonly, timeout: options.busyTimeoutMs ?? 5000 });
    } catch (err) {
      throw toStoreError(err, options.logger);
    }
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
      const storage = storagePragmas(options.cacheSizeKiB);
      // A read-only or in-memory database keeps its journal mode (:memory: has no WAL).
      for (const pragma of storage)
        if (!pragma.startsWith('journal_') || (!readonly && !db.memory)) db.pragma(pragma);
      db.pragma('foreign_keys = OFF');
      // Bounds the ANALYZE that PRAGMA optimize runs at close, whatever the data size.
      db.pragma('analysis_limit = 400');
      if (readonly) {
        const known = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
        const found = schemaVersion(db);
        if (found > known) throw new SchemaTooNewError(found, known);
        if (found < known)
          throw new Error(`cannot open ${options.path} read-only: its schema needs migrating first`);
      } else {
        migrate(db);
      }
      return new SqliteEngine(db, options.logger);
    } catch (err) {
      db.close();
      throw err instanceof BetterSqlite3.SqliteError ? toStoreError(err, options.logger) : err;
    }
  }

  private readonly databases = new Map<number, Database>();
  private readonly resources = new Map<number, Resource>();
  private readonly types = new Map<number, RelationType>();
  private readonly typeStatements = new Map<number, TypeStatements>();
  /** Bumped by every catalogue write, so that a rollback knows to reload the cache. */
  private catalogWrites = 0;
  private counters = { batches: 0, commits: 0, ops: 0, failedBatches: 0, largestBatch: 0 };
  /**
   * Aggregate changes (counts, int sums, top rows) of the batch's successful writes, merged per
   * row and applied in key order just before COMMIT: neighbouring rows share pages, and a hot
   * profile's rows are written once per batch rather than once per write. Nothing reads them in
   * between: reads run between batches, and the writes that read aggregates apply them first.
   */
  private readonly pendingStats = new Map<string, StatChange>();
  private readonly pendingTops = new Map<string, TopChange>();
  /** The running write's own aggregate changes, kept only if it succeeds; unset outside write(). */
  private opStats: StatChange[] | undefined;
  private opTops: TopChange[] | undefined;
  private inBatch = false;

  // Transaction control.
  private readonly begin: Stmt;
  private readonly commit: Stmt;
  private readonly rollback: Stmt;
  private readonly savepoint: Stmt;
  private readonly release: Stmt;
  private readonly rollbackTo: Stmt;

  // Profile lookups: every mode is an index lookup answering at most two ids.
  private readonly profileIdIn: Stmt<string>;
  private readonly keyLookup: Stmt<string>;
  private readonly subLookup: Stmt<string>;
  private readonly subLookupIn: Stmt<string>;
  private readonly keyOrSubLookup: Stmt<string>;
  private readonly keyOrSubLookupIn: Stmt<string>;
  private readonly allKeysLookup: Stmt<string>;

  // Profiles.
  private readonly profileGet: Stmt<ProfileRow>;
  private readonly profileInsert: Stmt;
  private readonly profileUpdate: Stmt;
  private readonly profileDelete: Stmt;
  private readonly keysDelete: Stmt;
  private readonly keyInsert: Stmt;
  private readonly subUpsert: Stmt;
  private readonly subsOf: Stmt<SubscriptionRow>;
  private readonly subsDelete: Stmt;

  // Relations.
  private readonly relGet: Stmt<string>;
  private readonly relInsert: Stmt;
  private readonly relDelete: Stmt<string>;
  private readonly relDeleteByA: Stmt<string>;
  private readonly relDeleteByB: Stmt<{ a: string; weights: string }>;
  private readonly relDeleteType: Stmt;
  private readonly listByA: Stmt<{ other: string; weights: string }>;
  private readonly listByB: Stmt<{ other: string; weights: string }>;

  // Aggregates.
  private readonly statAdd: Stmt<number>;
  private readonly statAddFloat: Stmt<{ count: number; sum: number; sum_c: number }>;
  private readonly statDrop: Stmt;
  private readonly statTotal: Stmt<number>;
  private readonly statRowsA: Stmt<StatRow>;
  private readonly statDeleteProfile: Stmt;
  private readonly statDeleteType: Stmt;
  private readonly statDeleteProp: Stmt;
  private readonly statRebuild: Stmt;
  private readonly topInsert: Stmt;
  private readonly topDelete: Stmt;
  private readonly topDeleteByA: Stmt;
  private readonly topDeleteType: Stmt;
  private readonly topDeleteProp: Stmt;
  private readonly topRebuild: Stmt;
  private readonly topQuery: Stmt<{ b: string; v: number }>;

  // Catalogue.
  private readonly dbAll: Stmt<DatabaseRow>;
  private readonly dbInsert: Stmt<DatabaseRow>;
  private readonly dbSetFields: Stmt<DatabaseRow>;
  private readonly resAll: Stmt<ResourceRow>;
  private readonly resInsert: Stmt<ResourceRow>;
  private readonly typeAll: Stmt<RelationTypeRow>;
  private readonly typeInsert: Stmt<RelationTypeRow>;
  private readonly typeUpdate: Stmt<RelationTypeRow>;
  private readonly typeDelete: Stmt;
  private readonly tokInsert: Stmt<TokenRow>;
  private readonly tokEnsure: Stmt<TokenRow>;
  private readonly tokByHash: Stmt<TokenRow>;
  private readonly tokAll: Stmt<TokenRow>;
  private readonly tokDelete: Stmt;
  private readonly tokDeleteNamed: Stmt;
  private readonly tokTouch: Stmt;
  private readonly pingStmt: Stmt;

  private constructor(
    private readonly db: Db,
    private readonly logger?: StoreLogger | undefined,
  ) {
    const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);

    this.begin = p('BEGIN IMMEDIATE');
    this.commit = p('COMMIT');
    this.rollback = p('ROLLBACK');
    this.savepoint = p('SAVEPOINT op');
    this.release = p('RELEASE op');
    this.rollbackTo = p('ROLLBACK TO op');

    this.profileIdIn = p<string>('SELECT id FROM profiles WHERE id = ? AND db_id = ?').pluck();
    this.keyLookup = p<string>(
      'SELECT profile_id FROM profile_keys WHERE db_id = ? AND kind = ? AND key = ? LIMIT 2',
    ).pluck();
    const sub = 'SELECT profile_id FROM subscriptions WHERE db_id = ? AND channel = ? AND contact_key = ?';
    this.subLookup = p<string>(
      'SELECT DISTINCT profile_id FROM subscriptions WHERE db_id = ? AND channel = ? AND contact_key = ? LIMIT 2',
    ).pluck();
    this.subLookupIn = p<string>(
      `SELECT DISTINCT profile_id FROM subscriptions
        WHERE db_id = ? AND channel = ? AND contact_key = ? AND resource_id = ? LIMIT 2`,
    ).pluck();
    // DISTINCT over UNION ALL streams and stops at the second id; UNION would sort every match first.
    const key = 'SELECT profile_id FROM profile_keys WHERE db_id = ? AND kind = ? AND key = ?';
    this.keyOrSubLookup = p<string>(
      `SELECT DISTINCT profile_id FROM (${key} UNION ALL ${sub}) LIMIT 2`,
    ).pluck();
    this.keyOrSubLookupIn = p<string>(
      `SELECT DISTINCT profile_id FROM (${key} UNION ALL ${sub} AND resource_id = ?) LIMIT 2`,
    ).pluck();
    // Tags: the profiles holding every listed key; json_each keeps one statement for any count.
    this.allKeysLookup = p<string>(
      `SELECT profile_id FROM profile_keys
        WHERE db_id = ? AND kind = ? AND key IN (SELECT value FROM json_each(?))
        GROUP BY profile_id HAVING count(DISTINCT key) = ? LIMIT 2`,
    ).pluck();

    this.profileGet = p<ProfileRow>(
      'SELECT id, db_id, fields, created_at, updated_at FROM profiles WHERE id = ?',
    );
    this.profileInsert = p(
      'INSERT INTO profiles (id, db_id, fields, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.profileUpdate = p('UPDATE profiles SET fields = ?, updated_at = ? WHERE id = ?');
    this.profileDelete = p('DELETE FROM profiles WHERE id = ?');
    this.keysDelete = p('DELETE FROM profile_keys WHERE profile_id = ?');
    this.keyInsert = p(
      'INSERT OR IGNORE INTO profile_keys (db_id, kind, key, profile_id) VALUES (?, ?, ?, ?)',
    );
    this.subUpsert = p(
      `INSERT INTO subscriptions (profile_id, resource_id, channel, contact, contact_key, status, db_id)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (profile_id, resource_id, channel, contact_key)
       DO UPDATE SET contact = excluded.contact, status = excluded.status`,
    );
    this.subsOf = p<SubscriptionRow>(
      `SELECT resource_id, channel, contact, status FROM subscriptions WHERE profile_id = ?
       ORDER BY resource_id, channel, contact_key`,
    );
    this.subsDelete = p('DELETE FROM subscriptions WHERE profile_id = ?');

    this.relGet = p<string>('SELECT weights FROM relations WHERE rel_id = ? AND a = ? AND b = ?').pluck();
    this.relInsert = p(
      `INSERT INTO relations (rel_id, a, b, weights, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    );
    this.relDelete = p<string>(
      'DELETE FROM relations WHERE rel_id = ? AND a = ? AND b = ? RETURNING weights',
    ).pluck();
    this.relDeleteByA = p<string>('DELETE FROM relations WHERE rel_id = ? AND a = ? RETURNING b').pluck();
    // INDEXED BY: for a WITHOUT ROWID table SQLite prices a non-covering secondary index above a
    // range of the primary key, and would read every relation of the type to find one B's.
    this.relDeleteByB = p<{ a: string; weights: string }>(
      'DELETE FROM relations INDEXED BY relations_by_b WHERE rel_id = ? AND b = ? RETURNING a, weights',
    );
    this.relDeleteType = p('DELETE FROM relations WHERE rel_id = ?');
    this.listByA = p<{ other: string; weights: string }>(
      'SELECT b AS other, weights FROM relations WHERE rel_id = ? AND a = ? AND b > ? ORDER BY b LIMIT ?',
    );
    this.listByB = p<{ other: string; weights: string }>(
      `SELECT a AS other, weights FROM relations INDEXED BY relations_by_b
        WHERE rel_id = ? AND b = ? AND a > ? ORDER BY a LIMIT ?`,
    );

    // Counts, and int sums (bound as BigInt so that they stay INTEGER); sum stays NULL when not kept.
    this.statAdd = p<number>(
      `INSERT INTO relation_stats (rel_id, profile_id, side, prop, count, sum, sum_c) VALUES (?, ?, ?, ?, ?, ?, 0.0)
       ON CONFLICT (rel_id, profile_id, side, prop)
       DO UPDATE SET count = count + excluded.count, sum = sum + excluded.sum
       RETURNING count`,
    ).pluck();
    // Float sums with Kahan-Neumaier compensation; every expression reads the row's old values.
    this.statAddFloat = p<{ count: number; sum: number; sum_c: number }>(
      `INSERT INTO relation_stats (rel_id, profile_id, side, prop, count, sum, sum_c) VALUES (?, ?, ?, ?, ?, ?, 0.0)
       ON CONFLICT (rel_id, profile_id, side, prop)
       DO UPDATE SET count = count + excluded.count, sum = sum + excluded.sum,
         sum_c = sum_c + CASE WHEN abs(sum) >= abs(excluded.sum)
           THEN (sum - (sum + excluded.sum)) + excluded.sum
           ELSE (excluded.sum - (sum + excluded.sum)) + sum END
       RETURNING count, sum, sum_c`,
    );
    this.statDrop = p(
      'DELETE FROM relation_stats WHERE rel_id = ? AND profile_id = ? AND side = ? AND prop = ? AND count <= 0',
    );
    this.statTotal = p<number>(
      "SELECT count FROM relation_stats WHERE rel_id = ? AND profile_id = ? AND side = ? AND prop = ''",
    ).pluck();
    this.statRowsA = p<StatRow>(
      "SELECT prop, count, sum, sum_c FROM relation_stats WHERE rel_id = ? AND profile_id = ? AND side = 'a'",
    );
    this.statDeleteProfile = p('DELETE FROM relation_stats WHERE rel_id = ? AND profile_id = ?');
    this.statDeleteType = p('DELETE FROM relation_stats WHERE rel_id = ?');
    this.statDeleteProp = p("DELETE FROM relation_stats WHERE rel_id = ? AND side = 'a' AND prop = ?");
    // SQLite's sum() is itself compensated for floats, so a rebuilt row starts with sum_c = 0.
    this.statRebuild = p(
      `INSERT INTO relation_stats (rel_id, profile_id, side, prop, count, sum, sum_c)
       SELECT rel_id, a, 'a', ?, count(*), CASE WHEN ? THEN sum(json_extract(weights, ?)) END, 0.0
       FROM relations WHERE rel_id = ? AND json_type(weights, ?) IS NOT NULL GROUP BY a`,
    );
    // Every value of every property that keeps a top, so a changed N needs no rebuild; the
    // primary key orders them as get_counter answers: value descending, ties by B ascending.
    this.topInsert = p('INSERT INTO relation_tops (rel_id, a, prop, value, b) VALUES (?, ?, ?, ?, ?)');
    this.topDelete = p(
      'DELETE FROM relation_tops WHERE rel_id = ? AND a = ? AND prop = ? AND value = ? AND b = ?',
    );
    this.topDeleteByA = p('DELETE FROM relation_tops WHERE rel_id = ? AND a = ?');
    this.topDeleteType = p('DELETE FROM relation_tops WHERE rel_id = ?');
    this.topDeleteProp = p('DELETE FROM relation_tops WHERE rel_id = ? AND prop = ?');
    this.topRebuild = p(
      `INSERT INTO relation_tops (rel_id, a, prop, value, b)
       SELECT rel_id, a, ?, json_extract(weights, ?), b FROM relations
       WHERE rel_id = ? AND json_type(weights, ?) IN ('integer', 'real')`,
    );
    this.topQuery = p<{ b: string; v: number }>(
      'SELECT b, value AS v FROM relation_tops WHERE rel_id = ? AND a = ? AND prop = ? ORDER BY value DESC, b LIMIT ?',
    );

    this.dbAll = p<DatabaseRow>('SELECT * FROM databases ORDER BY id');
    this.dbInsert = p<DatabaseRow>(
      'INSERT INTO databases (name, description, custom_fields, created_at) VALUES (?, ?, ?, ?) RETURNING *',
    );
    this.dbSetFields = p<DatabaseRow>('UPDATE databases SET custom_fields = ? WHERE id = ? RETURNING *');
    this.resAll = p<ResourceRow>('SELECT * FROM resources ORDER BY id');
    this.resInsert = p<ResourceRow>(
      'INSERT INTO resources (name, channels, db_ids, created_at) VALUES (?, ?, ?, ?) RETURNING *',
    );
    this.typeAll = p<RelationTypeRow>('SELECT * FROM relation_types ORDER BY rel_id');
    this.typeInsert = p<RelationTypeRow>(
      'INSERT INTO relation_types (name, db_a, db_b, properties, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *',
    );
    this.typeUpdate = p<RelationTypeRow>(
      'UPDATE relation_types SET name = ?, properties = ? WHERE rel_id = ? RETURNING *',
    );
    this.typeDelete = p('DELETE FROM relation_types WHERE rel_id = ?');
    this.tokInsert = p<TokenRow>(
      'INSERT INTO tokens (name, rights, hash, created_at) VALUES (?, ?, ?, ?) RETURNING *',
    );
    this.tokEnsure = p<TokenRow>(
      `INSERT INTO tokens (name, rights, hash, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (hash) DO UPDATE SET rights = excluded.rights RETURNING *`,
    );
    this.tokByHash = p<TokenRow>('SELECT * FROM tokens WHERE hash = ?');
    this.tokAll = p<TokenRow>('SELECT * FROM tokens ORDER BY id');
    this.tokDelete = p('DELETE FROM tokens WHERE id = ?');
    this.tokDeleteNamed = p('DELETE FROM tokens WHERE name = ?');
    this.tokTouch = p(
      'UPDATE tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)',
    );
    this.pingStmt = p('SELECT max(version) FROM schema_migrations').pluck();

    this.loadCatalog();
  }

  // -------------------------------------------------------------------------------------------
  // Transactions and group commit

  /**
   * Applies writes as one transaction: each inside its own savepoint (a failed one changes
   * nothing and does not undo the others), then one COMMIT. Answers one result per op, in order;
   * throws STORE_UNAVAILABLE, with nothing applied, when the transaction itself fails.
   */
  runBatch(ops: readonly WriteOp[]): BatchResult[] {
    this.counters.batches++;
    this.counters.ops += ops.length;
    this.counters.largestBatch = Math.max(this.counters.largestBatch, ops.length);
    const catalogBefore = this.catalogWrites;
    try {
      this.begin.run();
    } catch (err) {
      this.counters.failedBatches++;
      throw this.storeError(err);
    }
    const results: BatchResult[] = [];
    /** Set when applying pending aggregates failed: the whole batch fails. */
    let lost: { readonly error: unknown } | undefined;
    this.inBatch = true;
    try {
      for (const op of ops) {
        // SQLite may roll the whole transaction back by itself (disk full, I/O error): stop there.
        if (!this.db.inTransaction) break;
        if (APPLY_AGGREGATES_BEFORE.has(op.method)) this.applyPending();
        try {
          results.push({ ok: true, value: this.execute(op) });
        } catch (error) {
          results.push({ ok: false, error });
        }
      }
    } catch (error) {
      lost = { error };
    } finally {
      this.inBatch = false;
    }
    try {
      if (lost) throw lost.error;
      if (!this.db.inTransaction) {
        const failure = results.find((r) => !r.ok);
        throw failure && !failure.ok
          ? failure.error
          : new TiesError('STORE_UNAVAILABLE', { reason: 'transaction lost' });
      }
      this.applyPending();
      this.commit.run();
    } catch (err) {
      this.pendingStats.clear();
      this.pendingTops.clear();
      this.counters.failedBatches++;
      if (this.db.inTransaction) this.safely('rollback', () => this.rollback.run());
      if (this.catalogWrites !== catalogBefore) this.loadCatalog();
      const error = this.storeError(err);
      throw error instanceof TiesError
        ? error
        : new TiesError('STORE_UNAVAILABLE', { reason: 'the transaction could not commit' });
    }
    this.counters.commits++;
    return results;
  }

  /** Runs one queued write (outside runBatch it is its own transaction). */
  execute(op: WriteOp): unknown {
    const method = this[op.method] as (...args: readonly unknown[]) => unknown;
    return method.apply(this, op.args);
  }

  stats(): EngineStats {
    return { ...this.counters };
  }

  /** Changes whenever a catalogue write ran (committed or not); a reader on another connection reloads then. */
  catalogVersion(): number {
    return this.catalogWrites;
  }

  /** Rereads databases, resources and relation types, e.g. after another connection changed them. */
  reloadCatalog(): void {
    this.read(() => this.loadCatalog());
  }

  /**
   * One write inside a savepoint: released when it succeeds, rolled back when it throws or
   * answers a failed outcome (duplicate, not_found, overflow, …), so a failed call changes nothing.
   */
  private write<T>(fn: () => T): T {
    const catalogBefore = this.catalogWrites;
    try {
      this.savepoint.run();
    } catch (err) {
      throw this.storeError(err);
    }
    let result: T;
    const outerStats = this.opStats;
    const outerTops = this.opTops;
    const stats: StatChange[] = [];
    const tops: TopChange[] = [];
    this.opStats = stats;
    this.opTops = tops;
    try {
      result = fn();
    } catch (err) {
      this.undo(catalogBefore);
      throw this.storeError(err);
    } finally {
      this.opStats = outerStats;
      this.opTops = outerTops;
    }
    if (isFailedOutcome(result)) {
      this.undo(catalogBefore);
      return result;
    }
    try {
      if (this.inBatch) {
        this.keepPending(stats, tops);
      } else {
        this.applyStatChanges(stats);
        this.applyTopChanges(tops);
      }
      this.release.run();
    } catch (err) {
      this.undo(catalogBefore);
      throw this.storeError(err);
    }
    return result;
  }

  /** Merges a successful write's aggregate changes into the batch's. */
  private keepPending(stats: readonly StatChange[], tops: readonly TopChange[]): void {
    for (const change of stats) {
      const found = this.pendingStats.get(change.key);
      if (!found) {
        this.pendingStats.set(change.key, { ...change });
      } else {
        found.count += change.count;
        if (change.sum !== null) found.sum = (found.sum ?? 0n) + change.sum;
      }
    }
    for (const change of tops) {
      const found = this.pendingTops.get(change.key);
      if (found) found.change += change.change;
      else this.pendingTops.set(change.key, { ...change });
    }
  }

  /** Applies the batch's pending aggregate changes, in key order. */
  private applyPending(): void {
    const tops = [...this.pendingTops.values()].sort(byKey);
    const stats = [...this.pendingStats.values()].sort(byKey);
    this.pendingTops.clear();
    this.pendingStats.clear();
    this.applyTopChanges(tops);
    this.applyStatChanges(stats);
  }

  private applyStatChanges(changes: readonly StatChange[]): void {
    for (const c of changes) {
      if (c.count === 0 && (c.sum === null || c.sum === 0n)) continue;
      const left = this.statAdd.get(c.relId, c.profileId, c.side, c.prop, c.count, c.sum)!;
      if (left <= 0) this.statDrop.run(c.relId, c.profileId, c.side, c.prop);
    }
  }

  private applyTopChanges(changes: readonly TopChange[]): void {
    for (const c of changes) {
      if (c.change < 0) this.topDelete.run(c.relId, c.a, c.prop, c.value, c.b);
      else if (c.change > 0) this.topInsert.run(c.relId, c.a, c.prop, c.value, c.b);
    }
  }

  private undo(catalogBefore: number): void {
    // After a disk-full or I/O error SQLite may already have rolled everything back.
    if (this.db.inTransaction) {
      this.safely('rollback to savepoint', () => {
        this.rollbackTo.run();
        this.release.run();
      });
    }
    if (this.catalogWrites !== catalogBefore) this.loadCatalog();
  }

  private read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw this.storeError(err);
    }
  }

  /** Runs cleanup whose failure must not hide the error being handled; logs it instead. */
  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger?.warn({ err }, `sqlite store: ${what} failed`);
    }
  }

  private storeError(err: unknown): unknown {
    return toStoreError(err, this.logger);
  }

  /** Runs a pragma; for operators and tests (e.g. max_page_count), never on a hot path. */
  pragma(source: string, simple = false): unknown {
    return this.read(() => this.db.pragma(source, { simple }));
  }

  /** The query plan of some SQL, one detail line per step (parameters bound to NULL); for tests. */
  explain(sql: string): string[] {
    const params = new Array<null>(sql.split('?').length - 1).fill(null);
    return this.db
      .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((r) => r.detail);
  }

  /**
   * Query plans of the statements that run per request, by name, plus the top-N query and a
   * strengthen UPDATE of each relation type; tests use them to prove nothing scans.
   */
  queryPlans(): Record<string, string[]> {
    const hot: Record<string, Stmt<unknown>> = {
      profileIdIn: this.profileIdIn,
      keyLookup: this.keyLookup,
      subLookup: this.subLookup,
      subLookupIn: this.subLookupIn,
      keyOrSubLookup: this.keyOrSubLookup,
      keyOrSubLookupIn: this.keyOrSubLookupIn,
      allKeysLookup: this.allKeysLookup,
      profileGet: this.profileGet,
      keysDelete: this.keysDelete,
      subsOf: this.subsOf,
      subsDelete: this.subsDelete,
      relGet: this.relGet,
      relDelete: this.relDelete,
      relDeleteByA: this.relDeleteByA,
      relDeleteByB: this.relDeleteByB,
      listByA: this.listByA,
      listByB: this.listByB,
      statDrop: this.statDrop,
      statTotal: this.statTotal,
      statRowsA: this.statRowsA,
      statDeleteProfile: this.statDeleteProfile,
      topQuery: this.topQuery,
      topDelete: this.topDelete,
      topDeleteByA: this.topDeleteByA,
      tokByHash: this.tokByHash,
    };
    const plans: Record<string, string[]> = {};
    for (const [name, stmt] of Object.entries(hot)) plans[name] = this.explain(stmt.source);
    for (const type of this.types.values()) {
      for (const property of type.properties) {
        if (isNumeric(property.type)) {
          const change: Change = {
            name: property.name,
            mode: property.type === 'int' ? 'add-int' : 'add-float',
            value: 1,
          };
          plans[`strengthen:${type.relId}:${property.name}`] = this.explain(
            this.updater(type.relId, [change]).stmt.source,
          );
        }
      }
    }
    return plans;
  }

  ping(): void {
    this.read(() => this.pingStmt.get());
  }

  close(): void {
    if (!this.db.open) return;
    // Lets SQLite refresh the statistics it plans with; advisory, so a read-only file may skip it.
    this.safely('optimize', () => this.db.pragma('optimize'));
    this.db.close();
  }

  // -------------------------------------------------------------------------------------------
  // Catalogue cache

  private loadCatalog(): void {
    this.databases.clear();
    this.resources.clear();
    this.types.clear();
    this.typeStatements.clear();
    for (const row of this.dbAll.all()) this.databases.set(row.id, toDatabase(row));
    for (const row of this.resAll.all()) this.resources.set(row.id, toResource(row));
    for (const row of this.typeAll.all()) this.types.set(row.rel_id, toRelationType(row));
  }

  /** The current definition of a type (core's copy may be older than a queued type update). */
  private typeOf(type: RelationType): RelationType {
    const current = this.types.get(type.relId);
    if (!current) throw new TiesError('RELATION_TYPE_NOT_FOUND', { rel_id: type.relId });
    return current;
  }

  private statementsOf(relId: number): TypeStatements {
    let statements = this.typeStatements.get(relId);
    if (!statements) {
      statements = { updaters: new Map() };
      this.typeStatements.set(relId, statements);
    }
    return statements;
  }

  // -------------------------------------------------------------------------------------------
  // Matching

  /** The ids (at most two) a lookup finds in one database. */
  private findIds(dbId: number, query: ProfileQuery): string[] {
    switch (query.by) {
      case 'id':
        return this.profileIdIn.all(query.id, dbId);
      case 'email':
        return this.findContact(dbId, 'e', 'email', query.email, query);
      case 'phone':
        return this.findContact(dbId, 'p', 'sms', query.phone, query);
      case 'field': {
        const kind = `f:${query.field}`;
        if (query.keys.length === 0) return [];
        if (query.keys.length === 1) return this.keyLookup.all(dbId, kind, query.keys[0]);
        const keys = [...new Set(query.keys)];
        return this.allKeysLookup.all(dbId, kind, JSON.stringify(keys), keys.length);
      }
    }
  }

  private findContact(
    dbId: number,
    kind: 'e' | 'p',
    channel: Channel,
    key: string,
    query: {
      readonly inProfile: boolean;
      readonly inSubscriptions: boolean;
      readonly resourceId?: number | undefined;
    },
  ): string[] {
    const resource = query.resourceId;
    if (query.inProfile && query.inSubscriptions) {
      return resource === undefined
        ? this.keyOrSubLookup.all(dbId, kind, key, dbId, channel, key)
        : this.keyOrSubLookupIn.all(dbId, kind, key, dbId, channel, key, resource);
    }
    if (query.inProfile) return this.keyLookup.all(dbId, kind, key);
    if (query.inSubscriptions) {
      return resource === undefined
        ? this.subLookup.all(dbId, channel, key)
        : this.subLookupIn.all(dbId, channel, key, resource);
    }
    return [];
  }

  private pair(type: RelationType, a: ProfileQuery, b: ProfileQuery): PairOk | PairFailure {
    const aIds = this.findIds(type.dbA, a);
    // B is only looked up once A resolved: resolvePair reports A's failure first anyway.
    if (aIds.length !== 1) return resolvePair(aIds, []);
    return resolvePair(aIds, this.findIds(type.dbB, b));
  }

  // -------------------------------------------------------------------------------------------
  // Profiles

  saveProfile(input: SaveProfileInput): SaveProfileOutcome {
    return this.write(() => {
      const database = this.databases.get(input.database.id);
      if (!database) throw new TiesError('DATABASE_NOT_FOUND', { param: 'db_id', id: input.database.id });
      if (input.mode !== 'add') {
        if (!input.query) throw new Error(`saveProfile: ${input.mode} needs a query`);
        const found = resolveOne(this.findIds(database.id, input.query), 'profile');
        if (found.kind === 'ambiguous') return found;
        if (found.kind === 'ok') {
          const row = this.profileGet.get(found.id)!;
          const fields = mergeFields(JSON.parse(row.fields) as Record<string, FieldValue>, input.set);
          this.profileUpdate.run(JSON.stringify(fields), input.now, found.id);
          this.writeKeys(database, found.id, fields);
          this.writeSubscriptions(database.id, found.id, input);
          return { kind: 'ok', id: found.id, created: false };
        }
        if (input.mode === 'update') return found;
      }
      const fields = mergeFields(input.setOnCreate, input.set);
      this.profileInsert.run(input.newId, database.id, JSON.stringify(fields), input.now, input.now);
      this.writeKeys(database, input.newId, fields);
      this.writeSubscriptions(database.id, input.newId, input);
      return { kind: 'ok', id: input.newId, created: true };
    });
  }

  private writeKeys(database: Database, id: string, fields: Readonly<Record<string, FieldValue>>): void {
    const keys = profileMatchKeys(fields, database);
    this.keysDelete.run(id);
    if (keys.email !== null) this.keyInsert.run(database.id, 'e', keys.email, id);
    for (const phone of keys.phones) this.keyInsert.run(database.id, 'p', phone, id);
    for (const k of keys.fields) this.keyInsert.run(database.id, `f:${k.field}`, k.key, id);
  }

  private writeSubscriptions(dbId: number, id: string, input: SaveProfileInput): void {
    for (const s of input.subscriptions) {
      this.subUpsert.run(id, s.resourceId, s.channel, s.contact, s.contactKey, s.status, dbId);
    }
  }

  getProfile(ref: ProfileRef): GetProfileOutcome {
    return this.read(() => {
      const found = resolveOne(this.findIds(ref.dbId, ref.query), 'profile');
      if (found.kind !== 'ok') return found;
      const row = this.profileGet.get(found.id)!;
      const subscriptions: Subscription[] = this.subsOf.all(found.id).map((s) => ({
        resourceId: s.resource_id,
        channel: s.channel,
        contact: s.contact,
        status: s.status,
      }));
      return {
        kind: 'ok',
        profile: {
          id: row.id,
          dbId: row.db_id,
          fields: JSON.parse(row.fields) as Record<string, FieldValue>,
          subscriptions,
          createdAt: row.created_at,
          updatedAt: row.updated_at,
        },
      };
    });
  }

  /** Deletes the profile and every relation it takes part in, on either side, fixing the others' aggregates. */
  deleteProfile(ref: ProfileRef): DeleteProfileOutcome {
    return this.write(() => {
      const found = resolveOne(this.findIds(ref.dbId, ref.query), 'profile');
      if (found.kind !== 'ok') return found;
      const id = found.id;
      for (const type of this.types.values()) {
        if (type.dbA !== ref.dbId && type.dbB !== ref.dbId) continue;
        if (type.dbA === ref.dbId) {
          // Its own side-a aggregates go with it; each B it was related to initiated one fewer.
          for (const b of this.relDeleteByA.all(type.relId, id)) {
            this.bump(type.relId, b, 'b', '', -1, null, false);
          }
          this.topDeleteByA.run(type.relId, id);
        }
        if (type.dbB === ref.dbId) {
          for (const row of this.relDeleteByB.all(type.relId, id)) {
            this.applyStats(type, row.a, id, parseWeights(row.weights), null, { a: true, b: false });
          }
        }
        this.statDeleteProfile.run(type.relId, id);
      }
      this.keysDelete.run(id);
      this.subsDelete.run(id);
      this.profileDelete.run(id);
      return { kind: 'ok', id };
    });
  }

  // -------------------------------------------------------------------------------------------
  // Relation writes

  attach(input: AttachInput): AttachOutcome {
    return this.write(() => {
      const type = this.typeOf(input.type);
      const pair = this.pair(type, input.a, input.b);
      if (pair.kind !== 'ok') return pair;
      const inserted = this.relInsert.run(
        type.relId,
        pair.a,
        pair.b,
        JSON.stringify(input.weights),
        input.now,
        input.now,
      );
      if (inserted.changes === 0) return { kind: 'duplicate', a: pair.a, b: pair.b };
      this.applyStats(type, pair.a, pair.b, null, input.weights);
      return pair;
    });
  }

  strengthen(input: StrengthenInput): StrengthenOutcome {
    return this.write(() => {
      const type = this.typeOf(input.type);
      const pair = this.pair(type, input.a, input.b);
      if (pair.kind !== 'ok') return pair;
      const { a, b } = pair;
      const changes: Change[] = [];
      for (const name of Object.keys(input.add)) {
        const property = this.propertyOf(type, name);
        if (!isNumeric(property.type)) throw new Error(`strengthen: ${name} is not numeric`);
        changes.push({
          name,
          mode: property.type === 'int' ? 'add-int' : 'add-float',
          value: input.add[name]!,
        });
      }
      for (const name of Object.keys(input.set)) changes.push(this.setChange(type, name, input.set[name]!));

      const oldText = this.relGet.get(type.relId, a, b);
      if (oldText === undefined) {
        // A missing value counts as 0, so a created relation holds the amounts themselves.
        const weights = Object.fromEntries(changes.map((c) => [c.name, c.value!]));
        this.relInsert.run(type.relId, a, b, JSON.stringify(weights), input.now, input.now);
        this.applyStats(type, a, b, null, weights);
        return { kind: 'ok', a, b, created: true };
      }
      const before = parseWeights(oldText);
      const after: Record<string, WeightValue> = { ...before };
      const returned = this.runUpdater(type, changes, input.now, a, b);
      let i = 0;
      for (const change of changes) {
        if (change.mode === 'add-int' || change.mode === 'add-float') {
          const value = returned![i++];
          if (change.mode === 'add-int') {
            const n = typeof value === 'bigint' ? value : BigInt(Math.trunc(Number(value)));
            if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < -BigInt(Number.MAX_SAFE_INTEGER)) {
              return { kind: 'overflow', property: change.name, result: n.toString() };
            }
            after[change.name] = Number(n);
          } else {
            const n = Number(value);
            if (!Number.isFinite(n)) return { kind: 'overflow', property: change.name, result: String(n) };
            after[change.name] = n;
          }
        } else {
          after[change.name] = change.value!;
        }
      }
      this.applyStats(type, a, b, before, after);
      return { kind: 'ok', a, b, created: false };
    });
  }

  edit(input: EditInput): EditOutcome {
    return this.write(() => {
      const type = this.typeOf(input.type);
      const pair = this.pair(type, input.a, input.b);
      if (pair.kind !== 'ok') return pair;
      const { a, b } = pair;
      const changes: Change[] = Object.keys(input.set).map((name) =>
        this.setChange(type, name, input.set[name]!),
      );
      for (const name of input.remove) {
        this.propertyOf(type, name);
        if (!Object.hasOwn(input.set, name)) changes.push({ name, mode: 'remove' });
      }
      const oldText = this.relGet.get(type.relId, a, b);
      if (oldText === undefined) {
        const weights = Object.fromEntries(Object.keys(input.set).map((name) => [name, input.set[name]!]));
        this.relInsert.run(type.relId, a, b, JSON.stringify(weights), input.now, input.now);
        this.applyStats(type, a, b, null, weights);
        return { kind: 'ok', a, b, created: true };
      }
      const before = parseWeights(oldText);
      const after: Record<string, WeightValue> = { ...before };
      for (const change of changes) {
        if (change.mode === 'remove') delete after[change.name];
        else after[change.name] = change.value!;
      }
      this.runUpdater(type, changes, input.now, a, b);
      this.applyStats(type, a, b, before, after);
      return { kind: 'ok', a, b, created: false };
    });
  }

  detach(input: DetachInput): DetachOutcome {
    return this.write(() => {
      const type = this.typeOf(input.type);
      const pair = this.pair(type, input.a, input.b);
      if (pair.kind !== 'ok') return pair;
      const oldText = this.relDelete.get(type.relId, pair.a, pair.b);
      if (oldText === undefined) return { kind: 'no_relation', a: pair.a, b: pair.b };
      this.applyStats(type, pair.a, pair.b, parseWeights(oldText), null);
      return pair;
    });
  }

  private propertyOf(type: RelationType, name: string): PropertyDef {
    const property = findProperty(type, name);
    if (!property) throw new Error(`relation type ${type.relId} has no property ${name}`);
    return property;
  }

  private setChange(type: RelationType, name: string, value: WeightValue): Change {
    const property = this.propertyOf(type, name);
    const mode: ChangeMode =
      property.type === 'int'
        ? 'set-int'
        : property.type === 'float'
          ? 'set-float'
          : property.type === 'bool'
            ? 'set-bool'
            : 'set-string';
    return { name, mode, value };
  }

  /**
   * Applies changes to an existing relation in one UPDATE (increments happen in SQL, never read,
   * added and written back from here); answers the new values of the add-* changes, in order.
   */
  private runUpdater(
    type: RelationType,
    changes: readonly Change[],
    now: string,
    a: string,
    b: string,
  ): unknown[] | null {
    const ordered = [...changes].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    const updater = this.updater(type.relId, ordered);
    const params: unknown[] = [];
    for (const change of ordered) {
      switch (change.mode) {
        case 'add-int':
        case 'set-int':
          params.push(BigInt(change.value as number));
          break;
        case 'add-float':
        case 'set-float':
          params.push(change.value as number);
          break;
        case 'set-bool':
          params.push(change.value ? 'true' : 'false');
          break;
        case 'set-string':
          params.push(change.value as string);
          break;
        case 'remove':
          break;
      }
    }
    params.push(now, type.relId, a, b);
    if (!updater.returns) {
      updater.stmt.run(...params);
      return null;
    }
    const row = updater.stmt.get(...params) as unknown[] | undefined;
    if (!row) throw new Error('strengthen: the relation vanished inside its transaction');
    // The caller walks changes in its own order: map the sorted answers back to it.
    const byName = new Map<string, unknown>();
    let i = 0;
    for (const change of ordered) {
      if (change.mode === 'add-int' || change.mode === 'add-float') byName.set(change.name, row[i++]);
    }
    return changes
      .filter((c) => c.mode === 'add-int' || c.mode === 'add-float')
      .map((c) => byName.get(c.name));
  }

  private updater(relId: number, ordered: readonly Change[]): Updater {
    const statements = this.statementsOf(relId);
    const key = ordered.map((c) => `${c.mode}:${c.name}`).join(',');
    const cached = statements.updaters.get(key);
    if (cached) return cached;

    const sets: string[] = [];
    const removes: string[] = [];
    const returning: string[] = [];
    for (const change of ordered) {
      const path = pathOf(change.name);
      const current = `coalesce(json_extract(weights, ${path}), 0)`;
      switch (change.mode) {
        case 'add-int':
          sets.push(`${path}, ${current} + CAST(? AS INTEGER)`);
          returning.push(`json_extract(weights, ${path})`);
          break;
        case 'add-float':
          sets.push(`${path}, ${current} + CAST(? AS REAL)`);
          returning.push(`json_extract(weights, ${path})`);
          break;
        case 'set-int':
          sets.push(`${path}, CAST(? AS INTEGER)`);
          break;
        case 'set-float':
          sets.push(`${path}, CAST(? AS REAL)`);
          break;
        case 'set-bool':
          sets.push(`${path}, json(?)`);
          break;
        case 'set-string':
          sets.push(`${path}, ?`);
          break;
        case 'remove':
          removes.push(path);
          break;
      }
    }
    let weights = 'weights';
    if (sets.length > 0) weights = `json_set(${weights}, ${sets.join(', ')})`;
    if (removes.length > 0) weights = `json_remove(${weights}, ${removes.join(', ')})`;
    const assign = weights === 'weights' ? '' : `weights = ${weights}, `;
    const sql =
      `UPDATE relations SET ${assign}updated_at = ? WHERE rel_id = ? AND a = ? AND b = ?` +
      (returning.length > 0 ? ` RETURNING ${returning.join(', ')}` : '');
    const stmt = this.db.prepare(sql);
    // Int results come back as BigInt so that one past 2^53 is seen exactly, not rounded.
    if (returning.length > 0) stmt.raw(true).safeIntegers(true);
    const updater = { stmt, returns: returning.length > 0 };
    if (statements.updaters.size >= MAX_UPDATERS_PER_TYPE) statements.updaters.clear();
    statements.updaters.set(key, updater);
    return updater;
  }

  // -------------------------------------------------------------------------------------------
  // Aggregates

  /**
   * Moves one relation's contribution to the aggregates from `before` to `after` (null: the
   * relation does not exist on that side of the change). `sides` skips a profile being deleted.
   */
  private applyStats(
    type: RelationType,
    a: string,
    b: string,
    before: Weights | null,
    after: Weights | null,
    sides: { readonly a: boolean; readonly b: boolean } = BOTH_SIDES,
  ): void {
    const relId = type.relId;
    const total = (after ? 1 : 0) - (before ? 1 : 0);
    if (total !== 0) {
      if (sides.a) this.bump(relId, a, 'a', '', total, null, false);
      if (sides.b) this.bump(relId, b, 'b', '', total, null, false);
    }
    if (!sides.a) return;
    for (const property of type.properties) {
      const old = before ? own(before, property.name) : undefined;
      const now = after ? own(after, property.name) : undefined;
      if (old === undefined && now === undefined) continue;
      if (keepsTop(property) && old !== now) {
        if (old !== undefined) this.topChange(relId, a, property, old, b, -1);
        if (now !== undefined) this.topChange(relId, a, property, now, b, 1);
      }
      const count = (now !== undefined ? 1 : 0) - (old !== undefined ? 1 : 0);
      if (!keepsSum(property)) {
        if (count !== 0) this.bump(relId, a, 'a', property.name, count, null, false);
      } else if (property.type === 'int') {
        const sum = BigInt((now as number | undefined) ?? 0) - BigInt((old as number | undefined) ?? 0);
        if (count !== 0 || sum !== 0n) this.bump(relId, a, 'a', property.name, count, sum, false);
      } else if (old !== now) {
        // Float: take the old value away and add the new one as two compensated steps, rather
        // than adding a rounded difference; in this order a value replaced by a similar one never
        // takes the sum past the double range on the way.
        if (old !== undefined)
          this.bump(relId, a, 'a', property.name, now === undefined ? -1 : 0, -(old as number), true);
        if (now !== undefined)
          this.bump(relId, a, 'a', property.name, old === undefined ? 1 : 0, now as number, true);
      }
    }
  }

  /** A top row of one property of one relation appears (+1) or goes (−1); see pendingTops. */
  private topChange(
    relId: number,
    a: string,
    property: PropertyDef,
    value: WeightValue,
    b: string,
    change: 1 | -1,
  ): void {
    const c: TopChange = {
      key: `${relKey(relId)}\0${a}\0${property.name}\0${String(value)}\0${b}`,
      relId,
      a,
      prop: property.name,
      value: bindNumber(property, value),
      b,
      change,
    };
    if (this.opTops) this.opTops.push(c);
    else this.applyTopChanges([c]);
  }

  private bump(
    relId: number,
    profileId: string,
    side: 'a' | 'b',
    prop: string,
    count: number,
    sum: bigint | number | null,
    float: boolean,
  ): void {
    if (!float) {
      // Counts and int sums are exact, so they can wait for the end of the batch (see pendingStats).
      const change = {
        key: `${relKey(relId)}\0${profileId}\0${side}\0${prop}`,
        relId,
        profileId,
        side,
        prop,
        count,
        sum: sum as bigint | null,
      };
      if (this.opStats) this.opStats.push(change);
      else this.applyStatChanges([change]);
      return;
    }
    const left = this.bumpFloat(relId, profileId, side, prop, count, sum as number);
    if (left <= 0) this.statDrop.run(relId, profileId, side, prop);
  }

  /**
   * A float sum that would leave the double range refuses the write (400, nothing changed), as a
   * float value that would become infinite does: an infinite sum cannot be answered, and its
   * compensation turns NaN, which SQLite stores as NULL (so the NOT NULL constraint fails).
   */
  private bumpFloat(
    relId: number,
    profileId: string,
    side: 'a' | 'b',
    prop: string,
    count: number,
    sum: number,
  ): number {
    let row: { count: number; sum: number; sum_c: number };
    try {
      row = this.statAddFloat.get(relId, profileId, side, prop, count, sum)!;
    } catch (err) {
      if (err instanceof BetterSqlite3.SqliteError && err.code === 'SQLITE_CONSTRAINT_NOTNULL') {
        throw infiniteSum(prop);
      }
      throw err;
    }
    if (!Number.isFinite(row.sum) || !Number.isFinite(row.sum_c)) throw infiniteSum(prop);
    return row.count;
  }

  /**
   * Recomputes a property's aggregates from the relations themselves: counts and sum in
   * relation_stats, values in relation_tops. Reads only this type's relations.
   */
  private rebuildProperty(type: RelationType, property: PropertyDef): void {
    const path = `$.${property.name}`;
    this.statDeleteProp.run(type.relId, property.name);
    this.statRebuild.run(property.name, keepsSum(property) ? 1 : 0, path, type.relId, path);
    this.topDeleteProp.run(type.relId, property.name);
    if (keepsTop(property)) this.topRebuild.run(property.name, path, type.relId, path);
  }

  // -------------------------------------------------------------------------------------------
  // Relation reads

  listRelations(input: ListRelationsInput): ListRelationsOutcome {
    return this.read(() => {
      const type = this.typeOf(input.type);
      const found = resolveOne(
        this.findIds(input.side === 'a' ? type.dbA : type.dbB, input.profile),
        'profile',
      );
      if (found.kind !== 'ok') return found;
      const id = found.id;
      const total = this.statTotal.get(type.relId, id, input.side) ?? 0;
      if (input.refuseAbove !== undefined && total > input.refuseAbove) return { kind: 'too_many', total };
      const limit = Math.max(0, input.limit);
      const list = input.side === 'a' ? this.listByA : this.listByB;
      const found2 = list.all(type.relId, id, input.after ?? '', limit + 1);
      const rows: RelationRow[] = found2
        .slice(0, limit)
        .map((r) =>
          input.side === 'a'
            ? { a: id, b: r.other, weights: parseWeights(r.weights) }
            : { a: r.other, b: id, weights: parseWeights(r.weights) },
        );
      return { kind: 'ok', profileId: id, total, rows, more: found2.length > limit };
    });
  }

  counter(input: CounterInput): CounterOutcome {
    return this.read(() => {
      const type = this.typeOf(input.type);
      const found = resolveOne(this.findIds(type.dbA, input.profile), 'profile');
      if (found.kind !== 'ok') return found;
      const id = found.id;
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
      return { kind: 'ok', profileId: id, total: stats.get('')?.count ?? 0, props };
    });
  }

  // -------------------------------------------------------------------------------------------
  // Databases and resources

  createDatabase(input: NewDatabase): Database {
    return this.write(() => {
      this.catalogWrites++;
      const row = this.dbInsert.get(
        input.name,
        input.description,
        JSON.stringify(input.customFields),
        input.now,
      )!;
      const database = toDatabase(row);
      this.databases.set(database.id, database);
      return database;
    });
  }

  addDatabaseFields(id: number, fields: readonly FieldDef[]): Database | null {
    return this.write(() => {
      const current = this.databases.get(id);
      if (!current) return null;
      this.catalogWrites++;
      const row = this.dbSetFields.get(JSON.stringify([...current.customFields, ...fields]), id)!;
      const database = toDatabase(row);
      this.databases.set(id, database);
      return database;
    });
  }

  getDatabase(id: number): Database | null {
    return this.databases.get(id) ?? null;
  }

  listDatabases(afterId: number, limit: number): Page<Database> {
    return pageOf(this.databases.values(), afterId, limit);
  }

  createResource(input: NewResource): Resource {
    return this.write(() => {
      this.catalogWrites++;
      const row = this.resInsert.get(
        input.name,
        JSON.stringify(input.channels),
        JSON.stringify(input.dbIds),
        input.now,
      )!;
      const resource = toResource(row);
      this.resources.set(resource.id, resource);
      return resource;
    });
  }

  getResource(id: number): Resource | null {
    return this.resources.get(id) ?? null;
  }

  listResources(afterId: number, limit: number): Page<Resource> {
    return pageOf(this.resources.values(), afterId, limit);
  }

  // -------------------------------------------------------------------------------------------
  // Relation types

  createRelationType(input: NewRelationType): RelationType {
    return this.write(() => {
      for (const property of input.properties) pathOf(property.name);
      this.catalogWrites++;
      const row = this.typeInsert.get(
        input.name,
        input.dbA,
        input.dbB,
        JSON.stringify(input.properties),
        input.now,
      )!;
      const type = toRelationType(row);
      this.types.set(type.relId, type);
      this.typeStatements.delete(type.relId);
      return type;
    });
  }

  getRelationType(relId: number): RelationType | null {
    return this.types.get(relId) ?? null;
  }

  listRelationTypes(): readonly RelationType[] {
    return [...this.types.values()];
  }

  updateRelationType(input: UpdateRelationTypeInput): RelationType | null {
    return this.write(() => {
      const current = this.types.get(input.relId);
      if (!current) return null;
      for (const property of input.properties) pathOf(property.name);
      this.catalogWrites++;
      const row = this.typeUpdate.get(
        input.name ?? current.name,
        JSON.stringify(input.properties),
        input.relId,
      )!;
      const type = toRelationType(row);
      this.types.set(type.relId, type);
      this.typeStatements.delete(type.relId);
      // Core lists what changed; a property whose top or sum switched on or off is rebuilt too,
      // so that the aggregates can never disagree with the definition.
      const rebuild = new Set(input.rebuild);
      for (const property of type.properties) {
        const was = findProperty(current, property.name);
        if (!was || keepsTop(was) !== keepsTop(property) || keepsSum(was) !== keepsSum(property)) {
          rebuild.add(property.name);
        }
      }
      for (const name of rebuild) {
        const property = findProperty(type, name);
        if (property) this.rebuildProperty(type, property);
      }
      return type;
    });
  }

  deleteRelationType(relId: number): boolean {
    return this.write(() => {
      if (!this.types.has(relId)) return false;
      this.catalogWrites++;
      this.relDeleteType.run(relId);
      this.statDeleteType.run(relId);
      this.topDeleteType.run(relId);
      this.typeDelete.run(relId);
      this.types.delete(relId);
      this.typeStatements.delete(relId);
      return true;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Tokens (never cached: the CLI may write them from another process)

  createToken(input: NewToken): TokenInfo {
    return this.write(() =>
      toTokenInfo(this.tokInsert.get(input.name, JSON.stringify(input.rights), input.hash, input.now)!),
    );
  }

  ensureToken(input: NewToken): TokenInfo {
    return this.write(() =>
      toTokenInfo(this.tokEnsure.get(input.name, JSON.stringify(input.rights), input.hash, input.now)!),
    );
  }

  findTokenByHash(hash: string): TokenRecord | null {
    return this.read(() => {
      const row = this.tokByHash.get(hash);
      return row ? toTokenRecord(row) : null;
    });
  }

  listTokens(): readonly TokenInfo[] {
    return this.read(() => this.tokAll.all().map(toTokenInfo));
  }

  revokeToken(id: number): boolean {
    return this.write(() => this.tokDelete.run(id).changes > 0);
  }

  revokeTokensNamed(name: string): number {
    return this.write(() => this.tokDeleteNamed.run(name).changes);
  }

  touchTokens(uses: readonly { readonly id: number; readonly at: string }[]): void {
    this.write(() => {
      for (const use of uses) this.tokTouch.run(use.at, use.id, use.at);
    });
  }
}
