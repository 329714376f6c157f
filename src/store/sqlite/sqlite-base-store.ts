// What both SQLite stores share: the Store port mapped onto SqliteEngine, reads answered at once from
// a connection that sees only committed data, writes handed to the subclass's group commit.

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
import type { CommitInfo, CommitListener } from '../../core/store-stats.js';
import type { EngineStats, SqliteEngine } from './sqlite-engine.js';
import { storeClosed } from './sqlite-errors.js';
import type { WriteArgs, WriteMethod, WriteOp, WriteResult } from './sqlite-write-ops.js';

/** At most this many writes share one transaction; the rest wait for the next one. */
export const MAX_BATCH = 1000;

/** A write waiting for its group commit, with the promise its call awaits. */
export interface PendingWrite {
  readonly op: WriteOp;
  /** performance.now() after which the write no longer waits for another process's lock (503). */
  readonly deadline: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface SqliteStoreStats extends EngineStats {
  /** Writes waiting for the next batch. */
  readonly queued: number;
}

export abstract class SqliteBaseStore implements Store {
  readonly engine = 'sqlite' as const;
  protected closed = false;
  private readonly listeners = new Set<CommitListener>();

  constructor(
    /** The connection reads run on (and, for SqliteStore, writes too). */
    protected readonly reader: SqliteEngine,
  ) {}

  /** Queues one write for the next group commit; settles once that commit is durable. */
  protected abstract write<M extends WriteMethod>(method: M, ...args: WriteArgs<M>): Promise<WriteResult<M>>;

  abstract stats(): SqliteStoreStats;
  abstract close(): Promise<void>;

  /** Calls `listener` after every batch (committed or failed); answers a function that stops it. */
  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  protected committed(info: CommitInfo): void {
    for (const listener of this.listeners) listener(info);
  }

  protected read<T>(fn: () => T): Promise<T> {
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
    return this.read(() => this.reader.getProfile(ref));
  }
  deleteProfile(ref: ProfileRef): Promise<DeleteProfileOutcome> {
    return this.write('deleteProfile', ref);
  }

  // Relations
  attach(input: AttachInput): Promise<AttachOutcome> {
    return this.write('attach', input);
  }
  async attachMany(inputs: readonly AttachInput[]): Promise<AttachManyOutcome[]> {
    const items = await this.write('attachMany', inputs);
    return items.map((item) =>
      item.kind === 'error' ? { kind: 'error', error: new TiesError(item.code, item.details) } : item,
    );
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
    return this.read(() => this.reader.listRelations(input));
  }
  counter(input: CounterInput): Promise<CounterOutcome> {
    return this.read(() => this.reader.counter(input));
  }

  // Databases and resources
  createDatabase(input: NewDatabase): Promise<Database> {
    return this.write('createDatabase', input);
  }
  addDatabaseFields(id: number, fields: readonly FieldDef[]): Promise<Database | null> {
    return this.write('addDatabaseFields', id, fields);
  }
  getDatabase(id: number): Promise<Database | null> {
    return this.read(() => this.reader.getDatabase(id));
  }
  listDatabases(afterId: number, limit: number): Promise<Page<Database>> {
    return this.read(() => this.reader.listDatabases(afterId, limit));
  }
  createResource(input: NewResource): Promise<Resource> {
    return this.write('createResource', input);
  }
  getResource(id: number): Promise<Resource | null> {
    return this.read(() => this.reader.getResource(id));
  }
  listResources(afterId: number, limit: number): Promise<Page<Resource>> {
    return this.read(() => this.reader.listResources(afterId, limit));
  }

  // Relation types
  createRelationType(input: NewRelationType): Promise<RelationType> {
    return this.write('createRelationType', input);
  }
  getRelationType(relId: number): Promise<RelationType | null> {
    return this.read(() => this.reader.getRelationType(relId));
  }
  listRelationTypes(): Promise<readonly RelationType[]> {
    return this.read(() => this.reader.listRelationTypes());
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
    return this.read(() => this.reader.findTokenByHash(hash));
  }
  listTokens(): Promise<readonly TokenInfo[]> {
    return this.read(() => this.reader.listTokens());
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

  // Change feed
  readChanges(after: number, limit: number, filter: ChangeFilter): Promise<ChangePage> {
    return this.read(() => this.reader.readChanges(after, limit, filter));
  }
  pruneChanges(input: PruneInput): Promise<number> {
    return this.write('pruneChanges', input);
  }
  /** Every committed batch may hold events: readers waiting for them look again. */
  onChangesWritten(listener: () => void): () => void {
    return this.onCommit((info) => {
      if (info.ok) listener();
    });
  }

  // Webhooks and feed cursors
  createWebhook(input: NewWebhook): Promise<Webhook> {
    return this.write('createWebhook', input);
  }
  listWebhooks(): Promise<{ readonly webhooks: readonly WebhookState[]; readonly head: number }> {
    return this.read(() => this.reader.listWebhooks());
  }
  deleteWebhook(id: number): Promise<boolean> {
    return this.write('deleteWebhook', id);
  }
  claimFeedCursor(claim: CursorClaim): Promise<FeedCursor | null> {
    return this.write('claimFeedCursor', claim);
  }
  updateFeedCursor(update: CursorUpdate): Promise<boolean> {
    return this.write('updateFeedCursor', update);
  }
  releaseFeedCursor(name: string, owner: string): Promise<void> {
    return this.write('releaseFeedCursor', name, owner);
  }

  ping(): Promise<void> {
    return this.read(() => this.reader.ping());
  }
}
