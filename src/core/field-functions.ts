// Altcraft's "database fields functional update": a field of a profile write's `data` may hold a
// function, `{"action": …, "value": …}`, instead of a value. `set` and `unset` are plain writes;
// `incr`, `add` and `delete` depend on the stored value, so core only validates them here and the
// store applies them (applyFieldFunctions) to the fields it holds inside its write transaction:
// nothing is computed from a read core made earlier (docs/decisions.md, "Update functions").
import { badParameter, TiesError } from './errors.js';
import type { FieldDef, FieldValue } from './model.js';
import type { ValueEncoding } from './values.js';
import { toFloat, toInt, toRecord } from './values.js';

/** Altcraft's documented actions, then the two names issue #13 used for them (accepted as aliases). */
export const FIELD_ACTIONS = ['set', 'unset', 'incr', 'add', 'delete', 'decr', 'remove'] as const;
type FieldAction = (typeof FIELD_ACTIONS)[number];

/** A function the store applies to the stored value of one field. */
export type FieldFunction =
  /** Adds `by` (negative subtracts) to an int or float field; an absent field counts as 0. */
  | { readonly action: 'incr'; readonly type: 'int' | 'float'; readonly by: number }
  /** Adds tags not yet present (in the order given) / removes the listed tags; at most `max` tags. */
  | { readonly action: 'add' | 'delete'; readonly tags: readonly string[]; readonly max: number };

/** What one field's function object comes to. */
export type ParsedFieldFunction =
  /** set / unset: an ordinary write of `value` (null removes the field), read at `path`. */
  | { readonly kind: 'write'; readonly value: unknown; readonly path: string }
  | { readonly kind: 'function'; readonly fn: FieldFunction };

/** Whether a field's value in `data` is a function rather than a value (an object with `action`). */
export function isFieldFunction(value: unknown): value is Readonly<Record<string, unknown>> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, 'action')
  );
}

/**
 * Checks one function object against its field. `parseTags` is the tags parser of fields.ts
 * (passed in to keep one definition of what a tag is).
 */
export function parseFieldFunction(
  field: FieldDef,
  raw: Readonly<Record<string, unknown>>,
  encoding: ValueEncoding,
  path: string,
  tags: { readonly parse: (value: unknown, path: string) => string[]; readonly max: number },
  coded: boolean,
): ParsedFieldFunction {
  const record = toRecord(raw, encoding, path);
  for (const key of Object.keys(record)) {
    if (key !== 'action' && key !== 'value') {
      // submatch addresses a property of an object field; Ties has no object fields.
      throw new TiesError('UNKNOWN_PARAMETER', { param: `${path}.${key}`, allowed: 'action, value' });
    }
  }
  const action = typeof record.action === 'string' ? record.action.trim() : record.action;
  if (action === 'upsert') {
    throw badParameter(
      `${path}.action`,
      "upsert applies to Altcraft's object and arr_object fields, which Ties does not have (json fields take set)",
    );
  }
  if (!FIELD_ACTIONS.includes(action as FieldAction)) {
    throw badParameter(`${path}.action`, 'expected one of set, unset, incr, add, delete');
  }
  const valuePath = `${path}.value`;
  const value = record.value;
  const hasValue = value !== undefined && !(encoding === 'text' && value === '');
  switch (action as FieldAction) {
    case 'set':
      if (value === undefined) throw badParameter(valuePath, 'required for set');
      return { kind: 'write', value, path: valuePath };
    case 'unset':
      if (field.name === 'email')
        throw badParameter(path, 'email cannot be unset (Altcraft: every field but email)');
      if (hasValue && value !== null) throw badParameter(valuePath, 'unset takes no value');
      return { kind: 'write', value: null, path };
    case 'incr':
    case 'decr': {
      if ((field.type !== 'int' && field.type !== 'float') || coded) {
        throw badParameter(
          path,
          coded
            ? `${action} does not apply to ${field.name}, a coded field (set it instead)`
            : `${action} applies to int and float fields; ${field.name} is ${field.type}`,
        );
      }
      if (value === undefined) throw badParameter(valuePath, `required for ${action}`);
      const n =
        field.type === 'int' ? toInt(value, encoding, valuePath) : toFloat(value, encoding, valuePath);
      const by = action === 'decr' ? -n : n;
      return { kind: 'function', fn: { action: 'incr', type: field.type, by: by === 0 ? 0 : by } };
    }
    case 'add':
    case 'delete':
    case 'remove': {
      if (field.type !== 'tags') {
        throw badParameter(path, `${action} applies to tags fields; ${field.name} is ${field.type}`);
      }
      if (value === undefined) throw badParameter(valuePath, `required for ${action}`);
      return {
        kind: 'function',
        fn: {
          action: action === 'add' ? 'add' : 'delete',
          tags: tags.parse(value, valuePath),
          max: tags.max,
        },
      };
    }
  }
}

export type FieldFunctionsResult =
  | { readonly ok: true; readonly fields: Record<string, FieldValue> }
  /** Nothing may be written: `reason` says why, for the field named. */
  | { readonly ok: false; readonly field: string; readonly reason: string };

/** Applies functions to a profile's fields as the store holds them (pure; the store calls it in its transaction). */
export function applyFieldFunctions(
  fields: Readonly<Record<string, FieldValue>>,
  functions: Readonly<Record<string, FieldFunction>>,
): FieldFunctionsResult {
  const out: Record<string, FieldValue> = { ...fields };
  for (const name of Object.keys(functions)) {
    const fn = functions[name]!;
    const current = out[name];
    if (fn.action === 'incr') {
      const base = current === undefined || current === null ? 0 : current;
      if (typeof base !== 'number') {
        return {
          ok: false,
          field: name,
          reason: `incr needs a number, and the stored value is ${JSON.stringify(base)}`,
        };
      }
      const result = base + fn.by;
      if (fn.type === 'int' && !Number.isSafeInteger(result)) {
        return { ok: false, field: name, reason: `incr would make it ${result}, outside ±(2^53 − 1)` };
      }
      if (!Number.isFinite(result)) return { ok: false, field: name, reason: 'incr would make it infinite' };
      out[name] = result === 0 ? 0 : result;
      continue;
    }
    if (current !== undefined && current !== null && !Array.isArray(current)) {
      return {
        ok: false,
        field: name,
        reason: `${fn.action} needs a list of tags, and the stored value is not one`,
      };
    }
    const list = (current ?? []) as FieldValue[];
    if (fn.action === 'add') {
      const next = [...list];
      for (const tag of fn.tags) if (!next.includes(tag)) next.push(tag);
      if (next.length > fn.max) {
        return {
          ok: false,
          field: name,
          reason: `add would make it hold ${next.length} tags, more than ${fn.max}`,
        };
      }
      out[name] = next;
    } else if (current !== undefined && current !== null) {
      out[name] = list.filter((tag) => !fn.tags.includes(tag as string));
    }
  }
  return { ok: true, fields: out };
}
