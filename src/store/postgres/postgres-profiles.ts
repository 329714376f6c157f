// Profile calls of the PostgreSQL store: import / update / add, get and delete, each one statement
// calling one server-side function (sql/functions/06-profiles.sql). Match keys are computed by core
// from the changed fields only, so the stored profile is never read into JavaScript to merge it —
// except for update functions (incr, add, delete) on an existing profile: those are applied to the
// stored fields read under the profile's row lock, in the transaction that writes the result.
import type pg from 'pg';
import { applyFieldFunctions } from '../../core/field-functions.js';
import { mergeFields, profileMatchKeys } from '../../core/fields.js';
import { resolveOne } from '../../core/matching.js';
import type { Channel, FieldValue, SubscriptionStatus } from '../../core/model.js';
import type {
  DeleteProfileOutcome,
  GetProfileOutcome,
  MatchKeys,
  ProfileRef,
  SaveProfileInput,
  SaveProfileOutcome,
  SubscriptionChange,
} from '../../core/store.js';
import { isUniqueEmailViolation } from './postgres-errors.js';
import type { MatchRow, PgStatements } from './postgres-statements.js';

/** The match_keys pairs of a set of fields: [kind, key]. */
function keyPairs(keys: MatchKeys): [string, string][] {
  const pairs: [string, string][] = [];
  if (keys.email !== null) pairs.push(['e', keys.email]);
  for (const phone of keys.phones) pairs.push(['p', phone]);
  for (const k of keys.fields) pairs.push([`f:${k.field}`, k.key]);
  return pairs;
}

/**
 * One subscription per (resource, channel, contact key), the last given winning, as upserts in
 * order would (a later one without a priority keeps the priority an earlier one gave).
 */
function distinctSubscriptions(subscriptions: readonly SubscriptionChange[]): SubscriptionChange[] {
  const byKey = new Map<string, SubscriptionChange>();
  for (const s of subscriptions) {
    const key = JSON.stringify([s.resourceId, s.channel, s.contactKey]);
    const earlier = byKey.get(key);
    byKey.set(
      key,
      s.priority === undefined && earlier?.priority !== undefined ? { ...s, priority: earlier.priority } : s,
    );
  }
  return [...byKey.values()];
}

type SaveRow = MatchRow & { id: string | null; created: boolean | null };

/** What ties_lock_profile answers: the ids found and, when exactly one, its fields (row locked). */
interface LockRow {
  ids: string[] | null;
  fields: Record<string, FieldValue> | null;
}

export class PostgresProfiles {
  constructor(private readonly db: PgStatements) {}

  async saveProfile(input: SaveProfileInput): Promise<SaveProfileOutcome> {
    const functions = input.functions ?? {};
    const names = Object.keys(functions);
    // A created profile's functions apply to the fields it is created with: nothing to read.
    const created = applyFieldFunctions(mergeFields(input.setOnCreate, input.set), functions);
    if (!created.ok) return { kind: 'function_failed', field: created.field, reason: created.reason };
    if (names.length === 0 || input.mode === 'add') {
      return this.save(input, input.set, created.fields, (q) => this.db.one<SaveRow>(q));
    }
    // Read-modify-write in one transaction: find and lock the profile (import also takes the
    // lock that queues imports of one identity), apply the functions to its stored fields, and
    // write the results as plain values through the same function as every other write.
    return this.db.transaction(async (client) => {
      const query = async <R extends object>(q: pg.QueryConfig) => (await client.query<R>(q)).rows[0]!;
      const lock = await query<LockRow>({
        name: 'ties_lock_profile',
        text: 'SELECT * FROM ties_lock_profile($1, $2, $3)',
        values: [input.database.id, input.mode, JSON.stringify(input.query)],
      });
      const ids = lock.ids ?? [];
      if (ids.length !== 1 || lock.fields === null) {
        if (ids.length > 1 || input.mode === 'update') {
          return {
            value: resolveOne(ids.length > 1 ? ids : [], 'profile') as SaveProfileOutcome,
            rollback: true,
          };
        }
        // None: import creates it, with the functions applied to the fields it is created with.
        const out = await this.save(input, input.set, created.fields, query);
        return { value: out, rollback: out.kind !== 'ok' };
      }
      const applied = applyFieldFunctions(mergeFields(lock.fields, input.set), functions);
      if (!applied.ok) {
        return {
          value: { kind: 'function_failed', field: applied.field, reason: applied.reason },
          rollback: true,
        };
      }
      const set: Record<string, FieldValue | null> = { ...input.set };
      for (const name of names) set[name] = applied.fields[name] ?? null;
      const byId = { ...input, mode: 'update' as const, query: { by: 'id' as const, id: ids[0]! } };
      const out = await this.save(byId, set, created.fields, query);
      return { value: out, rollback: out.kind !== 'ok' };
    });
  }

  /** One call of ties_save_profile writing `changes` (an existing profile) or `createFields` (a new one). */
  private async save(
    input: SaveProfileInput,
    changes: Readonly<Record<string, FieldValue | null>>,
    createFields: Readonly<Record<string, FieldValue>>,
    query: (q: pg.QueryConfig) => Promise<SaveRow>,
  ): Promise<SaveProfileOutcome> {
    const { database } = input;
    const set: Record<string, FieldValue> = {};
    const remove: string[] = [];
    const kinds: string[] = [];
    const custom = new Set(database.customFields.map((f) => f.name));
    for (const name of Object.keys(changes)) {
      const value = changes[name];
      if (value === null || value === undefined) remove.push(name);
      else set[name] = value;
      if (name === 'email') kinds.push('e');
      else if (name === 'phones') kinds.push('p');
      else if (custom.has(name)) kinds.push(`f:${name}`);
    }
    // A field's match keys depend on its value alone: the changed fields' new keys replace
    // their old ones, and the stored profile is never read into JavaScript to merge it.
    let row: SaveRow;
    try {
      row = await query({
        name: 'ties_save_profile',
        text: 'SELECT * FROM ties_save_profile($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
        values: [
          database.id,
          input.mode,
          input.query ? JSON.stringify(input.query) : null,
          JSON.stringify(set),
          remove,
          JSON.stringify(keyPairs(profileMatchKeys(set, database))),
          kinds,
          JSON.stringify(createFields),
          JSON.stringify(keyPairs(profileMatchKeys(createFields, database))),
          JSON.stringify(distinctSubscriptions(input.subscriptions)),
          input.newId,
          input.now,
        ],
      });
    } catch (err) {
      // match_keys_email (schema version 4): the email is another profile's; the call rolled back.
      if (isUniqueEmailViolation(err)) return { kind: 'email_taken' };
      throw err;
    }
    if (row.status !== 'ok') return resolveOne(row.ids ?? [], 'profile') as SaveProfileOutcome;
    return { kind: 'ok', id: row.id!, created: row.created === true };
  }

  async getProfile(ref: ProfileRef): Promise<GetProfileOutcome> {
    const row = await this.db.one<
      MatchRow & {
        fields: Record<string, FieldValue> | null;
        created_at: string | null;
        updated_at: string | null;
        subs: [number, Channel, string, SubscriptionStatus, number][] | null;
      }
    >({
      name: 'ties_get_profile',
      text: 'SELECT * FROM ties_get_profile($1, $2)',
      values: [ref.dbId, JSON.stringify(ref.query)],
    });
    // 'match' comes with other than one id, so resolveOne answers the failure.
    const found = resolveOne(row.ids ?? [], 'profile');
    if (found.kind !== 'ok') return found;
    return {
      kind: 'ok',
      profile: {
        id: found.id,
        dbId: ref.dbId,
        fields: row.fields ?? {},
        subscriptions: (row.subs ?? []).map(([resourceId, channel, contact, status, priority]) => ({
          resourceId,
          channel,
          contact,
          status,
          priority,
        })),
        createdAt: row.created_at!,
        updatedAt: row.updated_at!,
      },
    };
  }

  async deleteProfile(ref: ProfileRef): Promise<DeleteProfileOutcome> {
    const row = await this.db.one<MatchRow>({
      name: 'ties_delete_profile',
      text: 'SELECT * FROM ties_delete_profile($1, $2)',
      values: [ref.dbId, JSON.stringify(ref.query)],
    });
    const found = resolveOne(row.ids ?? [], 'profile');
    if (found.kind !== 'ok') return found;
    return { kind: 'ok', id: found.id };
  }
}
