// The writes the SQLite engine applies in group commit, as plain data (a discriminated union on
// `method`), so that a queued write can also cross to the writer thread; the engine runs one with
// an exhaustive switch.
import type { PruneInput } from '../../core/change-feed.js';
import type { ErrorCode, ErrorDetails } from '../../core/errors.js';
import type { Database, FieldDef, RelationType, Resource, TokenInfo } from '../../core/model.js';
import type {
  CursorClaim,
  CursorUpdate,
  FeedCursor,
  NewWebhook,
  Webhook,
} from '../../core/outbound-store.js';
import type {
  AttachInput,
  AttachOutcome,
  DeleteProfileOutcome,
  DetachInput,
  DetachOutcome,
  EditInput,
  EditOutcome,
  NewDatabase,
  NewRelationType,
  NewResource,
  NewToken,
  ProfileRef,
  SaveProfileInput,
  SaveProfileOutcome,
  StrengthenInput,
  StrengthenOutcome,
  UpdateRelationTypeInput,
} from '../../core/store.js';

/**
 * One item of attachMany as plain data (a TiesError would lose its class and code crossing to the
 * writer thread): its outcome, or the catalogue error it met (its type was deleted meanwhile).
 */
export type AttachManyItem =
  | AttachOutcome
  | { readonly kind: 'error'; readonly code: ErrorCode; readonly details: ErrorDetails };

/** Every write: its arguments and what it answers. */
export interface WriteSignatures {
  readonly saveProfile: (input: SaveProfileInput) => SaveProfileOutcome;
  readonly deleteProfile: (ref: ProfileRef) => DeleteProfileOutcome;
  readonly attach: (input: AttachInput) => AttachOutcome;
  /** Many attaches as one queued write (attach_batch, ties import): no promise or op per item. */
  readonly attachMany: (inputs: readonly AttachInput[]) => AttachManyItem[];
  readonly strengthen: (input: StrengthenInput) => StrengthenOutcome;
  readonly edit: (input: EditInput) => EditOutcome;
  readonly detach: (input: DetachInput) => DetachOutcome;
  readonly createDatabase: (input: NewDatabase) => Database;
  readonly addDatabaseFields: (id: number, fields: readonly FieldDef[]) => Database | null;
  readonly createResource: (input: NewResource) => Resource;
  readonly createRelationType: (input: NewRelationType) => RelationType;
  readonly updateRelationType: (input: UpdateRelationTypeInput) => RelationType | null;
  readonly deleteRelationType: (relId: number) => boolean;
  readonly createToken: (input: NewToken) => TokenInfo;
  readonly ensureToken: (input: NewToken) => TokenInfo;
  readonly revokeToken: (id: number) => boolean;
  readonly revokeTokensNamed: (name: string) => number;
  readonly touchTokens: (uses: readonly { readonly id: number; readonly at: string }[]) => void;
  /** One pruning step of the change log (a chunk of the oldest events past the retention). */
  readonly pruneChanges: (input: PruneInput) => number;
  readonly createWebhook: (input: NewWebhook) => Webhook;
  readonly deleteWebhook: (id: number) => boolean;
  readonly claimFeedCursor: (claim: CursorClaim) => FeedCursor | null;
  readonly updateFeedCursor: (update: CursorUpdate) => boolean;
  readonly releaseFeedCursor: (name: string, owner: string) => void;
}

export type WriteMethod = keyof WriteSignatures;
export type WriteArgs<M extends WriteMethod> = Parameters<WriteSignatures[M]>;
export type WriteResult<M extends WriteMethod> = ReturnType<WriteSignatures[M]>;

/** One queued write: plain data, so that it can also cross to a worker thread. */
export type WriteOp = {
  [M in WriteMethod]: { readonly method: M; readonly args: WriteArgs<M> };
}[WriteMethod];

/** What runBatch answers for one write. */
export type BatchResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown };

/** Writes whose own SQL reads or rewrites the aggregates: what a batch has pending is applied first. */
export const READS_AGGREGATES: ReadonlySet<WriteMethod> = new Set<WriteMethod>([
  'deleteProfile',
  'updateRelationType',
  'deleteRelationType',
]);

/** How many writes a queued op stands for (attachMany: one per item), as stats and metrics count them. */
export function writesIn(op: WriteOp): number {
  return op.method === 'attachMany' ? op.args[0].length : 1;
}

/** The writes of a batch of queued ops (or of queued entries holding them). */
export function writesInAll(ops: readonly WriteOp[]): number {
  let n = 0;
  for (const op of ops) n += writesIn(op);
  return n;
}
