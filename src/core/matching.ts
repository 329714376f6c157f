// Matching (SPEC §4): turns an identification (matching mode and its fields) into a ProfileQuery
// the store executes by index, and decides what a lookup's result means (404, 409, self-relation).

import { badParameter } from './errors.js';
import { customMatchKeys, findField } from './fields.js';
import { PROFILE_ID_PATTERN } from './ids.js';
import type { Database } from './model.js';
import type { MatchFailure, PairFailure, PairOk, ProfileQuery, Side } from './store.js';
import { emailKey, phoneKey, toEmail, toPhone, toText } from './values.js';

export type MatchingMode =
  | 'email'
  | 'email_profile'
  | 'email_sub'
  | 'phone'
  | 'phone_sub'
  | 'profile_id'
  | 'custom'
  | 'push_sub'
  | 'custom_sub'
  | 'email_phone'
  | 'email_phone_sub';
export const MATCHING_MODES: readonly MatchingMode[] = [
  'email',
  'email_profile',
  'email_sub',
  'phone',
  'phone_sub',
  'profile_id',
  'custom',
  'push_sub',
  'custom_sub',
  'email_phone',
  'email_phone_sub',
];

/** The identification fields of SPEC §4, as a request carries them. */
export interface Identification {
  readonly matching?: MatchingMode | undefined;
  readonly email?: string | undefined;
  readonly phone?: string | undefined;
  readonly profile_id?: string | undefined;
  readonly field_name?: string | undefined;
  readonly field_value?: string | number | boolean | undefined;
  readonly resource_id?: number | undefined;
  /** push_sub and custom_sub: the subscription's id (a push device token). */
  readonly subscription_id?: string | undefined;
}

const EMAIL_MODES: ReadonlySet<string> = new Set([
  'email',
  'email_profile',
  'email_sub',
  'email_phone',
  'email_phone_sub',
]);
const PHONE_MODES: ReadonlySet<string> = new Set(['phone', 'phone_sub', 'email_phone', 'email_phone_sub']);

/**
 * profiles/import and update (single and batch): the email or phone matching needs, when the
 * request does not give it beside `data`, is taken from `data` — its `email`, or the first of its
 * `phones` — as clients written for Altcraft send it (a Java service sends matching "phone" with
 * the number in data.phones only). Without a matching mode, a data.email means email matching.
 */
export function identificationFromData(ident: Identification, data: unknown): Identification {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return {};
  const record = data as Record<string, unknown>;
  const mode = ident.matching;
  const out: { email?: string; phone?: string } = {};
  if (ident.email === undefined && typeof record.email === 'string') {
    const inferred =
      mode === undefined &&
      ident.profile_id === undefined &&
      ident.phone === undefined &&
      ident.field_name === undefined;
    if (inferred || (mode !== undefined && EMAIL_MODES.has(mode))) out.email = record.email;
  }
  if (ident.phone === undefined && mode !== undefined && PHONE_MODES.has(mode)) {
    const phones = record.phones;
    const first = Array.isArray(phones) ? phones[0] : phones;
    if (typeof first === 'string') out.phone = first;
  }
  return out;
}

/** The parts of a top-level identification that serve as defaults for profile_a and profile_b. */
export function sideDefaults(top: Identification): Identification {
  // Most calls give none: one shared object then, not one per call or batch item.
  if (top.matching === undefined && top.resource_id === undefined && top.field_name === undefined) {
    return NO_DEFAULTS;
  }
  return { matching: top.matching, resource_id: top.resource_id, field_name: top.field_name };
}

const NO_DEFAULTS: Identification = Object.freeze({});

function inferMode(ident: Identification, fieldName: string | undefined): MatchingMode | undefined {
  // Altcraft's default is email; without an email the mode follows the field that is present.
  if (ident.email !== undefined) return 'email';
  if (ident.profile_id !== undefined) return 'profile_id';
  if (ident.phone !== undefined) return 'phone';
  if (fieldName !== undefined) return 'custom';
  return undefined;
}

// param and required are module functions, not closures inside toProfileQuery: creating the two
// closures on every call made a profile_id lookup ~9x slower (1.35-2.0 against 0.15-0.29 us, 1M
// calls alternating, 22:55, load 4.5), ~0.12 s of Node CPU in a 50,000-row import (two per row).

/** The parameter `name` inside `prefix` ('' for top level), as errors name it. */
function param(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

/** `value`, or the error naming it as required by the matching mode. */
function required<T>(value: T | undefined, prefix: string, name: string, mode: string): T {
  if (value === undefined) throw badParameter(param(prefix, name), `required for matching ${mode}`);
  return value;
}

/**
 * Builds the lookup for one profile. `prefix` is the parameter that holds the identification
 * ('profile_a', 'profile_b', or '' for top level), used to name parameters in errors.
 */
export function toProfileQuery(
  ident: Identification,
  defaults: Identification,
  db: Database,
  prefix: string,
): ProfileQuery {
  const fieldName = ident.field_name ?? defaults.field_name;
  const resourceId = ident.resource_id ?? defaults.resource_id;
  const mode = ident.matching ?? defaults.matching ?? inferMode(ident, fieldName);
  if (mode === undefined) {
    throw badParameter(
      prefix || 'matching',
      'expected an identification: profile_id, email, phone, or field_name with field_value',
    );
  }
  switch (mode) {
    case 'profile_id': {
      const id = required(ident.profile_id, prefix, 'profile_id', mode).trim().toLowerCase();
      if (!PROFILE_ID_PATTERN.test(id))
        throw badParameter(param(prefix, 'profile_id'), 'expected 24 hexadecimal characters');
      return { by: 'id', id };
    }
    case 'email':
    case 'email_profile':
    case 'email_sub': {
      const email = emailKey(toEmail(required(ident.email, prefix, 'email', mode), param(prefix, 'email')));
      return {
        by: 'email',
        email,
        inProfile: mode !== 'email_sub',
        inSubscriptions: mode !== 'email_profile',
        resourceId,
      };
    }
    case 'phone':
    case 'phone_sub': {
      const phone = phoneKey(toPhone(required(ident.phone, prefix, 'phone', mode), param(prefix, 'phone')));
      return { by: 'phone', phone, inProfile: mode === 'phone', inSubscriptions: true, resourceId };
    }
    case 'push_sub':
      return {
        by: 'push',
        key: toText(
          required(ident.subscription_id, prefix, 'subscription_id', mode),
          param(prefix, 'subscription_id'),
          1024,
        ),
        resourceId,
      };
    case 'custom_sub':
      // Ties keeps no subscriptions to custom channels, so none can match (docs/decisions.md).
      toText(
        required(ident.subscription_id, prefix, 'subscription_id', mode),
        param(prefix, 'subscription_id'),
        1024,
      );
      return { by: 'none' };
    case 'email_phone':
    case 'email_phone_sub': {
      if (ident.email === undefined && ident.phone === undefined) {
        throw badParameter(param(prefix, 'email'), `an email or a phone is required for matching ${mode}`);
      }
      const sub = mode === 'email_phone_sub';
      return {
        by: 'contact',
        email: ident.email === undefined ? undefined : emailKey(toEmail(ident.email, param(prefix, 'email'))),
        phone: ident.phone === undefined ? undefined : phoneKey(toPhone(ident.phone, param(prefix, 'phone'))),
        inProfile: !sub,
        inSubscriptions: sub,
        resourceId: sub ? resourceId : undefined,
      };
    }
    case 'custom': {
      const name = required(fieldName, prefix, 'field_name', mode);
      const value = required(ident.field_value, prefix, 'field_value', mode);
      const field = findField(db, name);
      if (!field?.isCustom) {
        throw badParameter(param(prefix, 'field_name'), `database ${db.id} has no custom field ${name}`);
      }
      return { by: 'field', field: name, keys: customMatchKeys(field, value, param(prefix, 'field_value')) };
    }
    default:
      // The schemas allow only the modes above; this guards values that reach here unchecked.
      throw badParameter(param(prefix, 'matching'), `expected one of ${MATCHING_MODES.join(', ')}`);
  }
}

/** The resource a query limits its subscription search to, if any (core checks that it exists). */
export function queryResourceId(query: ProfileQuery): number | undefined {
  return query.by === 'email' || query.by === 'phone' || query.by === 'push' || query.by === 'contact'
    ? query.resourceId
    : undefined;
}

/** What a lookup that returned these ids (at most two are needed) means. */
export function resolveOne(
  ids: readonly string[],
  side: Side,
): { readonly kind: 'ok'; readonly id: string } | MatchFailure {
  if (ids.length === 0) return { kind: 'not_found', side };
  if (ids.length > 1) return { kind: 'ambiguous', side };
  return { kind: 'ok', id: ids[0]! };
}

/** Resolves both sides of a relation call: A is checked first, then B, then self-relation. */
export function resolvePair(aIds: readonly string[], bIds: readonly string[]): PairOk | PairFailure {
  const a = resolveOne(aIds, 'profile_a');
  if (a.kind !== 'ok') return a;
  const b = resolveOne(bIds, 'profile_b');
  if (b.kind !== 'ok') return b;
  if (a.id === b.id) return { kind: 'self', id: a.id };
  return { kind: 'ok', a: a.id, b: b.id };
}
