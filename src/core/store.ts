// The store port: everything core needs from a storage engine, owned by core and implemented by
// each adapter under src/store/<engine>/. Every method is one transaction. Methods that find
// profiles and then write take the lookup as data (a ProfileQuery) so that an engine can resolve
// and write in one statement or one batch; the rules that decide 404/409 stay in core (see
// resolvePair and resolveOne in matching.ts), the adapter only executes the lookup by index.

import type { ChangeCall, ChangeFilter, ChangePage, PruneInput } from './change-feed.js';
import type { TiesError } from './errors.js';
import type { FieldFunction } from './field-functions.js';
import type {
  Channel,
  Database,
  FieldDef,
  FieldValue,
  PropertyDef,
  RelationType,
  Resource,
  Right,
  Subscription,
  SubscriptionStatus,
  TokenInfo,
  TokenRecord,
  Weights,
  WeightValue,
} from './model.js';
import type { OutboundStore } from './outbound-store.js';

// ---------------------------------------------------------------------------------------------
// Profile lookups

/**
 * How to find a profile inside one database. Values are already normalised by core:
 * emails lower-cased and trimmed, phones reduced to digits, field keys as profileMatchKeys makes them.
 */
export type ProfileQuery =
  | { readonly by: 'id'; readonly id: string }
  | {
      readonly by: 'email';
      readonly email: string;
      readonly inProfile: boolean;
      readonly inSubscriptions: boolean;
      readonly resourceId?: number | undefined;
    }
  | {
      readonly by: 'phone';
      readonly phone: string;
      readonly inProfile: boolean;
      readonly inSubscriptions: boolean;
      readonly resourceId?: number | undefined;
    }
  /** A custom field; every key must be present (one key for scalars, one per tag for tags). */
  | { readonly by: 'field'; readonly field: string; readonly keys: readonly string[] }
  /** A push subscription by its id (device token), as given. */
  | { readonly by: 'push'; readonly key: string; readonly resourceId?: number | undefined }
  /**
   * email_phone / email_phone_sub: the profiles an email or a phone (either may be absent) finds,
   * in the profile's fields or in its subscriptions.
   */
  | {
      readonly by: 'contact';
      readonly email?: string | undefined;
      readonly phone?: string | undefined;
      readonly inProfile: boolean;
      readonly inSubscriptions: boolean;
      readonly resourceId?: number | undefined;
    }
  /** A lookup that finds nothing (custom_sub: Ties keeps no custom-channel subscriptions). */
  | { readonly by: 'none' };

export interface ProfileRef {
  readonly dbId: number;
  readonly query: ProfileQuery;
}

export type Side = 'profile_a' | 'profile_b' | 'profile';

export type MatchFailure =
  | { readonly kind: 'not_found'; readonly side: Side }
  | { readonly kind: 'ambiguous'; readonly side: Side };

/** Index keys of one profile, computed by core (profileMatchKeys) and stored by the adapter. */
export interface MatchKeys {
  /** Lower-cased email of the profile's `email` field, if any. */
  readonly email: string | null;
  /** Digits of each entry of `phones`. */
  readonly phones: readonly string[];
  /** One entry per indexable custom field value (one per tag for tags). */
  readonly fields: readonly { readonly field: string; readonly key: string }[];
}

/** Index key of a subscription's contact: lower-cased email, phone digits, or the push id as is. */
export interface StoredSubscription extends Subscription {
  readonly contactKey: string;
}

// ---------------------------------------------------------------------------------------------
// Profile writes

export interface SubscriptionChange {
  readonly resourceId: number;
  readonly channel: Channel;
  readonly contact: string;
  readonly contactKey: string;
  readonly status: SubscriptionStatus;
  /** Absent: a new subscription gets 0 and an existing one keeps its priority. */
  readonly priority?: number | undefined;
}

export type SaveProfileMode = 'import' | 'update' | 'add';

export interface SaveProfileInput {
  readonly database: Database;
  /** import: update the match or create; update: update the match or fail; add: always create. */
  readonly mode: SaveProfileMode;
  /** The lookup (absent for add). */
  readonly query?: ProfileQuery | undefined;
  /** Field changes, validated and normalised; null removes a field. */
  readonly set: Readonly<Record<string, FieldValue | null>>;
  /** Extra fields for a created profile only (the email or phone it was matched by). */
  readonly setOnCreate: Readonly<Record<string, FieldValue>>;
  /**
   * Update functions on fields not in `set`: the engine applies them with applyFieldFunctions to
   * the fields as it holds them inside its write transaction (a created profile's: setOnCreate and
   * set), so that concurrent writes never lose an update.
   */
  readonly functions?: Readonly<Record<string, FieldFunction>> | undefined;
  readonly subscriptions: readonly SubscriptionChange[];
  /** Id for a created profile; core makes it (ids.ts). */
  readonly newId: string;
  readonly now: string;
}

export type SaveProfileOutcome =
  | { readonly kind: 'ok'; readonly id: string; readonly created: boolean }
  | MatchFailure
  /** The profile's email would be another profile's of the same database; nothing changed. */
  | { readonly kind: 'email_taken' }
  /** An update function could not be applied to the stored value (reason says why); nothing changed. */
  | { readonly kind: 'function_failed'; readonly field: string; readonly reason: string };

export type DeleteProfileOutcome = { readonly kind: 'ok'; readonly id: string } | MatchFailure;

export interface StoredProfile {
  readonly id: string;
  readonly dbId: number;
  readonly fields: Readonly<Record<string, FieldValue>>;
  readonly subscriptions: readonly Subscription[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type GetProfileOutcome = { readonly kind: 'ok'; readonly profile: StoredProfile } | MatchFailure;

// ---------------------------------------------------------------------------------------------
// Relation writes and reads

export interface RelationTarget {
  readonly type: RelationType;
  /** Profile A, searched in type.dbA. */
  readonly a: ProfileQuery;
  /** Profile B, searched in type.dbB. */
  readonly b: ProfileQuery;
  readonly now: string;
  /**
   * The call the change feed records for this change; by default the method's own
   * (relations/attach, …; attachMany: relations/attach_batch). strengthen_batch sets its own.
   */
  readonly call?: ChangeCall | undefined;
}

export type PairFailure = MatchFailure | { readonly kind: 'self'; readonly id: string };
export interface PairOk {
  readonly kind: 'ok';
  readonly a: string;
  readonly b: string;
}

export interface AttachInput extends RelationTarget {
  /** Validated against the type's properties. */
  readonly weights: Weights;
}
export type AttachOutcome =
  | PairOk
  | PairFailure
  | { readonly kind: 'duplicate'; readonly a: string; readonly b: string };

/**
 * What one item of attachMany came to: the outcome a single attach would have had, or the
 * catalogue error it would have thrown (its relation type was deleted meanwhile).
 */
export type AttachManyOutcome = AttachOutcome | { readonly kind: 'error'; readonly error: TiesError };

export interface StrengthenInput extends RelationTarget {
  /** Numeric properties: the amount to add (negative subtracts). */
  readonly add: Readonly<Record<string, number>>;
  /** bool and string properties: the value to set. */
  readonly set: Readonly<Record<string, WeightValue>>;
}
export type StrengthenOutcome =
  | (PairOk & { readonly created: boolean })
  | PairFailure
  /** The result of an addition left the safe range (int) or became infinite (float); nothing changed. */
  | { readonly kind: 'overflow'; readonly property: string; readonly result: string };

export interface EditInput extends RelationTarget {
  readonly set: Weights;
  /** Properties to remove (given as null). */
  readonly remove: readonly string[];
}
export type EditOutcome = (PairOk & { readonly created: boolean }) | PairFailure;

export type DetachInput = RelationTarget;
export type DetachOutcome =
  | PairOk
  | PairFailure
  | { readonly kind: 'no_relation'; readonly a: string; readonly b: string };

export interface ListRelationsInput {
  readonly type: RelationType;
  /** 'a': the relations pointing at the profile (rows by B); 'b': the relations it initiated (rows by A). */
  readonly side: 'a' | 'b';
  readonly profile: ProfileQuery;
  /** Rows after this profile id of the other side (keyset paging). */
  readonly after?: string | undefined;
  readonly limit: number;
  /** When set and the profile has more relations than this, answer too_many instead of rows. */
  readonly refuseAbove?: number | undefined;
  /** Order by a property instead of the other side's id (`after` is then not given). */
  readonly order?: RelationOrder | undefined;
  /** Rows to skip in the order before the page (offset paging: sorted pages have no keyset). */
  readonly offset?: number | undefined;
  /** Only rows passing it; the outcome then says how many do (`matched`). */
  readonly filter?: RelationFilter | undefined;
}
/**
 * relations/get's `sort`: rows by the property's value (rows without it last, whichever the
 * direction), ties by the other side's id ascending, so that every page of an unchanged set of
 * relations is the same.
 */
export interface RelationOrder {
  readonly property: PropertyDef;
  readonly descending: boolean;
}
/** relations/get's filters: the other side's id within [idLow, idHigh], the sort property within [min, max]. */
export interface RelationFilter {
  /** Lowest other id (24 lower-case hex digits), inclusive: an id prefix padded with 0. */
  readonly idLow: string;
  /** Highest other id, inclusive: the prefix padded with f. */
  readonly idHigh: string;
  /** Bounds on the order's (numeric) property, inclusive; a row without the property is left out. */
  readonly min?: number | undefined;
  readonly max?: number | undefined;
}
/**
 * One row of relations/get as the engine read it: the profile id on the other side (B for side
 * 'a', A for side 'b') and the relation's weights as the JSON text of an object. A tuple rather
 * than an object, and the weights as text, so that an engine hands its raw rows over as they came
 * (SQLite's `.raw()` rows are exactly this) and core writes the answer from them in one pass.
 */
export type RelationTuple = readonly [other: string, weights: string];

export type ListRelationsOutcome =
  | {
      readonly kind: 'ok';
      readonly profileId: string;
      readonly total: number;
      /** Ordered by the other side's id (or by `order`); at most `limit` rows. */
      readonly rows: readonly RelationTuple[];
      /** Whether rows remain after the last one returned. */
      readonly more: boolean;
      /** With a filter: how many relations pass it (all pages). */
      readonly matched?: number;
    }
  | MatchFailure
  | { readonly kind: 'too_many'; readonly total: number };

export interface CounterInput {
  readonly type: RelationType;
  readonly profile: ProfileQuery;
}
export interface PropertyAggregate {
  readonly name: string;
  /** Relations of this profile that have the property. */
  readonly count: number;
  /** null unless the property keeps a sum. */
  readonly sum: number | null;
  /** The property's `top` highest values, descending, ties by profile id; null unless it keeps a top. */
  readonly top: readonly { readonly profileId: string; readonly value: number }[] | null;
}
export type CounterOutcome =
  | {
      readonly kind: 'ok';
      readonly profileId: string;
      readonly total: number;
      /** Only properties that at least one relation has. */
      readonly props: readonly PropertyAggregate[];
    }
  | MatchFailure;

// ---------------------------------------------------------------------------------------------
// Catalogue: databases, resources, relation types, tokens

export interface NewDatabase {
  readonly name: string;
  readonly description: string;
  readonly customFields: readonly FieldDef[];
  readonly now: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly total: number;
}

export interface NewResource {
  readonly name: string;
  readonly channels: readonly Channel[];
  readonly dbIds: readonly number[];
  readonly url: string;
  readonly trkDomain: string;
  readonly now: string;
}

export interface NewRelationType {
  readonly name: string;
  readonly dbA: number;
  readonly dbB: number;
  readonly properties: readonly PropertyDef[];
  readonly now: string;
}

export interface UpdateRelationTypeInput {
  readonly relId: number;
  readonly name?: string | undefined;
  /** The complete new list of properties (core merged the changes). */
  readonly properties: readonly PropertyDef[];
  /** Properties whose top or sum changed (or that are new): their aggregates are rebuilt. */
  readonly rebuild: readonly string[];
}

export interface NewToken {
  readonly name: string;
  readonly rights: readonly Right[];
  readonly hash: string;
  readonly now: string;
}

// ---------------------------------------------------------------------------------------------

/** The outbound methods (webhooks, feed cursors) are declared in outbound-store.ts. */
export interface Store extends OutboundStore {
  readonly engine: 'sqlite' | 'postgres';

  // Profiles
  saveProfile(input: SaveProfileInput): Promise<SaveProfileOutcome>;
  getProfile(ref: ProfileRef): Promise<GetProfileOutcome>;
  deleteProfile(ref: ProfileRef): Promise<DeleteProfileOutcome>;

  // Relations
  attach(input: AttachInput): Promise<AttachOutcome>;
  /**
   * Optional, for engines with a set-based bulk path (PostgreSQL): attaches many relations at
   * once, answering for each input, in order, what attach would have answered had they been
   * attached one after the other (an input naming the pair of an earlier one is a duplicate).
   * Without it, attach_batch and `ties import` attach item by item.
   */
  attachMany?(inputs: readonly AttachInput[]): Promise<AttachManyOutcome[]>;
  /**
   * Optional, with attachMany: the items per attachMany call that suit a bulk load (`ties import`'s
   * default batch) when it is not the API's attach_batch limit, e.g. because each call has a large
   * fixed cost. Without it, a bulk load sends attach_batch's maximum per call.
   */
  readonly bulkChunk?: number;
  /**
   * Optional, with bulkChunk: the size a long bulk load's chunks may grow to, when larger chunks
   * share more of the work per item (how they grow is the loader's: `ties import`). Without it,
   * chunks keep bulkChunk.
   */
  readonly bulkChunkMax?: number;
  strengthen(input: StrengthenInput): Promise<StrengthenOutcome>;
  edit(input: EditInput): Promise<EditOutcome>;
  detach(input: DetachInput): Promise<DetachOutcome>;
  listRelations(input: ListRelationsInput): Promise<ListRelationsOutcome>;
  counter(input: CounterInput): Promise<CounterOutcome>;

  // Databases and resources
  createDatabase(input: NewDatabase): Promise<Database>;
  /** Adds custom fields; null when the database does not exist. Names are checked by core. */
  addDatabaseFields(id: number, fields: readonly FieldDef[]): Promise<Database | null>;
  getDatabase(id: number): Promise<Database | null>;
  listDatabases(afterId: number, limit: number): Promise<Page<Database>>;
  createResource(input: NewResource): Promise<Resource>;
  getResource(id: number): Promise<Resource | null>;
  listResources(afterId: number, limit: number): Promise<Page<Resource>>;

  // Relation types
  createRelationType(input: NewRelationType): Promise<RelationType>;
  getRelationType(relId: number): Promise<RelationType | null>;
  listRelationTypes(): Promise<readonly RelationType[]>;
  /** null when the type does not exist. */
  updateRelationType(input: UpdateRelationTypeInput): Promise<RelationType | null>;
  /** Deletes the type and all its relations; false when it does not exist. */
  deleteRelationType(relId: number): Promise<boolean>;

  // Tokens
  createToken(input: NewToken): Promise<TokenInfo>;
  /** Creates the token unless one with this hash exists; gives it every listed right. */
  ensureToken(input: NewToken): Promise<TokenInfo>;
  findTokenByHash(hash: string): Promise<TokenRecord | null>;
  listTokens(): Promise<readonly TokenInfo[]>;
  revokeToken(id: number): Promise<boolean>;
  /** Revokes every token with this name (the demo rotates its token this way). */
  revokeTokensNamed(name: string): Promise<number>;
  /** Records last use; called in batches, so it may lag a few seconds. */
  touchTokens(uses: readonly { readonly id: number; readonly at: string }[]): Promise<void>;

  // Change feed (src/core/change-feed.ts): every relation write above, profile delete and type
  // delete appends its events in its own transaction, unless the store was opened with the feed off.
  /**
   * Events with seq > after, ascending, at most `limit`, only ones no reader can later see an
   * event with a smaller seq appear before (commit order); with a filter, at most
   * FILTER_SCAN_WINDOW seqs are looked at (lastSeq says how far).
   */
  readChanges(after: number, limit: number, filter: ChangeFilter): Promise<ChangePage>;
  /** Deletes at most `maxRows` of the oldest events past the retention; answers how many. */
  pruneChanges(input: PruneInput): Promise<number>;
  /** Calls `listener` after a write of this process that may have appended events committed. */
  onChangesWritten?(listener: () => void): () => void;

  /** Resolves when the store answers; throws STORE_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  /** Finishes queued work, then releases the engine. */
  close(): Promise<void>;
}
