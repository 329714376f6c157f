// Databases, their fields, resources and relation types: the catalogue the relation and profile
// calls work against (SPEC §3, §6, §7).
import { badParameter, TiesError } from './errors.js';
import { allFields, checkCustomFieldName, customField } from './fields.js';
import type { Limits } from './limits.js';
import {
  CHANNELS,
  type Channel,
  CUSTOM_FIELD_TYPES,
  type CustomFieldType,
  type Database,
  type FieldDef,
  type PropertyDef,
  type RelationType,
  type Resource,
} from './model.js';
import { isNumeric, type PropertyInput, parsePropertyDef, parsePropertyDefs } from './property-types.js';
import type { Page, Store } from './store.js';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface FieldInput {
  readonly name: string;
  readonly type: string;
}

const MAX_NAME = 255;
const MAX_DESCRIPTION = 4096;

function checkName(name: string, param: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > MAX_NAME) {
    throw badParameter(param, `expected a non-empty name of at most ${MAX_NAME} characters`);
  }
  return trimmed;
}

function parseFields(
  inputs: readonly FieldInput[],
  existing: readonly FieldDef[],
  param: string,
): FieldDef[] {
  const seen = new Set(existing.map((f) => f.name));
  return inputs.map((input, i) => {
    const at = `${param}[${i}]`;
    checkCustomFieldName(input.name, `${at}.name`);
    if (!CUSTOM_FIELD_TYPES.includes(input.type as CustomFieldType)) {
      throw badParameter(`${at}.type`, `expected one of ${CUSTOM_FIELD_TYPES.join(', ')}`);
    }
    if (seen.has(input.name)) throw new TiesError('NAME_TAKEN', { param: `${at}.name`, name: input.name });
    seen.add(input.name);
    return customField(input.name, input.type as CustomFieldType);
  });
}

/**
 * Ties has no access groups: every database and resource is in Altcraft's default group, id 0
 * "main" (docs/decisions.md), so that the list filters have something true to filter on.
 */
export const MAIN_GROUP = { id: 0, name: 'main' } as const;

export function databaseSummary(db: Database) {
  return {
    id: db.id,
    name: db.name,
    description: db.description,
    ui_tags: [] as string[],
    // Altcraft's databases/list writes this key and its members' keys capitalised.
    Groups: [{ Id: MAIN_GROUP.id, Name: MAIN_GROUP.name }],
    created_at: db.createdAt,
  };
}

export function resourceSummary(r: Resource) {
  return {
    id: r.id,
    name: r.name,
    channels: [...r.channels],
    dbs_ids: [...r.dbIds],
    groups: [{ ...MAIN_GROUP }],
    created_at: r.createdAt,
  };
}

export function relationTypeSummary(t: RelationType) {
  return {
    rel_id: t.relId,
    name: t.name,
    db_a: t.dbA,
    db_b: t.dbB,
    properties: t.properties.map((p) => ({ name: p.name, type: p.type, top: p.top, sum: p.sum })),
    created_at: t.createdAt,
  };
}

/**
 * Paging of databases/list and resources/list as Altcraft documents it: `from_id` is the first id
 * of the page (default 1), `limit` defaults to 1000, `next_from_id` is what to pass next.
 */
export interface ListParams {
  readonly from_id?: number | undefined;
  readonly limit?: number | undefined;
  readonly ui_tags?: readonly string[] | undefined;
  readonly groups?: readonly string[] | undefined;
  readonly groups_id?: readonly number[] | undefined;
}
export const DEFAULT_LIST_LIMIT = 1000;

/**
 * Whether items of the main group without tags pass the documented filters: a `ui_tags` filter
 * asks for items carrying one of the tags (Ties' items carry none); `groups` and `groups_id` ask
 * for items of one of the groups (Ties' items are all in "main", id 0). An empty list is no filter.
 */
function passesFilters(p: ListParams): boolean {
  if (p.ui_tags !== undefined && p.ui_tags.length > 0) return false;
  if (p.groups !== undefined && p.groups.length > 0 && !p.groups.includes(MAIN_GROUP.name)) return false;
  if (p.groups_id !== undefined && p.groups_id.length > 0 && !p.groups_id.includes(MAIN_GROUP.id))
    return false;
  return true;
}

/** One page by Altcraft's rules; next_from_id is always answered (the last id + 1, or from_id itself). */
async function listPage<T extends { readonly id: number }, S>(
  p: ListParams,
  fetch: (afterId: number, limit: number) => Promise<Page<T>>,
  summary: (item: T) => S,
) {
  const from = Math.max(1, p.from_id ?? 1);
  if (!passesFilters(p)) return { data: [] as S[], next_from_id: from, total_count: 0 };
  const page = await fetch(from - 1, p.limit ?? DEFAULT_LIST_LIMIT);
  const last = page.items[page.items.length - 1];
  return {
    data: page.items.map(summary),
    next_from_id: last ? last.id + 1 : from,
    total_count: page.total,
  };
}

export class CatalogService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly limits: Limits,
  ) {}

  private now(): string {
    return this.clock.now().toISOString();
  }

  async requireDatabase(id: number, param: string): Promise<Database> {
    const db = await this.store.getDatabase(id);
    if (!db) throw new TiesError('DATABASE_NOT_FOUND', { param, id });
    return db;
  }

  /** Whether resource `id` exists (batch calls check each resource once, naming the side per item). */
  async hasResource(id: number): Promise<boolean> {
    return Boolean(await this.store.getResource(id));
  }

  async requireResource(id: number, param: string): Promise<Resource> {
    const resource = await this.store.getResource(id);
    if (!resource) throw new TiesError('RESOURCE_NOT_FOUND', { param, id });
    return resource;
  }

  async requireRelationType(relId: number): Promise<RelationType> {
    const type = await this.store.getRelationType(relId);
    if (!type) throw new TiesError('RELATION_TYPE_NOT_FOUND', { rel_id: relId });
    return type;
  }

  // --- databases -------------------------------------------------------------------------------

  async createDatabase(p: {
    name: string;
    description?: string | undefined;
    fields?: readonly FieldInput[] | undefined;
  }) {
    const name = checkName(p.name, 'name');
    const description = p.description ?? '';
    if (description.length > MAX_DESCRIPTION) {
      throw badParameter('description', `expected at most ${MAX_DESCRIPTION} characters`);
    }
    this.checkFieldCount(p.fields?.length ?? 0);
    const fields = parseFields(p.fields ?? [], [], 'fields');
    const db = await this.store.createDatabase({ name, description, customFields: fields, now: this.now() });
    return { data: { id: db.id } };
  }

  async addFields(p: { id: number; fields: readonly FieldInput[] }) {
    const db = await this.requireDatabase(p.id, 'id');
    this.checkFieldCount(db.customFields.length + p.fields.length);
    const fields = parseFields(p.fields, allFields(db), 'fields');
    const updated = await this.store.addDatabaseFields(p.id, fields);
    if (!updated) throw new TiesError('DATABASE_NOT_FOUND', { param: 'id', id: p.id });
    return { data: { id: updated.id, fields: fields.map((f) => f.name) } };
  }

  /** A database's custom fields are a list like any other: TIES_MAX_ARRAY_LENGTH bounds it. */
  private checkFieldCount(count: number): void {
    if (count > this.limits.maxArrayLength) {
      throw badParameter(
        'fields',
        `expected at most ${this.limits.maxArrayLength} custom fields in a database`,
      );
    }
  }

  listDatabases(p: ListParams) {
    return listPage(p, (after, limit) => this.store.listDatabases(after, limit), databaseSummary);
  }

  async getDatabase(p: { id: number }) {
    // Ties keeps no suppression lists: suppress_id is answered, as null (docs/decisions.md).
    return { data: { ...databaseSummary(await this.requireDatabase(p.id, 'id')), suppress_id: null } };
  }

  async getFields(p: { id: number }) {
    const db = await this.requireDatabase(p.id, 'id');
    return { data: allFields(db).map((f) => ({ name: f.name, type: f.type, is_custom: f.isCustom })) };
  }

  // --- resources -------------------------------------------------------------------------------

  async createResource(p: {
    name: string;
    channels: readonly string[];
    dbs_ids: readonly number[];
    url?: string | undefined;
    trk_domain?: string | undefined;
  }) {
    const name = checkName(p.name, 'name');
    if (p.channels.length === 0)
      throw badParameter('channels', `expected one or more of ${CHANNELS.join(', ')}`);
    p.channels.forEach((c, i) => {
      if (!CHANNELS.includes(c as Channel))
        throw badParameter(`channels[${i}]`, `expected one of ${CHANNELS.join(', ')}`);
    });
    const dbIds = [...new Set(p.dbs_ids)];
    for (const [i, id] of dbIds.entries()) await this.requireDatabase(id, `dbs_ids[${i}]`);
    const resource = await this.store.createResource({
      name,
      channels: [...new Set(p.channels as Channel[])],
      dbIds,
      url: (p.url ?? '').trim(),
      trkDomain: (p.trk_domain ?? '').trim(),
      now: this.now(),
    });
    return { data: { id: resource.id } };
  }

  listResources(p: ListParams) {
    return listPage(p, (after, limit) => this.store.listResources(after, limit), resourceSummary);
  }

  async getResource(p: { id: number }) {
    const resource = await this.requireResource(p.id, 'id');
    return { data: { ...resourceSummary(resource), url: resource.url, trk_domain: resource.trkDomain } };
  }

  // --- relation types --------------------------------------------------------------------------

  async createRelationType(p: {
    name: string;
    db_a: number;
    db_b: number;
    properties?: readonly PropertyInput[] | undefined;
  }) {
    const name = checkName(p.name, 'name');
    const properties = parsePropertyDefs(p.properties ?? [], 'properties');
    if (properties.length > this.limits.maxArrayLength) {
      throw badParameter('properties', `expected at most ${this.limits.maxArrayLength} properties`);
    }
    await this.requireDatabase(p.db_a, 'db_a');
    await this.requireDatabase(p.db_b, 'db_b');
    const type = await this.store.createRelationType({
      name,
      dbA: p.db_a,
      dbB: p.db_b,
      properties,
      now: this.now(),
    });
    return { data: { rel_id: type.relId } };
  }

  async listRelationTypes() {
    const types = await this.store.listRelationTypes();
    return { data: types.map(relationTypeSummary) };
  }

  async getRelationType(p: { rel_id: number }) {
    return { data: relationTypeSummary(await this.requireRelationType(p.rel_id)) };
  }

  /**
   * Adds or changes properties by name; unlisted ones are kept. A property's type cannot change
   * (its stored values would no longer fit); a changed top or sum rebuilds its aggregates.
   */
  async updateRelationType(p: {
    rel_id: number;
    name?: string | undefined;
    properties?: readonly PropertyInput[] | undefined;
  }) {
    const type = await this.requireRelationType(p.rel_id);
    const name = p.name === undefined ? undefined : checkName(p.name, 'name');
    const properties: PropertyDef[] = [...type.properties];
    const rebuild: string[] = [];
    const seen = new Set<string>();
    for (const [i, input] of (p.properties ?? []).entries()) {
      const at = `properties[${i}]`;
      const current = type.properties.find((x) => x.name === input.name);
      if (current && input.type !== current.type) {
        throw badParameter(
          `${at}.type`,
          `property ${current.name} is ${current.type}; a property's type cannot change`,
        );
      }
      // Unspecified top/sum keep their current values when changing an existing property.
      const def = parsePropertyDef(
        current ? { ...input, top: input.top ?? current.top, sum: input.sum ?? current.sum } : input,
        at,
      );
      if (seen.has(def.name)) throw badParameter(`${at}.name`, `${def.name} is listed twice`);
      seen.add(def.name);
      if (!current) {
        properties.push(def);
        continue;
      }
      if (current.top !== def.top || current.sum !== def.sum) {
        properties[properties.indexOf(current)] = def;
        if (isNumeric(def.type)) rebuild.push(def.name);
      }
    }
    if (properties.length > this.limits.maxArrayLength) {
      throw badParameter('properties', `expected at most ${this.limits.maxArrayLength} properties`);
    }
    const updated = await this.store.updateRelationType({ relId: p.rel_id, name, properties, rebuild });
    if (!updated) throw new TiesError('RELATION_TYPE_NOT_FOUND', { rel_id: p.rel_id });
    return { data: relationTypeSummary(updated) };
  }

  async deleteRelationType(p: { rel_id: number }) {
    if (!(await this.store.deleteRelationType(p.rel_id))) {
      throw new TiesError('RELATION_TYPE_NOT_FOUND', { rel_id: p.rel_id });
    }
    return { data: { rel_id: p.rel_id } };
  }
}
