// The domain model of Ties: databases, profiles, resources, relation types, relations, tokens.
// Plain readonly data; no behaviour, no I/O.

export type Right = 'read' | 'write' | 'delete' | 'admin';
export const RIGHTS: readonly Right[] = ['read', 'write', 'delete', 'admin'];

/** Types a custom profile field can have (SPEC §3). */
export type CustomFieldType = 'string' | 'int' | 'float' | 'bool' | 'date' | 'datetime' | 'tags' | 'json';
export const CUSTOM_FIELD_TYPES: readonly CustomFieldType[] = [
  'string',
  'int',
  'float',
  'bool',
  'date',
  'datetime',
  'tags',
  'json',
];
/** Standard fields add `phones`, an ordered list of phone numbers. */
export type FieldType = CustomFieldType | 'phones';

export interface FieldDef {
  readonly name: string;
  readonly type: FieldType;
  readonly isCustom: boolean;
  /** System fields (`_status`, `_xxh`) are answered but never written by clients. */
  readonly readOnly: boolean;
}

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [k: string]: JsonValue };

/** A stored field value. Dates are ISO strings ('YYYY-MM-DD' or a full UTC timestamp); tags and phones are string arrays. */
export type FieldValue = string | number | boolean | readonly string[] | JsonValue;

export interface Database {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  /** Custom fields only; the standard ones are the same for every database (see fields.ts). */
  readonly customFields: readonly FieldDef[];
  readonly createdAt: string;
}

export type Channel = 'email' | 'sms' | 'push';
export const CHANNELS: readonly Channel[] = ['email', 'sms', 'push'];
export type SubscriptionStatus = 'subscribed' | 'unsubscribed' | 'suspended';
export const SUBSCRIPTION_STATUSES: readonly SubscriptionStatus[] = [
  'subscribed',
  'unsubscribed',
  'suspended',
];

export interface Subscription {
  readonly resourceId: number;
  readonly channel: Channel;
  /** The email (email channel), phone (sms) or push subscription id, as given. */
  readonly contact: string;
  readonly status: SubscriptionStatus;
  /** Altcraft's subscription priority; 0 unless a write gave one. */
  readonly priority: number;
}

export interface Profile {
  readonly id: string;
  readonly dbId: number;
  readonly fields: Readonly<Record<string, FieldValue>>;
  readonly subscriptions: readonly Subscription[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface Resource {
  readonly id: number;
  readonly name: string;
  readonly channels: readonly Channel[];
  readonly dbIds: readonly number[];
  /** Altcraft's resource url and subscriber-action tracking domain, as given at creation ('' if not). */
  readonly url: string;
  readonly trkDomain: string;
  readonly createdAt: string;
}

export type PropertyType = 'int' | 'float' | 'bool' | 'string';
export const PROPERTY_TYPES: readonly PropertyType[] = ['int', 'float', 'bool', 'string'];

export interface PropertyDef {
  readonly name: string;
  readonly type: PropertyType;
  /** How many leading B profiles get_counter reports (0 = none). Numeric properties only. */
  readonly top: number;
  /** Whether get_counter reports a sum. Numeric properties only. */
  readonly sum: boolean;
}

export interface RelationType {
  readonly relId: number;
  readonly name: string;
  readonly dbA: number;
  readonly dbB: number;
  readonly properties: readonly PropertyDef[];
  readonly createdAt: string;
}

export type WeightValue = number | boolean | string;
export type Weights = Readonly<Record<string, WeightValue>>;

/** One relation B → A as stored. */
export interface RelationRow {
  readonly a: string;
  readonly b: string;
  readonly weights: Weights;
}

export interface TokenInfo {
  readonly id: number;
  readonly name: string;
  readonly rights: readonly Right[];
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
}

export interface TokenRecord extends TokenInfo {
  /** SHA-256 of the token, hex; the token itself is never stored. */
  readonly hash: string;
}

/** Integers in weights and sums stay exact within ±(2^53 − 1) (SPEC §5 strengthen). */
export const MAX_SAFE_INT = Number.MAX_SAFE_INTEGER;
