// The embedded SQLite store: the Store port over SqliteEngine, with group commit. Writes are queued
// and applied once per event-loop turn as one transaction (one fsync for the whole batch); every
// write is answered only after that commit. Reads run at once on the committed state.

import type { Database, FieldDef, RelationType, Resource, TokenInfo, TokenRecord } from '../../core/model.js';
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
  ProfileRef,
  SaveProfileInput,
  SaveProfileOutcome,
  Store,
  StrengthenInput,
  StrengthenOutcome,
  UpdateRelationTypeInput,
} from '../../core/store.js';
import { type EngineStats, SqliteEngine, type WriteMethod, type WriteOp } from './sqlite-engine.js';
import { type StoreLogger, storeClosed, toStoreError } from './sqlite-errors.js';

export interface SqliteStoreOptions {
  /** A file path, or ':memory:'. */
  readonly path: string;
  readonly busyTimeoutMs?: number | undefined;
  /** Opens an existing, migrated file read-only (writes then fail with STORE_UNAVAILABLE). */
  readonly readonly?: boolean | undefined;
  readonly logger?: StoreLogger | undefined;
}

/** At most this many writes share one transaction; the rest wait for the next turn. */
export const MAX_BATCH = 1000;

export interface SqliteStoreStats extends EngineStats {
  /** Writes waiting for the next batch. */
  readonly queued: number;
}

interface Pending {
  readonly op: WriteOp;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  return new SqliteStore(SqliteEngine.open(options), options.logger);
}

export class SqliteStore implements Store {
  readonly engine = 'sqlite' as const;
  private queue: Pending[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(
    /** The synchronous engine underneath (tests read query plans and set pragmas through it). */
    readonly sqlite: SqliteEngine,
    private readonly logger?: StoreLogger | undefined,
  ) {}

  /** Counters for metrics: batches, commits, ops, failed batches, largest batch, queue length. */
  stats(): SqliteStoreStats {
    return { ...this.sqlite.stats(), queued: this.queue.length };
  }

  private write<M extends WriteMethod>(
    method: M,
    ...args: Parameters<SqliteEngine[M]>
  ): Promise<ReturnType<SqliteEngine[M]>> {
    if (this.closed) return Promise.reject(storeClosed());
    return new Promise((resolve, reject) => {
      this.queue.push({
        op: { method, args } as WriteOp,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.scheduled ??= setImmediate(this.drainTurn);
    });
  }

  private readonly drainTurn = (): void => {
    this.scheduled = undefined;
    this.drainBatch();
    // What did not fit waits one turn, so that reads and new requests get the thread in between.
    if (this.queue.length > 0) this.scheduled = setImmediate(this.drainTurn);
  };

  private drainBatch(): void {
    const batch = this.queue.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    let results: ReturnType<SqliteEngine['runBatch']>;
    try {
      results = this.sqlite.runBatch(batch.map((p) => p.op));
    } catch (err) {
      const error = toStoreError(err, this.logger);
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, i) => {
      const result = results[i]!;
      if (result.ok) pending.resolve(result.value);
      else pending.reject(result.error);
    });
  }

  private read<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(storeClosed());
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // Profiles
  saveProfile(input: SaveProfileInput): Promise<SaveProfileOutcome> {
    return this.write('saveProfile', input);
  }
  getProfile(ref: ProfileRef): Promise<GetProfileOutcome> {
    return this.read(() => this.sqlite.getProfile(ref));
  }
  deleteProfile(ref: ProfileRef): Promise<DeleteProfileOutcome> {
    return this.write('deleteProfile', ref);
  }

  // Relations
  attach(input: AttachInput): Promise<AttachOutcome> {
    return this.write('attach', input);
  }
  strengthen(input: StrengthenInput): Promise<StrengthenOutcome> {
    return this.write('strengthen', input);
  }
  edit(input: EditInput): Promise<EditOutcome> {
    return this.write('edit', input);
  }
  detach(input: DetachInput): Promise<DetachOutcome> {
    return this.write('detach', input);
  }
  listRelations(input: ListRelationsInput): Promise<ListRelationsOutcome> {
    return this.read(() => this.sqlite.listRelations(input));
  }
  counter(input: CounterInput): Promise<CounterOutcome> {
    return this.read(() => this.sqlite.counter(input));
  }

  // Databases and resources
  createDatabase(input: NewDatabase): Promise<Database> {
    return this.write('createDatabase', input);
  }
  addDatabaseFields(id: number, fields: readonly FieldDef[]): Promise<Database | null> {
    return this.write('addDatabaseFields', id, fields);
  }
  getDatabase(id: number): Promise<Database | null> {
    return this.read(() => this.sqlite.getDatabase(id));
  }
  listDatabases(afterId: number, limit: number): Promise<Page<Database>> {
    return this.read(() => this.sqlite.listDatabases(afterId, limit));
  }
  createResource(input: NewResource): Promise<Resource> {
    return this.write('createResource', input);
  }
  getResource(id: number): Promise<Resource | null> {
    return this.read(() => this.sqlite.getResource(id));
  }
  listResources(afterId: number, limit: number): Promise<Page<Resource>> {
    return this.read(() => this.sqlite.listResources(afterId, limit));
  }

  // Relation types
  createRelationType(input: NewRelationType): Promise<RelationType> {
    return this.write('createRelationType', input);
  }
  getRelationType(relId: number): Promise<RelationType | null> {
    return this.read(() => this.sqlite.getRelationType(relId));
  }
  listRelationTypes(): Promise<readonly RelationType[]> {
    return this.read(() => this.sqlite.listRelationTypes());
  }
  updateRelationType(input: UpdateRelationTypeInput): Promise<RelationType | null> {
    return this.write('updateRelationType', input);
  }
  deleteRelationType(relId: number): Promise<boolean> {
    return this.write('deleteRelationType', relId);
  }

  // Tokens
  createToken(input: NewToken): Promise<TokenInfo> {
    return this.write('createToken', input);
  }
  ensureToken(input: NewToken): Promise<TokenInfo> {
    return this.write('ensureToken', input);
  }
  findTokenByHash(hash: string): Promise<TokenRecord | null> {
    return this.read(() => this.sqlite.findTokenByHash(hash));
  }
  listTokens(): Promise<readonly TokenInfo[]> {
    return this.read(() => this.sqlite.listTokens());
  }
  revokeToken(id: number): Promise<boolean> {
    return this.write('revokeToken', id);
  }
  revokeTokensNamed(name: string): Promise<number> {
    return this.write('revokeTokensNamed', name);
  }
  touchTokens(uses: readonly { readonly id: number; readonly at: string }[]): Promise<void> {
    return this.write('touchTokens', uses);
  }

  ping(): Promise<void> {
    return this.read(() => this.sqlite.ping());
  }

  /** Applies every queued write, then optimizes and closes the file; later calls are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    while (this.queue.length > 0) this.drainBatch();
    this.sqlite.close();
  }
}
