// Schema-driven coercion and validation of decoded parameters: typed (JSON) or text (XML) values in,
// fresh values of the schema's types out, or a TiesError naming the first parameter that is wrong.
import type { TSchema } from 'typebox';
import { badParameter, TiesError } from '../core/errors.js';

/** 'typed': values carry JSON types; 'text': every scalar is a string (XML) and the schema converts it. */
export type CoerceMode = 'typed' | 'text';

/** Coerces one value against the schema it was compiled from; `path` prefixes the names in errors. */
export type Coercer = (value: unknown, mode: CoerceMode, path?: string) => unknown;

type JsonSchema = Readonly<Record<string, unknown>>;

/**
 * A problem found while walking. Steps return it instead of throwing, so that trying the branches of
 * a union costs no stack capture, and the path is built only on the way out of a failure.
 */
class Failure {
  /** Keys and indexes from the failing value up to the root (reversed). */
  readonly segments: (string | number)[] = [];

  constructor(
    readonly expected: string,
    /**
     * The value had the right shape and broke a constraint, or failed deeper down: more telling than a
     * plain type mismatch when a union reports one of its branches.
     */
    public specific: boolean,
    /** Set for a name an object does not allow: the allowed names. */
    readonly allowed?: string,
  ) {}

  toError(prefix: string): TiesError {
    let param = prefix;
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const seg = this.segments[i] as string | number;
      if (typeof seg === 'number') param = `${param}[${seg}]`;
      else {
        const name = seg.length > 64 ? `${seg.slice(0, 63)}…` : seg;
        param = param === '' ? name : `${param}.${name}`;
      }
    }
    if (this.allowed !== undefined)
      return new TiesError('UNKNOWN_PARAMETER', { param, allowed: this.allowed });
    return badParameter(param === '' ? 'body' : param, this.expected);
  }
}

type Step = (value: unknown, text: boolean) => unknown;

interface Node {
  readonly step: Step;
  /** What the value should be, as it follows "expected ": "an integer from 1 to 10". */
  readonly noun: string;
  /** The same inside a list of alternatives ("a boolean" rather than "true or false"). */
  readonly listNoun: string;
  /** Literal values, when the node accepts only those (merged when they appear in a union). */
  readonly literals?: readonly Literal[];
}

type Literal = string | number | boolean | null;

const UNSUPPORTED = ['$ref', 'allOf', 'not', 'if', 'prefixItems', 'dependentSchemas'] as const;

export function compileCoercer(schema: TSchema): Coercer {
  const node = compile(schema as unknown as JsonSchema, '#');
  return (value, mode, path = '') => {
    const result = node.step(value, mode === 'text');
    if (result instanceof Failure) throw result.toError(path);
    return result;
  };
}

// Schemas are long-lived module constants, so each is analysed once, on first use.
const compiled = new WeakMap<object, Coercer>();

export function coerceParams(schema: TSchema, value: unknown, mode: CoerceMode, path = ''): unknown {
  let coercer = compiled.get(schema);
  if (!coercer) {
    coercer = compileCoercer(schema);
    compiled.set(schema, coercer);
  }
  return coercer(value, mode, path);
}

// --- compilation ---------------------------------------------------------------------------------

function compile(schema: JsonSchema, where: string): Node {
  for (const keyword of UNSUPPORTED) {
    if (keyword in schema) throw new Error(`compileCoercer: unsupported keyword ${keyword} at ${where}`);
  }
  if ('const' in schema) return literalNode([schema.const as Literal]);
  if (Array.isArray(schema.enum)) return literalNode(schema.enum as Literal[]);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives)) {
    return unionNode(
      alternatives.map((s, i) => compile(s as JsonSchema, `${where}/anyOf/${i}`)),
      where,
    );
  }
  const type = schema.type;
  if (Array.isArray(type)) {
    return unionNode(
      type.map((t) => compile({ ...schema, type: t }, where)),
      where,
    );
  }
  if (type === undefined && (schema.properties || schema.patternProperties)) return objectNode(schema, where);
  switch (type) {
    case 'object':
      return objectNode(schema, where);
    case 'array':
      return arrayNode(schema, where);
    case 'string':
      return stringNode(schema);
    case 'integer':
      return numberNode(schema, true);
    case 'number':
      return numberNode(schema, false);
    case 'boolean':
      return booleanNode();
    case 'null':
      return literalNode([null]);
    case undefined:
      return { step: (v) => unstorableIn(v) ?? v, noun: 'any value', listNoun: 'any value' };
    default:
      throw new Error(`compileCoercer: unsupported type ${String(type)} at ${where}`);
  }
}

const fail = (expected: string, specific = false) => new Failure(`expected ${expected}`, specific);

function literalNode(values: readonly Literal[]): Node {
  const allowed = new Set<unknown>(values);
  // Text that names a literal: its string form, and for booleans the spellings XML booleans take.
  const byText = new Map<string, Literal>();
  for (const v of values) {
    if (typeof v === 'boolean') {
      for (const t of v ? ['true', '1'] : ['false', '0']) byText.set(t, v);
    } else if (v !== null) {
      byText.set(String(v), v);
    }
  }
  const hasNonString = values.some((v) => typeof v === 'number' || typeof v === 'boolean');
  const shown = values.map((v) => (typeof v === 'string' ? v : String(v)));
  const noun = values.length === 1 ? (shown[0] as string) : `one of ${shown.join(', ')}`;
  return {
    noun,
    listNoun: noun,
    literals: values,
    step: (v, text) => {
      if (allowed.has(v)) return v;
      if (text && typeof v === 'string') {
        const hit = byText.get(v) ?? (hasNonString ? byText.get(v.trim().toLowerCase()) : undefined);
        if (hit !== undefined) return hit;
        if (hasNonString) {
          const n = parseDecimal(v.trim());
          if (n !== undefined && allowed.has(n)) return n;
        }
      }
      return fail(noun);
    },
  };
}

function unionNode(branches: readonly Node[], where: string): Node {
  if (branches.length === 0) throw new Error(`compileCoercer: empty union at ${where}`);
  if (branches.length === 1) return branches[0] as Node;
  // A union of literals (an enum, possibly nullable) is one set lookup with one message.
  if (branches.every((b) => b.literals)) return literalNode(branches.flatMap((b) => b.literals ?? []));
  const nouns = branches.map((b) => b.listNoun);
  const noun = `${nouns.slice(0, -1).join(', ')} or ${nouns[nouns.length - 1]}`;
  return {
    noun,
    listNoun: noun,
    step: (v, text) => {
      let telling: Failure | undefined;
      for (const branch of branches) {
        const result = branch.step(v, text);
        if (!(result instanceof Failure)) return result;
        if (!telling && result.specific) telling = result;
      }
      return telling ?? fail(noun);
    },
  };
}

interface Property {
  readonly key: string;
  readonly node: Node;
  readonly required: boolean;
  readonly hasDefault: boolean;
  readonly defaultValue: unknown;
}

interface Pattern {
  /** undefined: every key (TypeBox's String key, '^.*$', which would otherwise miss keys with newlines). */
  readonly re: RegExp | undefined;
  readonly node: Node;
}

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});

function objectNode(schema: JsonSchema, where: string): Node {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const props: Property[] = Object.keys(properties).map((key) => {
    const sub = properties[key] as JsonSchema;
    return {
      key,
      node: compile(sub, `${where}/properties/${key}`),
      required: required.has(key),
      hasDefault: 'default' in sub,
      defaultValue: sub.default,
    };
  });
  const known = new Set(props.map((p) => p.key));
  const patternSchemas = (schema.patternProperties ?? {}) as Record<string, JsonSchema>;
  const patterns: Pattern[] = Object.keys(patternSchemas).map((source) => ({
    re: source === '^.*$' || source === '.*' || source === '' ? undefined : toRegExp(source),
    node: compile(patternSchemas[source] as JsonSchema, `${where}/patternProperties/${source}`),
  }));
  const additional = schema.additionalProperties;
  const refuseOthers = additional === false;
  const otherNode =
    additional !== undefined && typeof additional === 'object' && additional !== null
      ? compile(additional as JsonSchema, `${where}/additionalProperties`)
      : undefined;
  // Open objects with no patterns never look at the input's own keys: unknown ones are just not copied.
  const scanKeys = refuseOthers || patterns.length > 0 || otherNode !== undefined;
  const allowed = props.length > 0 ? props.map((p) => p.key).join(', ') : '(none)';
  const noun = 'an object';

  const patternFor = (key: string): Node | undefined => {
    for (const p of patterns) if (p.re === undefined || p.re.test(key)) return p.node;
    return undefined;
  };

  return {
    noun,
    listNoun: noun,
    step: (v, text) => {
      const value = text && v === '' ? EMPTY : v;
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail(noun);
      const input = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      // Unknown names first: a misspelt name is a better report than the "required" it causes.
      if (refuseOthers) {
        for (const key of Object.keys(input)) {
          if (!known.has(key) && patternFor(key) === undefined) {
            const failure = new Failure('unknown name', true, allowed);
            failure.segments.push(key);
            return failure;
          }
        }
      }
      for (const prop of props) {
        const raw = Object.hasOwn(input, prop.key) ? input[prop.key] : undefined;
        if (raw === undefined) {
          if (prop.required) {
            const failure = new Failure('required', true);
            failure.segments.push(prop.key);
            return failure;
          }
          if (prop.hasDefault) setOwn(out, prop.key, copyDefault(prop.defaultValue));
          continue;
        }
        const result = prop.node.step(raw, text);
        if (result instanceof Failure) return deeper(result, prop.key);
        setOwn(out, prop.key, result);
      }
      if (scanKeys) {
        for (const key of Object.keys(input)) {
          if (known.has(key)) continue;
          const node = patternFor(key) ?? otherNode;
          if (!node) continue;
          const raw = input[key];
          if (raw === undefined) continue;
          const result = node.step(raw, text);
          if (result instanceof Failure) return deeper(result, key);
          setOwn(out, key, result);
        }
      }
      return out;
    },
  };
}

function arrayNode(schema: JsonSchema, where: string): Node {
  if (Array.isArray(schema.items))
    throw new Error(`compileCoercer: tuple arrays are unsupported at ${where}`);
  const items =
    schema.items !== undefined && typeof schema.items === 'object'
      ? compile(schema.items as JsonSchema, `${where}/items`)
      : undefined;
  const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
  const max = typeof schema.maxItems === 'number' ? schema.maxItems : Number.POSITIVE_INFINITY;
  const noun = `an array${countText(min, max, 'item')}`;
  return {
    noun,
    listNoun: noun,
    step: (v, text) => {
      let input: readonly unknown[];
      if (Array.isArray(v)) input = v;
      else if (text && v === '') input = [];
      // XML cannot tell one repeated element from a single one: a lone value is a one-item list.
      else if (text && v !== null && v !== undefined) input = [v];
      else return fail(noun);
      if (input.length < min || input.length > max) return fail(noun, true);
      if (!items) return input.slice();
      const out = new Array<unknown>(input.length);
      for (let i = 0; i < input.length; i++) {
        const result = items.step(input[i], text);
        if (result instanceof Failure) return deeper(result, i);
        out[i] = result;
      }
      return out;
    },
  };
}

function stringNode(schema: JsonSchema): Node {
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Number.POSITIVE_INFINITY;
  const pattern = typeof schema.pattern === 'string' ? toRegExp(schema.pattern) : undefined;
  let noun: string;
  if (min === 1 && max === Number.POSITIVE_INFINITY) noun = 'a non-empty string';
  else noun = `a string${countText(min, max, 'character')}`;
  if (pattern) noun += ` matching ${schema.pattern as string}`;
  return {
    noun,
    listNoun: noun,
    step: (v) => {
      if (typeof v !== 'string') return fail(noun);
      // The code-point count lies between half the UTF-16 length and the length, so most strings
      // are settled without counting.
      const units = v.length;
      if (units > max || (units + 1) >> 1 < min) {
        const length = codePoints(v);
        if (length > max || length < min) return fail(noun, true);
      }
      if (pattern && !pattern.test(v)) return fail(noun, true);
      if (UNSTORABLE.test(v)) return fail(STORABLE_TEXT, true);
      return v;
    },
  };
}

const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_TEXT = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function numberNode(schema: JsonSchema, integer: boolean): Node {
  const num = (k: string) => (typeof schema[k] === 'number' ? (schema[k] as number) : undefined);
  const minimum = num('minimum');
  const maximum = num('maximum');
  const exclusiveMinimum = num('exclusiveMinimum');
  const exclusiveMaximum = num('exclusiveMaximum');
  const bounded =
    minimum !== undefined ||
    maximum !== undefined ||
    exclusiveMinimum !== undefined ||
    exclusiveMaximum !== undefined;
  const kind = integer ? 'an integer' : 'a number';
  const noun = kind + rangeText(minimum, maximum, exclusiveMinimum, exclusiveMaximum);
  // Integers beyond 2^53 − 1 lose precision; without bounds of its own the schema gets these.
  const unsafeNoun = bounded
    ? noun
    : `${kind} from ${-Number.MAX_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}`;
  const inRange = (n: number): boolean =>
    (minimum === undefined || n >= minimum) &&
    (maximum === undefined || n <= maximum) &&
    (exclusiveMinimum === undefined || n > exclusiveMinimum) &&
    (exclusiveMaximum === undefined || n < exclusiveMaximum);
  return {
    noun,
    listNoun: noun,
    step: (v, text) => {
      let n: number;
      if (typeof v === 'number') {
        n = v;
      } else if (typeof v === 'string' && (text || integer)) {
        // XML text may carry indentation around a number; JSON digit strings must be exact.
        const s = text ? v.trim() : v;
        if (integer) {
          if (!INTEGER_TEXT.test(s)) return fail(noun);
        } else if (!DECIMAL_TEXT.test(s)) {
          return fail(noun);
        }
        n = Number(s);
      } else {
        return fail(noun);
      }
      if (!Number.isFinite(n)) return fail(noun, true);
      if (integer) {
        if (!Number.isInteger(n)) return fail(noun);
        if (!Number.isSafeInteger(n)) return fail(unsafeNoun, true);
      }
      if (!inRange(n)) return fail(noun, true);
      // -0 is not a value anyone means to send.
      return n === 0 ? 0 : n;
    },
  };
}

function booleanNode(): Node {
  return {
    noun: 'true or false',
    listNoun: 'a boolean',
    step: (v, text) => {
      if (typeof v === 'boolean') return v;
      if (text && typeof v === 'string') {
        const s = v.trim().toLowerCase();
        if (s === 'true' || s === '1') return true;
        if (s === 'false' || s === '0') return false;
      }
      return fail('true or false');
    },
  };
}

// --- text every engine can store ----------------------------------------------------------------

/**
 * U+0000, or a UTF-16 surrogate that is not half of a pair: PostgreSQL cannot store either (text,
 * jsonb) while SQLite can, so both refuse them here, naming the parameter, for one answer on both.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is what it looks for
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const STORABLE_TEXT = 'text without U+0000 or lone surrogates';

/** Whether a string has neither U+0000 nor a lone surrogate (what every string schema checks). */
export function isStorableText(s: string): boolean {
  return !UNSTORABLE.test(s);
}

/** The first unstorable string (or name) inside a free value (a json field), as a Failure with its path. */
function unstorableIn(value: unknown): Failure | undefined {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? fail(STORABLE_TEXT, true) : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorableIn(value[i]);
      if (found) return deeper(found, i);
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (UNSTORABLE.test(key)) return fail(`${STORABLE_TEXT}, in names too`, true);
      const found = unstorableIn(item);
      if (found) return deeper(found, key);
    }
  }
  return undefined;
}

// --- helpers -------------------------------------------------------------------------------------

function deeper(failure: Failure, segment: string | number): Failure {
  failure.segments.push(segment);
  failure.specific = true;
  return failure;
}

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

function copyDefault(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? structuredClone(value) : value;
}

function toRegExp(source: string): RegExp {
  // JSON Schema patterns are ECMA-262 with Unicode semantics; some older patterns only compile without.
  try {
    return new RegExp(source, 'u');
  } catch {
    return new RegExp(source);
  }
}

function parseDecimal(s: string): number | undefined {
  if (!DECIMAL_TEXT.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

function codePoints(s: string): number {
  let count = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

function countText(min: number, max: number, unit: string): string {
  const plural = (n: number) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (max === Number.POSITIVE_INFINITY) return min > 0 ? ` of at least ${plural(min)}` : '';
  if (min === max) return ` of exactly ${plural(max)}`;
  if (min > 0) return ` of ${min} to ${plural(max)}`;
  return ` of at most ${plural(max)}`;
}

function rangeText(
  minimum: number | undefined,
  maximum: number | undefined,
  exclusiveMinimum: number | undefined,
  exclusiveMaximum: number | undefined,
): string {
  if (
    minimum !== undefined &&
    maximum !== undefined &&
    exclusiveMinimum === undefined &&
    exclusiveMaximum === undefined
  ) {
    return ` from ${minimum} to ${maximum}`;
  }
  const parts: string[] = [];
  if (exclusiveMinimum !== undefined) parts.push(`greater than ${exclusiveMinimum}`);
  if (minimum !== undefined) parts.push(`of at least ${minimum}`);
  if (exclusiveMaximum !== undefined) parts.push(`less than ${exclusiveMaximum}`);
  if (maximum !== undefined) parts.push(`of at most ${maximum}`);
  return parts.length > 0 ? ` ${parts.join(' and ')}` : '';
}
