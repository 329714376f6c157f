// Relation properties: validation of relation-type definitions and of the `weights` each relation
// call carries, typed by the property types of the relation type (SPEC §3, §5).
import { badParameter, TiesError } from './errors.js';
import type { Limits } from './limits.js';
import {
  PROPERTY_TYPES,
  type PropertyDef,
  type PropertyType,
  type RelationType,
  type WeightValue,
} from './model.js';
import {
  entriesOf,
  isValidName,
  toBool,
  toFloat,
  toInt,
  toRecord,
  toText,
  type ValueEncoding,
} from './values.js';

export function isNumeric(type: PropertyType): boolean {
  return type === 'int' || type === 'float';
}

export function findProperty(type: RelationType, name: string): PropertyDef | undefined {
  return type.properties.find((p) => p.name === name);
}

function requireProperty(type: RelationType, name: string, path: string): PropertyDef {
  const property = isValidName(name) ? findProperty(type, name) : undefined;
  if (!property) {
    const names = type.properties.map((p) => p.name);
    throw new TiesError('UNKNOWN_PARAMETER', {
      param: path,
      allowed: names.length ? names.join(', ') : `(relation type ${type.relId} has no properties)`,
    });
  }
  return property;
}

/** One weight value converted to its property's type. */
export function parseWeight(
  property: PropertyDef,
  value: unknown,
  encoding: ValueEncoding,
  limits: Limits,
  path: string,
): WeightValue {
  switch (property.type) {
    case 'int':
      return toInt(value, encoding, path);
    case 'float':
      return toFloat(value, encoding, path);
    case 'bool':
      return toBool(value, encoding, path);
    case 'string':
      return toText(value, path, limits.maxStringLength);
  }
}

/** attach: every value typed, no nulls. */
export function parseAttachWeights(
  weights: unknown,
  type: RelationType,
  encoding: ValueEncoding,
  limits: Limits,
): Record<string, WeightValue> {
  const out: Record<string, WeightValue> = Object.create(null);
  const record = toRecord(weights, encoding, 'weights');
  // The hot path of attach and `ties import` (three weights a row): no `weights.<name>` string and
  // no entry arrays per weight; a weight that fails is parsed again below, which names it.
  for (const name of Object.keys(record)) {
    const value = record[name];
    const property = isValidName(name) ? findProperty(type, name) : undefined;
    const parsed = property && plainWeight(property, value, encoding);
    if (parsed !== undefined) out[name] = parsed;
    else {
      const path = `weights.${name}`;
      out[name] = parseWeight(requireProperty(type, name, path), value, encoding, limits, path);
    }
  }
  return out;
}

/**
 * A weight that parseWeight would accept unchanged, answered as parseWeight answers it; undefined
 * for anything else (parseWeight then gives the answer or the error).
 */
function plainWeight(
  property: PropertyDef,
  value: unknown,
  encoding: ValueEncoding,
): WeightValue | undefined {
  switch (property.type) {
    case 'int':
      if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
      return encoding === 'text' && typeof value === 'string' ? plainIntText(value) : undefined;
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (encoding !== 'text') return undefined;
      return value === 'true' ? true : value === 'false' ? false : undefined;
    default:
      return undefined;
  }
}

/** An integer written as 1 to 15 ASCII digits, optionally signed (within ±(2^53 − 1)), as a number. */
function plainIntText(text: string): number | undefined {
  const n = text.length;
  if (n === 0 || n > 15) return undefined;
  let i = text.charCodeAt(0) === 0x2d || text.charCodeAt(0) === 0x2b ? 1 : 0;
  if (i === n) return undefined;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  return Number(text);
}

/** edit: values overwrite, null removes the property (SPEC §5 edit). */
export function parseEditWeights(
  weights: unknown,
  type: RelationType,
  encoding: ValueEncoding,
  limits: Limits,
): { set: Record<string, WeightValue>; remove: string[] } {
  const set: Record<string, WeightValue> = Object.create(null);
  const remove: string[] = [];
  for (const [name, value] of entriesOf(toRecord(weights, encoding, 'weights'))) {
    const path = `weights.${name}`;
    const property = requireProperty(type, name, path);
    if (value === null) remove.push(name);
    else set[name] = parseWeight(property, value, encoding, limits, path);
  }
  return { set, remove };
}

/** strengthen: numbers are added (negative subtracts), bools and strings are set (SPEC §5 strengthen). */
export function parseStrengthenWeights(
  weights: unknown,
  type: RelationType,
  encoding: ValueEncoding,
  limits: Limits,
): { add: Record<string, number>; set: Record<string, WeightValue> } {
  const add: Record<string, number> = Object.create(null);
  const set: Record<string, WeightValue> = Object.create(null);
  for (const [name, value] of entriesOf(toRecord(weights, encoding, 'weights'))) {
    const path = `weights.${name}`;
    const property = requireProperty(type, name, path);
    const parsed = parseWeight(property, value, encoding, limits, path);
    if (isNumeric(property.type)) add[name] = parsed as number;
    else set[name] = parsed;
  }
  return { add, set };
}

/** A property definition as relations/types/create and update carry it. */
export interface PropertyInput {
  readonly name: string;
  readonly type: string;
  readonly top?: number | undefined;
  readonly sum?: boolean | undefined;
}

export const MAX_TOP = 100;

/** Validates one property definition (SPEC §3). */
export function parsePropertyDef(input: PropertyInput, path: string): PropertyDef {
  if (!isValidName(input.name)) {
    throw badParameter(
      `${path}.name`,
      'expected a name of letters, digits and _ (at most 64, not starting with a digit, not __proto__, constructor or prototype)',
    );
  }
  if (!PROPERTY_TYPES.includes(input.type as PropertyType)) {
    throw badParameter(`${path}.type`, `expected one of ${PROPERTY_TYPES.join(', ')}`);
  }
  const type = input.type as PropertyType;
  const top = input.top ?? 0;
  const sum = input.sum ?? false;
  if (!isNumeric(type) && (top !== 0 || sum)) {
    throw badParameter(
      `${path}.${top !== 0 ? 'top' : 'sum'}`,
      `only int and float properties keep top or sum, not ${type}`,
    );
  }
  if (!Number.isInteger(top) || top < 0 || top > MAX_TOP) {
    throw badParameter(`${path}.top`, `expected an integer from 0 to ${MAX_TOP}`);
  }
  return { name: input.name, type, top, sum };
}

/** Validates a list of new property definitions: each valid, no name twice. */
export function parsePropertyDefs(inputs: readonly PropertyInput[], param: string): PropertyDef[] {
  const seen = new Set<string>();
  return inputs.map((input, i) => {
    const def = parsePropertyDef(input, `${param}[${i}]`);
    if (seen.has(def.name)) throw badParameter(`${param}[${i}].name`, `${def.name} is listed twice`);
    seen.add(def.name);
    return def;
  });
}
