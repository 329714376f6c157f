// The catalogue as the engine sees it: databases, resources and relation types cached in memory
// (every call needs them; they change rarely), reloaded after another connection or a rollback
// changed them. Tokens are not cached: the CLI may write them from another process.
import { TiesError } from '../../core/errors.js';
import type { Channel, Database, FieldDef, PropertyDef, RelationType, Resource } from '../../core/model.js';
import type { Statements, Stmt } from './sqlite-statements.js';

export interface DatabaseRow {
  id: number;
  name: string;
  description: string;
  custom_fields: string;
  created_at: string;
}
export interface ResourceRow {
  id: number;
  name: string;
  channels: string;
  db_ids: string;
  url: string;
  trk_domain: string;
  created_at: string;
}
export interface RelationTypeRow {
  rel_id: number;
  name: string;
  db_a: number;
  db_b: number;
  properties: string;
  created_at: string;
}

export function toDatabase(row: DatabaseRow): Database {
  return Object.freeze({
    id: row.id,
    name: row.name,
    description: row.description,
    customFields: JSON.parse(row.custom_fields) as FieldDef[],
    createdAt: row.created_at,
  });
}

export function toResource(row: ResourceRow): Resource {
  return Object.freeze({
    id: row.id,
    name: row.name,
    channels: JSON.parse(row.channels) as Channel[],
    dbIds: JSON.parse(row.db_ids) as number[],
    url: row.url,
    trkDomain: row.trk_domain,
    createdAt: row.created_at,
  });
}

export function toRelationType(row: RelationTypeRow): RelationType {
  return Object.freeze({
    relId: row.rel_id,
    name: row.name,
    dbA: row.db_a,
    dbB: row.db_b,
    properties: JSON.parse(row.properties) as PropertyDef[],
    createdAt: row.created_at,
  });
}

export class CatalogCache {
  readonly databases = new Map<number, Database>();
  readonly resources = new Map<number, Resource>();
  /**
   * Frozen objects, replaced (never changed) when their type changes: caches of SQL that depends
   * on a type's properties are keyed by the object, so a changed type never meets stale SQL.
   */
  readonly types = new Map<number, RelationType>();
  private writes = 0;
  private readonly dbAll: Stmt<DatabaseRow>;
  private readonly resAll: Stmt<ResourceRow>;
  private readonly typeAll: Stmt<RelationTypeRow>;

  constructor(statements: Statements) {
    this.dbAll = statements.cold<DatabaseRow>('SELECT * FROM databases ORDER BY id');
    this.resAll = statements.cold<ResourceRow>('SELECT * FROM resources ORDER BY id');
    this.typeAll = statements.cold<RelationTypeRow>('SELECT * FROM relation_types ORDER BY rel_id');
    this.load();
  }

  /** Changes whenever a catalogue write ran (committed or not); a reader on another connection reloads then. */
  get version(): number {
    return this.writes;
  }

  /** Called by every catalogue write before it changes a table, so that a rollback knows to reload. */
  changing(): void {
    this.writes++;
  }

  /** Rereads databases, resources and relation types. */
  load(): void {
    this.databases.clear();
    this.resources.clear();
    this.types.clear();
    for (const row of this.dbAll.all()) this.databases.set(row.id, toDatabase(row));
    for (const row of this.resAll.all()) this.resources.set(row.id, toResource(row));
    for (const row of this.typeAll.all()) this.types.set(row.rel_id, toRelationType(row));
  }

  /** The current definition of a type (core's copy may be older than a queued type update). */
  typeOf(type: RelationType): RelationType {
    const current = this.types.get(type.relId);
    if (!current) throw new TiesError('RELATION_TYPE_NOT_FOUND', { rel_id: type.relId });
    return current;
  }
}
