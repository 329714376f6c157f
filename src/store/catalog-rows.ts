// Catalogue rows (databases, resources, relation types, tokens) as both engines store them, turned
// into core's objects, and the id-keyset page both engines answer list calls with. The engines
// differ only in how a JSON column arrives: text in SQLite, already parsed jsonb from pg.
import type {
  Channel,
  Database,
  FieldDef,
  PropertyDef,
  RelationType,
  Resource,
  Right,
  TokenInfo,
  TokenRecord,
} from '../core/model.js';
import type { Page } from '../core/store.js';

/** J: how the engine hands over a JSON column (string for SQLite, the parsed value for pg). */
export interface DatabaseRow<J> {
  id: number;
  name: string;
  description: string;
  custom_fields: J;
  created_at: string;
}
export interface ResourceRow<J> {
  id: number;
  name: string;
  channels: J;
  db_ids: J;
  url: string;
  trk_domain: string;
  created_at: string;
}
export interface RelationTypeRow<J> {
  rel_id: number;
  name: string;
  db_a: number;
  db_b: number;
  properties: J;
  created_at: string;
}
export interface TokenRow<J> {
  id: number;
  name: string;
  rights: J;
  hash: string;
  created_at: string;
  last_used_at: string | null;
}

export interface CatalogMappers<J> {
  toDatabase(row: DatabaseRow<J>): Database;
  toResource(row: ResourceRow<J>): Resource;
  toRelationType(row: RelationTypeRow<J>): RelationType;
  toTokenRecord(row: TokenRow<J>): TokenRecord;
  /** A token without its hash, as tokens/list answers it. */
  toTokenInfo(row: TokenRow<J>): TokenInfo;
}

/** The mappers of an engine whose JSON columns arrive as J, read by `json`. */
export function catalogMappers<J>(json: (value: J) => unknown): CatalogMappers<J> {
  const toTokenRecord = (row: TokenRow<J>): TokenRecord => ({
    id: row.id,
    name: row.name,
    rights: json(row.rights) as Right[],
    hash: row.hash,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  });
  return {
    // Frozen: the catalogue caches hand the same objects to every call.
    toDatabase: (row) =>
      Object.freeze({
        id: row.id,
        name: row.name,
        description: row.description,
        customFields: json(row.custom_fields) as FieldDef[],
        createdAt: row.created_at,
      }),
    toResource: (row) =>
      Object.freeze({
        id: row.id,
        name: row.name,
        channels: json(row.channels) as Channel[],
        dbIds: json(row.db_ids) as number[],
        url: row.url ?? '',
        trkDomain: row.trk_domain ?? '',
        createdAt: row.created_at,
      }),
    toRelationType: (row) =>
      Object.freeze({
        relId: row.rel_id,
        name: row.name,
        dbA: row.db_a,
        dbB: row.db_b,
        properties: json(row.properties) as PropertyDef[],
        createdAt: row.created_at,
      }),
    toTokenRecord,
    toTokenInfo: (row) => {
      const { hash: _hash, ...info } = toTokenRecord(row);
      return info;
    },
  };
}

/** One page of a catalogue list: the items after `afterId` (ids ascending), and how many exist. */
export function pageOf<T extends { readonly id: number }>(
  all: Iterable<T>,
  afterId: number,
  limit: number,
): Page<T> {
  const list = [...all];
  const items = list.filter((x) => x.id > afterId).slice(0, Math.max(0, limit));
  return { items, total: list.length };
}
