// Scalar conversions shared by weights and profile fields. JSON clients send typed values;
// XML clients send text, which is converted by the declared type (SPEC §1).
import { badParameter } from './errors.js';
import { MAX_SAFE_INT } from './model.js';

/** 'typed': values came as JSON and must already have their type; 'text': they came as XML text. */
export type ValueEncoding = 'typed' | 'text';

const INT_TEXT = /^[+-]?\d+$/;
const FLOAT_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function toInt(value: unknown, encoding: ValueEncoding, param: string): number {
  let n: number | undefined;
  if (typeof value === 'number') n = value;
  else if (encoding === 'text' && typeof value === 'string' && INT_TEXT.test(value.trim()))
    n = Number(value.trim());
  if (n === undefined || !Number.isInteger(n)) throw badParameter(param, 'expected an integer');
  if (Math.abs(n) > MAX_SAFE_INT) throw badParameter(param, 'expected an integer within ±(2^53 − 1)');
  return n;
}

export function toFloat(value: unknown, encoding: ValueEncoding, param: string): number {
  let n: number | undefined;
  if (typeof value === 'number') n = value;
  else if (encoding === 'text' && typeof value === 'string' && FLOAT_TEXT.test(value.trim()))
    n = Number(value.trim());
  if (n === undefined || !Number.isFinite(n)) throw badParameter(param, 'expected a finite number');
  // -0 would be stored and answered as 0 by some engines and -0 by others; normalise it.
  return n === 0 ? 0 : n;
}

export function toBool(value: unknown, encoding: ValueEncoding, param: string): boolean {
  if (typeof value === 'boolean') return value;
  if (encoding === 'text' && typeof value === 'string') {
    const t = value.trim().toLowerCase();
    if (t === 'true' || t === '1') return true;
    if (t === 'false' || t === '0') return false;
  }
  throw badParameter(param, 'expected true or false');
}

export function toText(value: unknown, param: string, maxLength: number): string {
  if (typeof value !== 'string') throw badParameter(param, 'expected a string');
  if (value.length > maxLength)
    throw badParameter(param, `expected a string of at most ${maxLength} characters`);
  return value;
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether YYYY-MM-DD names a day of the calendar (Date.UTC would roll 2026-02-31 over to March). */
function isCalendarDay(text: string): boolean {
  const m = DATE_ONLY.exec(text);
  if (!m) return false;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(ms).toISOString().slice(0, 10) === text;
}

/**
 * A date or datetime given as an ISO string or as epoch milliseconds (a number, or digits in XML).
 * Answered as 'YYYY-MM-DD' for dates and a full UTC ISO timestamp for datetimes.
 */
export function toDate(
  value: unknown,
  kind: 'date' | 'datetime',
  encoding: ValueEncoding,
  param: string,
): string {
  const expected =
    kind === 'date'
      ? 'expected a date (YYYY-MM-DD, an ISO timestamp or epoch milliseconds)'
      : 'expected a datetime (an ISO timestamp or epoch milliseconds)';
  let ms: number | undefined;
  if (typeof value === 'number' && Number.isInteger(value)) ms = value;
  else if (typeof value === 'string') {
    const t = value.trim();
    if (encoding === 'text' && INT_TEXT.test(t)) ms = Number(t);
    else if (DATE_ONLY.test(t)) {
      if (isCalendarDay(t)) ms = Date.parse(`${t}T00:00:00Z`);
    } else if (/^\d{4}-\d{2}-\d{2}T/.test(t)) {
      // A timestamp without an offset is UTC, whatever the server's time zone (Date.parse would
      // read it as local time).
      const parsed = Date.parse(/(Z|[+-]\d{2}(:?\d{2})?)$/i.test(t) ? t : `${t}Z`);
      if (!Number.isNaN(parsed)) ms = parsed;
      // A date keeps the calendar day the client wrote: "2001-12-31T00:00+03:00" is 2001-12-31,
      // though that instant falls on the 30th in UTC (Altcraft's own _bdate examples carry offsets).
      const day = t.slice(0, 10);
      if (kind === 'date' && ms !== undefined && isCalendarDay(day)) return day;
      // V8 rolls "2026-02-31T…" over to March: refuse it as the date-only form does.
      if (!isCalendarDay(day)) ms = undefined;
    }
  }
  if (ms === undefined || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) throw badParameter(param, expected);
  const iso = new Date(ms).toISOString();
  return kind === 'date' ? iso.slice(0, 10) : iso;
}

/** Emails compare case-insensitively (SPEC §4). */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

/** Phones compare by digits only (SPEC §4). */
export function phoneKey(phone: string): string {
  return phone.replace(/\D+/g, '');
}

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+$/;

export function toEmail(value: unknown, param: string): string {
  const text = toText(value, param, 320).trim();
  if (!EMAIL_SHAPE.test(text)) throw badParameter(param, 'expected an email address (name@domain)');
  return text;
}

export function toPhone(value: unknown, param: string): string {
  const text = toText(value, param, 64).trim();
  const digits = phoneKey(text);
  if (digits.length < 3 || digits.length > 20)
    throw badParameter(param, 'expected a phone number of 3 to 20 digits');
  return text;
}

/** Property, field and relation-type names (SPEC §3). */
export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name) && !FORBIDDEN_NAMES.has(name);
}

/** A plain object as a record, or a 400 naming the parameter; '' (an empty XML element) is {}. */
export function toRecord(
  value: unknown,
  encoding: ValueEncoding,
  param: string,
): Readonly<Record<string, unknown>> {
  if (encoding === 'text' && value === '') return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw badParameter(param, 'expected an object');
  return value as Record<string, unknown>;
}

/** Own enumerable entries, never inherited ones. */
export function entriesOf(record: Readonly<Record<string, unknown>>): [string, unknown][] {
  return Object.keys(record).map((k) => [k, record[k]]);
}
