// Profile calls of the PostgreSQL store: import / update / add, get and delete, each one statement
// calling one server-side function (sql/functions/06-profiles.sql). Match keys are computed by core
// from the changed fields only, so the stored profile is never read into JavaScript to merge it.
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

export class PostgresProfiles {
  constructor(private readonly db: PgStatements) {}

  async saveProfile(input: SaveProfileInput): Promise<SaveProfileOutcome> {
    const { database } = input;
    const set: Record<string, FieldValue> = {};
    const remove: string[] = [];
    const kinds: string[] = [];
    const custom = new Set(database.customFields.map((f) => f.name));
    for (const name of Object.keys(input.set)) {
      const value = input.set[name];
      if (value === null || value === undefined) remove.push(name);
      else set[name] = value;
      if (name === 'email') kinds.push('e');
      else if (name === 'phones') kinds.push('p');
      else if (custom.has(name)) kinds.push(`f:${name}`);
    }
    // A field's match keys depend on its value alone: the changed fields' new keys replace
    // their old ones, and the stored profile is never read into JavaScript to merge it.
    const createFields = mergeFields(input.setOnCreate, input.set);
    let row: MatchRow & { id: string | null; created: boolean | null };
    try {
      row = await this.db.one<MatchRow & { id: string | null; created: boolean | null }>({
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
