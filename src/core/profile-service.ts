// Profile calls (SPEC §6): import, add, update, get, delete.
import type { CatalogService, Clock } from './catalog-service.js';
import { badParameter, TiesError } from './errors.js';
import { allFields, findField, parseFieldValue, parseProfileData, type SubscriptionInput } from './fields.js';
import { newProfileId, PROFILE_ID_PATTERN, profileXxh } from './ids.js';
import type { Limits } from './limits.js';
import { type Identification, identificationFromData, queryResourceId, toProfileQuery } from './matching.js';
import type { Database, FieldValue } from './model.js';
import { type ProfileBatchParams, saveBatch } from './profile-batch.js';
import { matchFailureError } from './relation-service.js';
import type { ProfileQuery, SaveProfileMode, Store } from './store.js';
import type { ValueEncoding } from './values.js';

export interface ProfileWriteParams extends Identification {
  readonly db_id: number;
  readonly data?: unknown;
}

export interface ProfileLookupParams extends Identification {
  readonly db_id: number;
}

export class ProfileService {
  constructor(
    private readonly store: Store,
    private readonly catalog: CatalogService,
    private readonly clock: Clock,
    private readonly limits: Limits,
  ) {}

  private async lookup(p: ProfileLookupParams, prefix = ''): Promise<{ db: Database; query: ProfileQuery }> {
    const db = await this.catalog.requireDatabase(p.db_id, 'db_id');
    const query = toProfileQuery(p, {}, db, prefix);
    const resourceId = queryResourceId(query);
    if (resourceId !== undefined) await this.catalog.requireResource(resourceId, 'resource_id');
    return { db, query };
  }

  private async checkSubscriptions(
    db: Database,
    subscriptions: readonly SubscriptionInput[],
    dataParam: string,
  ): Promise<void> {
    for (const [i, s] of subscriptions.entries()) {
      const param = `${dataParam}.subscriptions[${i}].resource_id`;
      const resource = await this.catalog.requireResource(s.resourceId, param);
      if (!resource.dbIds.includes(db.id)) {
        throw badParameter(param, `resource ${resource.id} does not accept profiles of database ${db.id}`);
      }
      if (!resource.channels.includes(s.channel)) {
        throw badParameter(
          `${dataParam}.subscriptions[${i}].channel`,
          `resource ${resource.id} has no ${s.channel} channel`,
        );
      }
    }
  }

  /**
   * A profile created by import gets the identification it was matched by, so that the same
   * import finds it next time (SPEC §6; for custom matching a decision of Ties).
   */
  private setOnCreate(p: Identification, query: ProfileQuery, db: Database, encoding: ValueEncoding) {
    const out: Record<string, FieldValue> = {};
    if (query.by === 'email' && p.email !== undefined) out.email = p.email.trim();
    if (query.by === 'phone' && p.phone !== undefined) out.phones = [p.phone.trim()];
    if (query.by === 'contact' && query.inProfile) {
      if (p.email !== undefined) out.email = p.email.trim();
      if (p.phone !== undefined) out.phones = [p.phone.trim()];
    }
    if (query.by === 'field') {
      const field = findField(db, query.field);
      if (field) {
        const value = field.type === 'tags' ? [...query.keys] : p.field_value;
        out[query.field] = parseFieldValue(
          field.type,
          typeof value === 'number' || typeof value === 'boolean' ? String(value) : value,
          field.type === 'tags' ? encoding : 'text',
          this.limits,
          'field_value',
        );
      }
    }
    return out;
  }

  /**
   * One profile write. `at` names where the profile's parameters are in the request: '' for a
   * single call, `data[3]` for an item of a batch call (its fields are then at `data[3].name`).
   */
  async save(
    p: ProfileWriteParams,
    mode: SaveProfileMode,
    encoding: ValueEncoding,
    options: { readonly id?: string; readonly at?: string } = {},
  ) {
    const at = options.at ?? '';
    const dataParam = at || 'data';
    const db = await this.catalog.requireDatabase(p.db_id, 'db_id');
    const data = parseProfileData(p.data ?? {}, db, encoding, this.limits, dataParam);
    let query: ProfileQuery | undefined;
    let setOnCreate: Record<string, FieldValue> = {};
    if (mode !== 'add') {
      p = { ...p, ...identificationFromData(p, p.data) };
      ({ query } = await this.lookup(p, at));
      // Matching by id can only find a profile; import then behaves as update (SPEC §6).
      if (query.by === 'id') mode = 'update';
      setOnCreate = this.setOnCreate(p, query, db, encoding);
      for (const name of Object.keys(data.set)) delete setOnCreate[name];
    }
    await this.checkSubscriptions(db, data.subscriptions, dataParam);
    const now = this.clock.now();
    const outcome = await this.store.saveProfile({
      database: db,
      mode,
      query,
      set: data.set,
      setOnCreate,
      functions: data.functions,
      subscriptions: data.subscriptions,
      newId: options.id ?? newProfileId(now.getTime()),
      now: now.toISOString(),
    });
    if (outcome.kind === 'email_taken') {
      const email = data.set.email ?? setOnCreate.email;
      throw new TiesError('EMAIL_TAKEN', {
        param: data.set.email === undefined ? 'email' : `${dataParam}.email`,
        email: typeof email === 'string' ? email : '',
        db_id: db.id,
      });
    }
    if (outcome.kind === 'function_failed') {
      throw new TiesError('FIELD_FUNCTION_FAILED', {
        param: `${dataParam}.${outcome.field}`,
        reason: outcome.reason,
      });
    }
    if (outcome.kind !== 'ok') throw matchFailureError(outcome);
    return { profile_id: outcome.id };
  }

  import(p: ProfileWriteParams, encoding: ValueEncoding) {
    return this.save(p, 'import', encoding);
  }

  add(p: ProfileWriteParams, encoding: ValueEncoding) {
    return this.save(p, 'add', encoding);
  }

  update(p: ProfileWriteParams, encoding: ValueEncoding) {
    return this.save(p, 'update', encoding);
  }

  /**
   * profiles/import_batch, add_batch, update_batch: the database is checked once (a wrong db_id
   * fails the call, not each item); then every item is its own call (profile-batch.ts).
   */
  async batch(p: ProfileBatchParams, mode: SaveProfileMode, encoding: ValueEncoding) {
    await this.catalog.requireDatabase(p.db_id, 'db_id');
    return saveBatch(this, p, mode, encoding);
  }

  /** Creates a profile with a chosen id (the demo workspace uses the ids of Altcraft's examples). */
  addWithId(p: ProfileWriteParams, id: string) {
    if (!PROFILE_ID_PATTERN.test(id)) throw badParameter('id', 'expected 24 hexadecimal characters');
    return this.save(p, 'add', 'typed', { id });
  }

  /**
   * profiles/get_batch (Ties extension): many profiles of one database by id, in the order asked,
   * each with the fields asked for (all by default) — what a page needs to name the neighbours of
   * a hub in one request instead of one profiles/get each. An id with no profile is answered
   * found: false; a malformed id or an unknown field is a 400 naming it.
   */
  async getBatch(p: {
    db_id: number;
    profile_ids: readonly string[];
    fields?: readonly string[] | undefined;
  }) {
    const db = await this.catalog.requireDatabase(p.db_id, 'db_id');
    const names = allFields(db).map((f) => f.name);
    const wanted = p.fields === undefined ? names : [...new Set(p.fields)];
    p.fields?.forEach((name, i) => {
      if (!names.includes(name)) throw badParameter(`fields[${i}]`, `no field ${name} in database ${db.id}`);
    });
    const ids = p.profile_ids.map((raw, i) => {
      const id = raw.trim().toLowerCase();
      if (!PROFILE_ID_PATTERN.test(id))
        throw badParameter(`profile_ids[${i}]`, 'expected 24 hexadecimal characters');
      return id;
    });
    // One store read per distinct id: every engine answers them from its primary key index.
    const distinct = [...new Set(ids)];
    const found = new Map<string, Record<string, unknown>>();
    const outcomes = await Promise.all(
      distinct.map((id) => this.store.getProfile({ dbId: db.id, query: { by: 'id', id } })),
    );
    for (const [i, id] of distinct.entries()) {
      const outcome = outcomes[i]!;
      if (outcome.kind !== 'ok') continue;
      const profile: Record<string, unknown> = { id, db_id: db.id };
      for (const name of wanted) {
        const value = outcome.profile.fields[name];
        if (value !== undefined) profile[name] = value;
      }
      found.set(id, profile);
    }
    return {
      data: ids.map((id) => {
        const profile = found.get(id);
        return profile ? { profile_id: id, found: true, profile } : { profile_id: id, found: false };
      }),
    };
  }

  async get(p: ProfileLookupParams) {
    const { db, query } = await this.lookup(p);
    const outcome = await this.store.getProfile({ dbId: p.db_id, query });
    if (outcome.kind !== 'ok') throw matchFailureError(outcome);
    const profile = outcome.profile;
    // Fields in the database's field order, whatever order the engine stored them in.
    const fields: Record<string, FieldValue> = {};
    for (const { name } of allFields(db)) {
      const value = profile.fields[name];
      if (value !== undefined) fields[name] = value;
    }
    return {
      data: {
        id: profile.id,
        db_id: profile.dbId,
        _xxh: profileXxh(profile.id),
        _status: 0,
        ...fields,
        created_at: profile.createdAt,
        updated_at: profile.updatedAt,
        subscriptions: profile.subscriptions.map((s) => ({
          resource_id: s.resourceId,
          channel: s.channel,
          [s.channel === 'email' ? 'email' : s.channel === 'sms' ? 'phone' : 'subscription_id']: s.contact,
          // Altcraft's shape of the address (docs/decisions.md lists what Ties cannot fill).
          ...(s.channel === 'email' ? { email_data: { email: s.contact } } : {}),
          status: s.status,
          priority: s.priority,
          is_delete: false,
        })),
      },
    };
  }

  async delete(p: ProfileLookupParams) {
    const { query } = await this.lookup(p);
    const outcome = await this.store.deleteProfile({ dbId: p.db_id, query });
    if (outcome.kind !== 'ok') throw matchFailureError(outcome);
    return { data: { profile_id: outcome.id } };
  }
}
