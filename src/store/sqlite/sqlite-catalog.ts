// The catalogue's writes and reads on SQLite: databases, resources and relation types, answered
// from the in-memory cache and kept in step with it; a type change rebuilds the aggregates it affects.
import type { Database, FieldDef, RelationType, Resource } from '../../core/model.js';
import { findProperty } from '../../core/property-types.js';
import type {
  NewDatabase,
  NewRelationType,
  NewResource,
  Page,
  UpdateRelationTypeInput,
} from '../../core/store.js';
import { type AggregateLedger, keepsSum, keepsTop } from './sqlite-aggregate-ledger.js';
import {
  type CatalogCache,
  type DatabaseRow,
  type RelationTypeRow,
  type ResourceRow,
  toDatabase,
  toRelationType,
  toResource,
} from './sqlite-catalog-cache.js';
import { pathOf } from './sqlite-relation-updaters.js';
import type { SqliteRelations } from './sqlite-relations.js';
import type { Statements, Stmt } from './sqlite-statements.js';
import type { SqliteTransactions } from './sqlite-transactions.js';

function pageOf<T extends { readonly id: number }>(
  all: Iterable<T>,
  afterId: number,
  limit: number,
): Page<T> {
  const list = [...all];
  const items = list.filter((x) => x.id > afterId).slice(0, Math.max(0, limit));
  return { items, total: list.length };
}

export class SqliteCatalog {
  private readonly dbInsert: Stmt<DatabaseRow>;
  private readonly dbSetFields: Stmt<DatabaseRow>;
  private readonly resInsert: Stmt<ResourceRow>;
  private readonly typeInsert: Stmt<RelationTypeRow>;
  private readonly typeUpdate: Stmt<RelationTypeRow>;
  private readonly typeDelete: Stmt;

  constructor(
    statements: Statements,
    private readonly tx: SqliteTransactions,
    private readonly cache: CatalogCache,
    private readonly relations: SqliteRelations,
    private readonly ledger: AggregateLedger,
  ) {
    const s = statements;
    this.dbInsert = s.cold<DatabaseRow>(
      'INSERT INTO databases (name, description, custom_fields, created_at) VALUES (?, ?, ?, ?) RETURNING *',
    );
    this.dbSetFields = s.cold<DatabaseRow>('UPDATE databases SET custom_fields = ? WHERE id = ? RETURNING *');
    this.resInsert = s.cold<ResourceRow>(
      'INSERT INTO resources (name, channels, db_ids, url, trk_domain, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *',
    );
    this.typeInsert = s.cold<RelationTypeRow>(
      'INSERT INTO relation_types (name, db_a, db_b, properties, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *',
    );
    this.typeUpdate = s.cold<RelationTypeRow>(
      'UPDATE relation_types SET name = ?, properties = ? WHERE rel_id = ? RETURNING *',
    );
    this.typeDelete = s.cold('DELETE FROM relation_types WHERE rel_id = ?');
  }

  // -------------------------------------------------------------------------------------------
  // Databases and resources

  createDatabase(input: NewDatabase): Database {
    return this.tx.write(() => {
      this.cache.changing();
      const row = this.dbInsert.get(
        input.name,
        input.description,
        JSON.stringify(input.customFields),
        input.now,
      )!;
      const database = toDatabase(row);
      this.cache.databases.set(database.id, database);
      return database;
    });
  }

  addDatabaseFields(id: number, fields: readonly FieldDef[]): Database | null {
    return this.tx.write(() => {
      const current = this.cache.databases.get(id);
      if (!current) return null;
      this.cache.changing();
      const row = this.dbSetFields.get(JSON.stringify([...current.customFields, ...fields]), id)!;
      const database = toDatabase(row);
      this.cache.databases.set(id, database);
      return database;
    });
  }

  getDatabase(id: number): Database | null {
    return this.cache.databases.get(id) ?? null;
  }

  listDatabases(afterId: number, limit: number): Page<Database> {
    return pageOf(this.cache.databases.values(), afterId, limit);
  }

  createResource(input: NewResource): Resource {
    return this.tx.write(() => {
      this.cache.changing();
      const row = this.resInsert.get(
        input.name,
        JSON.stringify(input.channels),
        JSON.stringify(input.dbIds),
        input.url,
        input.trkDomain,
        input.now,
      )!;
      const resource = toResource(row);
      this.cache.resources.set(resource.id, resource);
      return resource;
    });
  }

  getResource(id: number): Resource | null {
    return this.cache.resources.get(id) ?? null;
  }

  listResources(afterId: number, limit: number): Page<Resource> {
    return pageOf(this.cache.resources.values(), afterId, limit);
  }

  // -------------------------------------------------------------------------------------------
  // Relation types

  createRelationType(input: NewRelationType): RelationType {
    return this.tx.write(() => {
      for (const property of input.properties) pathOf(property.name);
      this.cache.changing();
      const row = this.typeInsert.get(
        input.name,
        input.dbA,
        input.dbB,
        JSON.stringify(input.properties),
        input.now,
      )!;
      const type = toRelationType(row);
      this.cache.types.set(type.relId, type);
      return type;
    });
  }

  getRelationType(relId: number): RelationType | null {
    return this.cache.types.get(relId) ?? null;
  }

  listRelationTypes(): readonly RelationType[] {
    return [...this.cache.types.values()];
  }

  updateRelationType(input: UpdateRelationTypeInput): RelationType | null {
    return this.tx.write(() => {
      const current = this.cache.types.get(input.relId);
      if (!current) return null;
      for (const property of input.properties) pathOf(property.name);
      this.cache.changing();
      const row = this.typeUpdate.get(
        input.name ?? current.name,
        JSON.stringify(input.properties),
        input.relId,
      )!;
      const type = toRelationType(row);
      this.cache.types.set(type.relId, type);
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
        if (property) this.ledger.rebuildProperty(type, property);
      }
      return type;
    });
  }

  deleteRelationType(relId: number): boolean {
    return this.tx.write(() => {
      if (!this.cache.types.has(relId)) return false;
      this.cache.changing();
      this.relations.deleteType(relId);
      this.typeDelete.run(relId);
      this.cache.types.delete(relId);
      return true;
    });
  }
}
