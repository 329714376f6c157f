// profiles/import_batch, add_batch and update_batch (Altcraft's "multiple profiles" calls): `data`
// is a list of profiles, each written as the single call would write it, answered in order.
import { badParameter, TiesError } from './errors.js';
import { type Identification, MATCHING_MODES, type MatchingMode } from './matching.js';
import type { ProfileService } from './profile-service.js';
import type { SaveProfileMode } from './store.js';
import { toInt, toRecord, type ValueEncoding } from './values.js';

export interface ProfileBatchParams {
  readonly db_id: number;
  readonly data: readonly unknown[];
  readonly matching?: MatchingMode | undefined;
  readonly resource_id?: number | undefined;
  readonly field_name?: string | undefined;
}

/** One item's answer, as Altcraft's pages show it: its own error, and the profile's id on success. */
export type ProfileBatchResult =
  | { readonly error: 0; readonly error_text: string; readonly profile_id: string }
  | { readonly error: number; readonly error_text: string };

/**
 * Keys of an item that identify the profile rather than set a field. `email` is both: the item's
 * email is matched and written, as in Altcraft's example (a flat profile with its email).
 */
const IDENTIFICATION_ONLY = [
  'matching',
  'phone',
  'profile_id',
  'field_name',
  'field_value',
  'resource_id',
  'subscription_id',
];

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The identification of one item: its own keys, else the call's top-level defaults. */
function identificationOf(
  item: Readonly<Record<string, unknown>>,
  p: ProfileBatchParams,
  at: string,
): Identification {
  // An item's own identification keys are not checked by the call's schema (an item is any
  // object): check them here, as the schema checks the top-level ones.
  if (item.matching !== undefined && !MATCHING_MODES.includes(item.matching as MatchingMode)) {
    throw badParameter(`${at}.matching`, `expected one of ${MATCHING_MODES.join(', ')}`);
  }
  for (const key of ['phone', 'profile_id', 'field_name', 'subscription_id']) {
    if (item[key] !== undefined && typeof item[key] !== 'string')
      throw badParameter(`${at}.${key}`, 'expected a string');
  }
  const matching = (item.matching as MatchingMode | undefined) ?? p.matching;
  const fieldName = str(item.field_name) ?? p.field_name;
  const fieldValue = item.field_value ?? (fieldName !== undefined ? item[fieldName] : undefined);
  return {
    matching,
    // The email, or the phone from phones, comes from the item as from a single call's data.
    phone: str(item.phone),
    profile_id: str(item.profile_id),
    subscription_id: str(item.subscription_id),
    field_name: fieldName,
    field_value:
      typeof fieldValue === 'string' || typeof fieldValue === 'number' || typeof fieldValue === 'boolean'
        ? fieldValue
        : undefined,
    resource_id:
      item.resource_id === undefined ? p.resource_id : toInt(item.resource_id, 'text', `${at}.resource_id`),
  };
}

/**
 * Runs every item as its own call, all queued in the same turn (so that on SQLite they share one
 * group commit); a failed item changes nothing and answers its error, the others are applied.
 */
export function saveBatch(
  profiles: ProfileService,
  p: ProfileBatchParams,
  mode: SaveProfileMode,
  encoding: ValueEncoding,
): Promise<{ result: ProfileBatchResult[] }> {
  return Promise.all(
    p.data.map(async (raw, i): Promise<ProfileBatchResult> => {
      const at = `data[${i}]`;
      try {
        const item = toRecord(raw, encoding, at);
        const data: Record<string, unknown> = {};
        for (const key of Object.keys(item)) {
          if (mode === 'add' || !IDENTIFICATION_ONLY.includes(key)) data[key] = item[key];
        }
        const ident = mode === 'add' ? {} : identificationOf(item, p, at);
        const saved = await profiles.save({ db_id: p.db_id, ...ident, data }, mode, encoding, { at });
        return { error: 0, error_text: 'Successful operation', profile_id: saved.profile_id };
      } catch (err) {
        // Anything but a catalogue error is a fault of Ties, not of the item: the call fails.
        if (err instanceof TiesError) return { error: err.status, error_text: err.message };
        throw err;
      }
    }),
  ).then((result) => ({ result }));
}
