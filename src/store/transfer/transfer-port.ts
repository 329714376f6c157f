// The transfer port: a whole store as streams of engine-neutral rows (catalogue, profiles,
// relations, aggregates), read from one engine and written to another by `ties copy` and
// `ties export`. Each engine implements it next to its own tables (sqlite-transfer.ts,
// postgres-transfer.ts), so the commands never see a table layout: when a layout changes, only
// its engine's transfer file follows.
import type { ChangeEvent } from '../../core/change-feed.js';
import type { Database, FieldValue, RelationType, Resource, TokenRecord, Weights } from '../../core/model.js';
import type { FeedCursor, Webhook } from '../../core/outbound-store.js';
import type { StoredSubscription } from '../../core/store.js';

/** Everything small: copied first, in one go, with the ids it has. */
export interface CatalogueRows {
  readonly databases: readonly Database[];
  readonly resources: readonly Resource[];
  readonly relationTypes: readonly RelationType[];
  /** With their hashes, so that every token keeps working on the copy. */
  readonly tokens: readonly TokenRecord[];
  /**
   * The highest relation type and token ids ever handed out (deleted ones included): the copy
   * never hands them out again, as the source would not.
   */
  readonly lastRelId: number;
  readonly lastTokenId: number;
}

export interface ProfileRecord {
  readonly id: string;
  readonly dbId: number;
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** Ordered by resource, channel, contact key. */
  readonly subscriptions: readonly StoredSubscription[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface RelationRecord {
  readonly a: string;
  readonly b: string;
  readonly weights: Weights;
  /** ISO-8601 times (no call answers them, but a copy keeps them). */
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * One aggregate row of a relation type, as both engines can answer it: side 'a' is profile A's
 * total (prop '') and per-property count and sum; side 'b' is profile B's count (prop '').
 */
export interface AggregateRecord {
  readonly side: 'a' | 'b';
  readonly profileId: string;
  readonly prop: string;
  readonly count: number;
  /** The sum the store answers (a float's compensation included); null when the property keeps none. */
  readonly sum: number | null;
}

/**
 * The change feed's configuration and positions (issue #16): webhooks with their ids and secrets,
 * every cursor (webhooks' and the AMQP publisher's) with its delivery state, and where the log
 * stands. Seqs are copied as they are, so positions, cursors and a follower's `after` stay valid.
 */
export interface FeedRows {
  readonly webhooks: readonly Webhook[];
  /** Leases are not carried: they belong to the source's servers. */
  readonly cursors: readonly FeedCursor[];
  /** The highest webhook id ever handed out: the copy never hands it out again. */
  readonly lastWebhookId: number;
  /** The highest seq ever handed out (pruned or rolled back included): the copy's next seq is above it. */
  readonly lastSeq: number;
  /** Events up to this seq were pruned: a cursor below it has expired on the copy too. */
  readonly prunedThrough: number;
}

/** Keyset positions: rows strictly after these are read. Ids compare as byte strings. */
export interface RelationKey {
  readonly a: string;
  readonly b: string;
}

export interface StoreCounts {
  readonly databases: number;
  readonly resources: number;
  readonly relationTypes: number;
  readonly tokens: number;
  readonly profiles: number;
  readonly subscriptions: number;
  /** Relations per relation type id. */
  readonly relations: Readonly<Record<number, number>>;
  /** Events in the change log, webhooks, feed cursors. */
  readonly changes: number;
  readonly webhooks: number;
  readonly feedCursors: number;
}

/**
 * Reads a store. A reader opened as a snapshot sees one consistent state of the store however
 * long it reads and whatever is written meanwhile (a read transaction on SQLite, a repeatable-read
 * transaction on PostgreSQL). Long lists come as chunks of about `chunk` rows.
 */
export interface TransferReader {
  readonly engine: 'sqlite' | 'postgres';
  /** Where the store is, for messages (a file path, or a URL without its password). */
  readonly where: string;
  catalogue(): Promise<CatalogueRows>;
  counts(): Promise<StoreCounts>;
  /** Profiles with ids after `after` ('' for all), by id. */
  profiles(after: string, chunk: number): AsyncIterable<ProfileRecord[]>;
  /** A type's relations after `after` (null for all), by A then B. */
  relations(relId: number, after: RelationKey | null, chunk: number): AsyncIterable<RelationRecord[]>;
  /** A type's aggregate rows, by side, then profile id, then property. */
  aggregates(type: RelationType, chunk: number): AsyncIterable<AggregateRecord[]>;
  /** Webhooks, cursors and the log's bounds. */
  feed(): Promise<FeedRows>;
  /** The change log's events after `after`, by seq. */
  changes(after: number, chunk: number): AsyncIterable<ChangeEvent[]>;
  close(): Promise<void>;
}

/** Writes a copy. Every method is one transaction: an interrupted copy keeps whole chunks. */
export interface TransferWriter extends TransferReader {
  /** Whether the store holds anything: no database, resource, type, token or profile. */
  isEmpty(): Promise<boolean>;
  /** Deletes everything in the store (a copy asked to overwrite a non-empty target). */
  clear(): Promise<void>;
  /** Writes the catalogue with its ids, and moves the id sequences past the source's. */
  writeCatalogue(rows: CatalogueRows): Promise<void>;
  /** Profiles in id order, with their subscriptions and match keys. */
  writeProfiles(rows: readonly ProfileRecord[], databases: ReadonlyMap<number, Database>): Promise<void>;
  /** Relations of one type in (A, B) order, without their aggregates. */
  writeRelations(relId: number, rows: readonly RelationRecord[]): Promise<void>;
  /** The last profile and relation written, to resume after. */
  lastProfileId(): Promise<string | null>;
  lastRelation(relId: number): Promise<RelationKey | null>;
  /** Recomputes a type's aggregates from its relations, by the engine's own rebuild. */
  rebuildAggregates(type: RelationType): Promise<void>;
  /** Events with their seqs, in seq order. */
  writeChanges(rows: readonly ChangeEvent[]): Promise<void>;
  /** The last event written (0: none), to resume after. */
  lastChangeSeq(): Promise<number>;
  /**
   * Replaces the webhooks and cursors with these (leases cleared), moves the webhook id and seq
   * sequences past the source's, and takes its pruned_through. Idempotent (a resumed copy runs it again).
   */
  writeFeed(rows: FeedRows): Promise<void>;
}

/** Byte order of two ids or keys, the order both engines list them in. */
export function compareKeys(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}
