// Profile fields: the standard set every database has, validation of `data` against a database's
// fields, and the index keys that make every matching mode an index lookup.
import { badParameter, TiesError } from './errors.js';
import { type FieldFunction, isFieldFunction, parseFieldFunction } from './field-functions.js';
import type { Limits } from './limits.js';
import {
  CHANNELS,
  type Channel,
  type CustomFieldType,
  type Database,
  type FieldDef,
  type FieldType,
  type FieldValue,
  type JsonValue,
  SUBSCRIPTION_STATUSES,
  type SubscriptionStatus,
} from './model.js';
import type { MatchKeys } from './store.js';
import {
  emailKey,
  entriesOf,
  isValidName,
  phoneKey,
  toBool,
  toDate,
  toEmail,
  toFloat,
  toInt,
  toPhone,
  toRecord,
  toText,
  type ValueEncoding,
} from './values.js';

function standard(name: string, type: FieldType, readOnly = false): FieldDef {
  return { name, type, isCustom: false, readOnly };
}

/** Fields every database has (SPEC §3), in the order databases/fields_get lists them. */
export const STANDARD_FIELDS: readonly FieldDef[] = [
  standard('email', 'string'),
  standard('phones', 'phones'),
  standard('_fname', 'string'),
  standard('_lname', 'string'),
  standard('_bdate', 'date'),
  standard('_sex', 'int'),
  standard('_regdate', 'datetime'),
  standard('_regip', 'string'),
  standard('_regcity', 'string'),
  standard('_regcountry', 'string'),
  standard('_regurl', 'string'),
  standard('_ip', 'string'),
  standard('_city', 'string'),
  standard('_country', 'string'),
  standard('_region', 'string'),
  standard('_postal_code', 'string'),
  standard('_tz', 'string'),
  standard('_vendor', 'string'),
  standard('_status', 'int'),
  standard('_xxh', 'string', true),
];

/**
 * Standard fields Altcraft writes as numbers (its profile data object): their ranges. `_status` is
 * the profile's global subscription status, answered 0 when never written.
 */
const CODED_FIELDS: Readonly<Record<string, readonly [number, number, string]>> = {
  _sex: [0, 2, '0 unknown, 1 male, 2 female'],
  _status: [0, 255, "the profile's global status, 0 by default"],
};

const STANDARD_BY_NAME = new Map(STANDARD_FIELDS.map((f) => [f.name, f]));
/** Names a custom field may not take: the standard ones and those the profile answer uses itself. */
const RESERVED_NAMES = new Set([
  ...STANDARD_BY_NAME.keys(),
  'id',
  'db_id',
  'subscriptions',
  'created_at',
  'updated_at',
]);

export function allFields(db: Database): readonly FieldDef[] {
  return [...STANDARD_FIELDS, ...db.customFields];
}

export function findField(db: Database, name: string): FieldDef | undefined {
  return STANDARD_BY_NAME.get(name) ?? db.customFields.find((f) => f.name === name);
}

/** Checks a custom field definition for databases/create and databases/fields_add. */
export function checkCustomFieldName(name: string, param: string): void {
  if (!isValidName(name)) {
    throw badParameter(
      param,
      'expected a name of letters, digits and _ (at most 64, not starting with a digit)',
    );
  }
  if (name.startsWith('_') || RESERVED_NAMES.has(name)) {
    throw badParameter(
      param,
      `${name} is reserved; custom field names may not start with _ or repeat a standard field`,
    );
  }
}

export function customField(name: string, type: CustomFieldType): FieldDef {
  return { name, type, isCustom: true, readOnly: false };
}

export interface SubscriptionInput {
  readonly resourceId: number;
  readonly channel: Channel;
  readonly contact: string;
  readonly contactKey: string;
  readonly status: SubscriptionStatus;
  /** Absent when the write did not give one (an existing subscription keeps its own). */
  readonly priority?: number | undefined;
}

/** Altcraft's subscription priority is an int; Ties keeps it in a 32-bit column on both engines. */
const PRIORITY_RANGE = [-2_147_483_648, 2_147_483_647] as const;

export interface ParsedProfileData {
  /** Field changes; null removes the field. */
  readonly set: Readonly<Record<string, FieldValue | null>>;
  /** Update functions (incr, add, delete) for the store to apply to the stored values. */
  readonly functions: Readonly<Record<string, FieldFunction>>;
  readonly subscriptions: readonly SubscriptionInput[];
}

/** Validates `data` of profiles/import, add and update against the database's fields. */
export function parseProfileData(
  data: unknown,
  db: Database,
  encoding: ValueEncoding,
  limits: Limits,
  param = 'data',
): ParsedProfileData {
  const record = toRecord(data, encoding, param);
  const set: Record<string, FieldValue | null> = Object.create(null);
  const functions: Record<string, FieldFunction> = Object.create(null);
  let subscriptions: SubscriptionInput[] = [];
  for (const [name, given] of entriesOf(record)) {
    let value = given;
    let path = `${param}.${name}`;
    if (name === 'subscriptions') {
      subscriptions = parseSubscriptions(value, encoding, limits, path);
      continue;
    }
    const field = findField(db, name);
    if (!field) {
      throw new TiesError('UNKNOWN_PARAMETER', {
        param: path,
        allowed: `the fields of database ${db.id} (databases/fields_get)`,
      });
    }
    if (field.readOnly) throw badParameter(path, 'read-only system field');
    if (isFieldFunction(value)) {
      const tags = {
        parse: (v: unknown, at: string) => parseTags(v, encoding, limits, at),
        max: limits.maxArrayLength,
      };
      const parsed = parseFieldFunction(
        field,
        value,
        encoding,
        path,
        tags,
        Object.hasOwn(CODED_FIELDS, name),
      );
      if (parsed.kind === 'function') {
        functions[name] = parsed.fn;
        continue;
      }
      // set / unset: an ordinary write of the function's value.
      value = parsed.value;
      path = parsed.path;
    }
    if (value === null) set[name] = null;
    else if (name === 'email') set[name] = toEmail(value, path);
    else set[name] = parseFieldValue(field.type, value, encoding, limits, path);
    const range = CODED_FIELDS[name];
    if (range && typeof set[name] === 'number' && !(set[name] >= range[0] && set[name] <= range[1])) {
      throw badParameter(path, `expected an integer from ${range[0]} to ${range[1]} (${range[2]})`);
    }
  }
  return { set, functions, subscriptions };
}

export function parseFieldValue(
  type: FieldType,
  value: unknown,
  encoding: ValueEncoding,
  limits: Limits,
  path: string,
): FieldValue {
  switch (type) {
    case 'string':
      return toText(value, path, limits.maxStringLength);
    case 'int':
      return toInt(value, encoding, path);
    case 'float':
      return toFloat(value, encoding, path);
    case 'bool':
      return toBool(value, encoding, path);
    case 'date':
    case 'datetime':
      return toDate(value, type, encoding, path);
    case 'tags':
      return parseTags(value, encoding, limits, path);
    case 'phones':
      return toList(value, encoding, limits, path).map((p, i) => toPhone(p, `${path}[${i}]`));
    case 'json':
      return value as JsonValue;
  }
}

function toList(value: unknown, encoding: ValueEncoding, limits: Limits, path: string): unknown[] {
  let list: unknown[];
  if (Array.isArray(value)) list = value;
  else if (encoding === 'text') list = value === '' ? [] : [value];
  else throw badParameter(path, 'expected an array');
  if (list.length > limits.maxArrayLength) {
    throw badParameter(path, `expected an array of at most ${limits.maxArrayLength} items`);
  }
  return list;
}

function parseTags(value: unknown, encoding: ValueEncoding, limits: Limits, path: string): string[] {
  const tags = new Set<string>();
  toList(value, encoding, limits, path).forEach((raw, i) => {
    const tag = toText(raw, `${path}[${i}]`, 255).trim();
    // A comma would make the tag impossible to match (custom matching splits field_value on commas).
    if (tag === '' || tag.includes(','))
      throw badParameter(`${path}[${i}]`, 'expected a non-empty tag without commas');
    tags.add(tag);
  });
  return [...tags];
}

function parseSubscriptions(
  value: unknown,
  encoding: ValueEncoding,
  limits: Limits,
  path: string,
): SubscriptionInput[] {
  return toList(value, encoding, limits, path).map((raw, i) => {
    const at = `${path}[${i}]`;
    let item = toRecord(raw, encoding, at);
    // Altcraft's pages write an email subscription's address as email_data: {email}.
    if (item.email_data !== undefined) {
      const emailData = toRecord(item.email_data, encoding, `${at}.email_data`);
      const { email_data: _, ...rest } = item;
      if (rest.email === undefined && emailData.email !== undefined)
        item = { ...rest, email: emailData.email };
      else item = rest;
    }
    const allowed = new Set([
      'resource_id',
      'channel',
      'email',
      'phone',
      'subscription_id',
      'status',
      'priority',
    ]);
    for (const key of Object.keys(item)) {
      if (!allowed.has(key)) {
        throw new TiesError('UNKNOWN_PARAMETER', { param: `${at}.${key}`, allowed: [...allowed].join(', ') });
      }
    }
    if (item.resource_id === undefined) throw badParameter(`${at}.resource_id`, 'required');
    const resourceId = toInt(item.resource_id, 'text', `${at}.resource_id`);
    const channelRaw = item.channel ?? (item.phone !== undefined ? 'sms' : 'email');
    if (!CHANNELS.includes(channelRaw as Channel)) {
      throw badParameter(`${at}.channel`, `expected one of ${CHANNELS.join(', ')}`);
    }
    const channel = channelRaw as Channel;
    const statusRaw = item.status ?? 'subscribed';
    if (!SUBSCRIPTION_STATUSES.includes(statusRaw as SubscriptionStatus)) {
      throw badParameter(`${at}.status`, `expected one of ${SUBSCRIPTION_STATUSES.join(', ')}`);
    }
    let priority: number | undefined;
    if (item.priority !== undefined && item.priority !== null) {
      priority = toInt(item.priority, 'text', `${at}.priority`);
      if (priority < PRIORITY_RANGE[0] || priority > PRIORITY_RANGE[1])
        throw badParameter(`${at}.priority`, 'expected a 32-bit integer');
    }
    const contactParam = channel === 'email' ? 'email' : channel === 'sms' ? 'phone' : 'subscription_id';
    const rawContact = item[contactParam];
    if (rawContact === undefined)
      throw badParameter(`${at}.${contactParam}`, `required for channel ${channel}`);
    const contactPath = `${at}.${contactParam}`;
    const contact =
      channel === 'email'
        ? toEmail(rawContact, contactPath)
        : channel === 'sms'
          ? toPhone(rawContact, contactPath)
          : toText(rawContact, contactPath, 1024);
    return {
      resourceId,
      channel,
      contact,
      contactKey: contactKeyOf(channel, contact),
      status: statusRaw as SubscriptionStatus,
      ...(priority === undefined ? {} : { priority }),
    };
  });
}

export function contactKeyOf(channel: Channel, contact: string): string {
  return channel === 'email' ? emailKey(contact) : channel === 'sms' ? phoneKey(contact) : contact;
}

/** The index key of one scalar custom field value; null for types that are not matchable. */
function scalarKey(type: FieldType, value: FieldValue): string | null {
  switch (type) {
    case 'string':
    case 'date':
    case 'datetime':
      return typeof value === 'string' ? value : null;
    case 'int':
    case 'float':
      return typeof value === 'number' ? String(value) : null;
    case 'bool':
      return typeof value === 'boolean' ? String(value) : null;
    case 'tags':
    case 'phones':
    case 'json':
      return null;
  }
}

/** Keys under which a profile with these fields can be found (email, phones, custom fields). */
export function profileMatchKeys(fields: Readonly<Record<string, FieldValue>>, db: Database): MatchKeys {
  const email = typeof fields.email === 'string' ? emailKey(fields.email) : null;
  const phones = Array.isArray(fields.phones)
    ? [...new Set(fields.phones.map((p) => phoneKey(String(p))))]
    : [];
  const keys: { field: string; key: string }[] = [];
  for (const field of db.customFields) {
    const value = fields[field.name];
    if (value === undefined || value === null) continue;
    if (field.type === 'tags' && Array.isArray(value)) {
      for (const tag of value) keys.push({ field: field.name, key: String(tag) });
      continue;
    }
    const key = scalarKey(field.type, value);
    if (key !== null) keys.push({ field: field.name, key });
  }
  return { email, phones, fields: keys };
}

/**
 * The keys to look up for `custom` matching: one for a scalar field, one per listed tag for a tags
 * field (field_value is a comma-separated list; every tag must be present).
 */
export function customMatchKeys(field: FieldDef, value: unknown, path: string): string[] {
  switch (field.type) {
    case 'tags': {
      const text = typeof value === 'number' ? String(value) : toText(value, path, 65_536);
      const tags = [...new Set(text.split(',').map((t) => t.trim()))].filter((t) => t !== '');
      if (tags.length === 0) throw badParameter(path, 'expected one or more comma-separated tags');
      return tags;
    }
    case 'json':
    case 'phones':
      throw badParameter(path, `field ${field.name} of type ${field.type} cannot be matched`);
    default: {
      // field_value is "int/string" in Altcraft's table: convert a string by the field's type.
      const text = typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
      const parsed = parseFieldValue(
        field.type,
        text,
        'text',
        { maxStringLength: 65_536, maxArrayLength: 1 },
        path,
      );
      return [scalarKey(field.type, parsed)!];
    }
  }
}

/** Applies field changes to stored fields (null removes). */
export function mergeFields(
  current: Readonly<Record<string, FieldValue>>,
  changes: Readonly<Record<string, FieldValue | null>>,
): Record<string, FieldValue> {
  const merged: Record<string, FieldValue> = { ...current };
  for (const name of Object.keys(changes)) {
    const value = changes[name];
    if (value === null || value === undefined) delete merged[name];
    else merged[name] = value;
  }
  return merged;
}

/** A profile's match keys as [kind, key] pairs: 'e' the email, 'p' each phone, 'f:<field>' the rest. */
export function matchKeyPairs(keys: MatchKeys): [string, string][] {
  const pairs: [string, string][] = [];
  if (keys.email !== null) pairs.push(['e', keys.email]);
  for (const phone of keys.phones) pairs.push(['p', phone]);
  for (const k of keys.fields) pairs.push([`f:${k.field}`, k.key]);
  return pairs;
}
