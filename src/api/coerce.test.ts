// Tests of schema-driven coercion: JSON types, XML text conversion, error paths and texts, safety.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type TSchema, Type } from 'typebox';
import { TiesError } from '../core/errors.js';
import { decodeXml, encodeXml } from '../http/codecs/xml-codec.js';
import { type CoerceMode, coerceParams, compileCoercer } from './coerce.js';

const Side = Type.Object(
  {
    matching: Type.Optional(
      Type.Union([Type.Literal('email'), Type.Literal('phone'), Type.Literal('profile_id')]),
    ),
    email: Type.Optional(Type.String({ maxLength: 255 })),
    profile_id: Type.Optional(Type.String({ pattern: '^[0-9a-f]{24}$' })),
    resource_id: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

const Field = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    type: Type.Union([
      Type.Literal('int'),
      Type.Literal('float'),
      Type.Literal('bool'),
      Type.Literal('string'),
    ]),
    top: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    sum: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const Params = Type.Object({
  rel_id: Type.Integer({ minimum: 1, maximum: 10000 }),
  profile_a: Side,
  weights: Type.Record(Type.String(), Type.Unknown()),
  fields: Type.Optional(Type.Array(Field, { maxItems: 10 })),
  ratio: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  note: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

const minimal = { rel_id: 3, profile_a: {}, weights: {} };

function coerceError(schema: TSchema, value: unknown, mode: CoerceMode = 'typed', path?: string): TiesError {
  try {
    coerceParams(schema, value, mode, path);
  } catch (err) {
    assert.ok(err instanceof TiesError, `expected a TiesError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected coerceParams to throw');
}

function badParam(value: unknown, param: string, expected: string, mode: CoerceMode = 'typed'): void {
  const err = coerceError(Params, value, mode);
  assert.equal(err.code, 'BAD_PARAMETER');
  assert.deepEqual(err.details, { param, expected });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}

// --- typed mode (JSON) ---------------------------------------------------------------------------

test('typed: valid parameters come out with their types, defaults filled in', () => {
  assert.deepEqual(
    coerceParams(
      Params,
      {
        rel_id: 3,
        profile_a: { profile_id: '5d63dbdb439e7306b596c5d0' },
        weights: { user_like: 2 },
        note: null,
      },
      'typed',
    ),
    {
      rel_id: 3,
      profile_a: { profile_id: '5d63dbdb439e7306b596c5d0' },
      weights: { user_like: 2 },
      note: null,
      limit: 100,
    },
  );
});

test('typed: an integer accepts a string of decimal digits, nothing looser', () => {
  assert.equal((coerceParams(Params, { ...minimal, rel_id: '3' }, 'typed') as { rel_id: number }).rel_id, 3);
  assert.equal((coerceParams(Params, { ...minimal, rel_id: 3.0 }, 'typed') as { rel_id: number }).rel_id, 3);
  for (const rel_id of ['3.5', ' 3', '+3', '1e3', '', true, 3.5, null, [3], { v: 3 }]) {
    badParam({ ...minimal, rel_id }, 'rel_id', 'expected an integer from 1 to 10000');
  }
  badParam({ ...minimal, rel_id: '10001' }, 'rel_id', 'expected an integer from 1 to 10000');
});

test('typed: integers beyond 2^53 − 1 are refused, never rounded', () => {
  const err = coerceError(Type.Object({ n: Type.Integer() }), { n: '9007199254740993' });
  assert.deepEqual(err.details, {
    param: 'n',
    expected: 'expected an integer from -9007199254740991 to 9007199254740991',
  });
  coerceError(Type.Object({ n: Type.Integer() }), { n: 2 ** 60 });
  assert.deepEqual(coerceParams(Type.Object({ n: Type.Integer() }), { n: '-9007199254740991' }, 'typed'), {
    n: -9007199254740991,
  });
});

test('typed: no other type changes: booleans, numbers and strings stay what they are', () => {
  badParam(
    { ...minimal, profile_a: { email: 5 } },
    'profile_a.email',
    'expected a string of at most 255 characters',
  );
  badParam({ ...minimal, ratio: '0.5' }, 'ratio', 'expected a number from 0 to 1');
  badParam({ ...minimal, ratio: true }, 'ratio', 'expected a number from 0 to 1');
  badParam(
    { ...minimal, fields: [{ name: 'a', type: 'int', sum: 'true' }] },
    'fields[0].sum',
    'expected true or false',
  );
  badParam(
    { ...minimal, fields: [{ name: 'a', type: 'int', sum: 1 }] },
    'fields[0].sum',
    'expected true or false',
  );
});

test('a missing required parameter is reported first, in schema order', () => {
  badParam({}, 'rel_id', 'required');
  badParam({ rel_id: 1 }, 'profile_a', 'required');
  badParam(
    { rel_id: 1, profile_a: {}, weights: {}, fields: [{ type: 'int' }] },
    'fields[0].name',
    'required',
  );
  badParam({ rel_id: 'x', profile_a: 3 }, 'rel_id', 'expected an integer from 1 to 10000');
});

test('errors name the dotted path and what was expected', () => {
  badParam(
    { ...minimal, profile_a: { matching: 'foo' } },
    'profile_a.matching',
    'expected one of email, phone, profile_id',
  );
  badParam(
    {
      ...minimal,
      fields: [
        { name: 'a', type: 'int' },
        { name: 'b', type: 'bool' },
        { name: 'c', type: 'date' },
      ],
    },
    'fields[2].type',
    'expected one of int, float, bool, string',
  );
  badParam(
    { ...minimal, fields: new Array(11).fill({ name: 'a', type: 'int' }) },
    'fields',
    'expected an array of at most 10 items',
  );
  badParam(
    { ...minimal, fields: [{ name: '', type: 'int' }] },
    'fields[0].name',
    'expected a string of 1 to 64 characters',
  );
  badParam({ ...minimal, profile_a: [] }, 'profile_a', 'expected an object');
  badParam(
    { ...minimal, profile_a: { profile_id: 'nope' } },
    'profile_a.profile_id',
    'expected a string matching ^[0-9a-f]{24}$',
  );
  badParam({ ...minimal, note: 3 }, 'note', 'expected a string or null');
  badParam(
    { ...minimal, profile_a: { resource_id: 0 } },
    'profile_a.resource_id',
    'expected an integer of at least 1',
  );
});

test('a path prefix is put in front of every name; a failing root is the body', () => {
  const err = coerceError(Type.Object({ x: Type.Integer() }), { x: 'a' }, 'typed', 'weights');
  assert.equal(err.details.param, 'weights.x');
  assert.equal(err.message, 'weights.x: expected an integer');
  assert.deepEqual(coerceError(Params, 'nope').details, { param: 'body', expected: 'expected an object' });
});

test('unknown names in a closed object are UNKNOWN_PARAMETER listing the allowed ones', () => {
  const err = coerceError(Params, { ...minimal, profile_a: { emial: 'x@y' } });
  assert.equal(err.code, 'UNKNOWN_PARAMETER');
  assert.deepEqual(err.details, {
    param: 'profile_a.emial',
    allowed: 'matching, email, profile_id, resource_id',
  });
  // Reported before the problems the misspelling causes elsewhere in the same object.
  const first = coerceError(Params, { ...minimal, fields: [{ nmae: 'a', type: 'int' }] });
  assert.equal(first.code, 'UNKNOWN_PARAMETER');
  assert.equal(first.details.param, 'fields[0].nmae');
});

test('unknown names in an open object are dropped; a record keeps every key', () => {
  const out = coerceParams(Params, { ...minimal, skip_triggers: true, weights: { a: 1, b: 'x' } }, 'typed');
  assert.deepEqual(out, { ...minimal, weights: { a: 1, b: 'x' }, limit: 100 });
  const Patterned = Type.Record(Type.String({ pattern: '^[a-z]+$' }), Type.Integer());
  assert.deepEqual(coerceParams(Patterned, { abc: '1', B: 'x' }, 'typed'), { abc: 1 });
  assert.equal(coerceError(Patterned, { abc: 'x' }).details.param, 'abc');
});

test('unions: literals are enums, nullable values take null, other unions try each type in order', () => {
  const U = Type.Object({ v: Type.Union([Type.String({ maxLength: 3 }), Type.Integer(), Type.Boolean()]) });
  assert.deepEqual(coerceParams(U, { v: 3 }, 'typed'), { v: 3 });
  assert.deepEqual(coerceParams(U, { v: '3' }, 'typed'), { v: '3' });
  assert.deepEqual(coerceParams(U, { v: true }, 'typed'), { v: true });
  assert.deepEqual(coerceParams(U, { v: '3' }, 'text'), { v: '3' });
  // A value of the right type that breaks a constraint says which one.
  assert.equal(coerceError(U, { v: 'long' }).details.expected, 'expected a string of at most 3 characters');
  assert.equal(
    coerceError(U, { v: {} }).details.expected,
    'expected a string of at most 3 characters, an integer or a boolean',
  );
  const Deep = Type.Object({ v: Type.Union([Type.Object({ a: Type.Integer() }), Type.Null()]) });
  assert.equal(coerceError(Deep, { v: { a: 'x' } }).details.param, 'v.a');
  const Enum = Type.Object({ v: Type.Union([Type.Literal('a'), Type.Literal(2), Type.Null()]) });
  assert.deepEqual(coerceParams(Enum, { v: null }, 'typed'), { v: null });
  assert.deepEqual(coerceParams(Enum, { v: '2' }, 'text'), { v: 2 });
  assert.equal(coerceError(Enum, { v: '2' }).details.expected, 'expected one of a, 2, null');
});

test('strings are measured in characters, not UTF-16 units', () => {
  const S = Type.Object({ s: Type.String({ minLength: 2, maxLength: 3 }) });
  assert.deepEqual(coerceParams(S, { s: '😀😀😀' }, 'typed'), { s: '😀😀😀' });
  coerceError(S, { s: '😀😀😀😀' });
  coerceError(S, { s: '😀' });
  assert.equal(
    coerceError(Type.Object({ s: Type.String({ minLength: 1 }) }), { s: '' }).details.expected,
    'expected a non-empty string',
  );
});

// --- text mode (XML) -----------------------------------------------------------------------------

test('text: the seed request in XML coerces to the typed parameters', () => {
  const xml = decodeXml(
    '<xml><token>abc</token><rel_id>3</rel_id><profile_a><profile_id>5d63dbdb439e7306b596c5d0</profile_id></profile_a>' +
      '<weights><user_like>2</user_like><donate>343</donate><is_online>true</is_online></weights></xml>',
    { maxDepth: 32 },
  );
  assert.deepEqual(coerceParams(Params, xml, 'text'), {
    rel_id: 3,
    profile_a: { profile_id: '5d63dbdb439e7306b596c5d0' },
    // Weights stay text: their types come from the relation type's properties, not this schema.
    weights: { user_like: '2', donate: '343', is_online: 'true' },
    limit: 100,
  });
});

test('text: numbers and booleans are converted from text, surrounding whitespace allowed', () => {
  const out = coerceParams(
    Params,
    {
      rel_id: ' 42\n',
      profile_a: '',
      weights: '',
      ratio: '5e-1',
      fields: { name: 'a', type: 'int', top: '7', sum: 'TRUE' },
    },
    'text',
  );
  assert.deepEqual(out, {
    rel_id: 42,
    profile_a: {},
    weights: {},
    ratio: 0.5,
    fields: [{ name: 'a', type: 'int', top: 7, sum: true }],
    limit: 100,
  });
  for (const [text, want] of [
    ['0', false],
    ['1', true],
    ['false', false],
    ['True', true],
  ] as const) {
    const r = coerceParams(Field, { name: 'a', type: 'int', sum: text }, 'text') as { sum: boolean };
    assert.equal(r.sum, want);
  }
});

test('text: empty elements are empty strings, objects and arrays, and 400 for numbers and booleans', () => {
  assert.deepEqual(coerceParams(Params, { ...minimal, rel_id: '1', fields: '', note: '' }, 'text'), {
    rel_id: 1,
    profile_a: {},
    weights: {},
    fields: [],
    note: '',
    limit: 100,
  });
  badParam({ ...minimal, rel_id: '' }, 'rel_id', 'expected an integer from 1 to 10000', 'text');
  badParam({ ...minimal, rel_id: '1', ratio: '' }, 'ratio', 'expected a number from 0 to 1', 'text');
  badParam(
    { ...minimal, rel_id: '1', fields: { name: 'a', type: 'int', sum: '' } },
    'fields[0].sum',
    'expected true or false',
    'text',
  );
  badParam(
    { ...minimal, rel_id: '1', fields: { name: 'a', type: 'int', sum: 'yes' } },
    'fields[0].sum',
    'expected true or false',
    'text',
  );
  badParam({ ...minimal, rel_id: '1.5' }, 'rel_id', 'expected an integer from 1 to 10000', 'text');
});

test('text: null (nil="true") is accepted only where the schema allows it', () => {
  assert.equal(
    (coerceParams(Params, { ...minimal, rel_id: '1', note: null }, 'text') as { note: unknown }).note,
    null,
  );
  badParam({ ...minimal, rel_id: null }, 'rel_id', 'expected an integer from 1 to 10000', 'text');
  badParam({ ...minimal, rel_id: '1', profile_a: null }, 'profile_a', 'expected an object', 'text');
});

test('text: a repeated element is an array; where an array is not expected it is refused', () => {
  assert.deepEqual(
    (
      coerceParams(
        Params,
        {
          ...minimal,
          rel_id: '1',
          fields: [
            { name: 'a', type: 'int' },
            { name: 'b', type: 'bool' },
          ],
        },
        'text',
      ) as {
        fields: unknown;
      }
    ).fields,
    [
      { name: 'a', type: 'int' },
      { name: 'b', type: 'bool' },
    ],
  );
  badParam({ ...minimal, rel_id: ['1', '2'] }, 'rel_id', 'expected an integer from 1 to 10000', 'text');
});

// --- safety --------------------------------------------------------------------------------------

test('the output is fresh, the input untouched, and __proto__ keys never reach a prototype', () => {
  const input = deepFreeze(
    JSON.parse(
      '{"rel_id":"3","profile_a":{},"weights":{"__proto__":{"polluted":1},"constructor":2},"__proto__":{"x":1}}',
    ),
  );
  const out = coerceParams(Params, input, 'typed') as Record<string, unknown>;
  assert.notEqual(out, input);
  assert.notEqual(out.profile_a, input.profile_a);
  const weights = out.weights as Record<string, unknown>;
  assert.deepEqual(Object.getOwnPropertyDescriptor(weights, '__proto__')?.value, { polluted: 1 });
  assert.equal(weights.constructor, 2);
  assert.equal(Object.getPrototypeOf(weights), Object.prototype);
  assert.equal(Object.hasOwn(out, '__proto__'), false);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  const closed = coerceError(Params, JSON.parse('{"rel_id":1,"weights":{},"profile_a":{"__proto__":{}}}'));
  assert.equal(closed.code, 'UNKNOWN_PARAMETER');
});

test('defaults are copies, and an unknown schema passes its value through as is', () => {
  const D = Type.Object({ tags: Type.Optional(Type.Array(Type.String(), { default: [] })) });
  const a = coerceParams(D, {}, 'typed') as { tags: string[] };
  a.tags.push('x');
  assert.deepEqual(coerceParams(D, {}, 'typed'), { tags: [] });
  const raw = { deep: [1, { a: 2 }] };
  assert.equal(
    (coerceParams(Type.Object({ v: Type.Unknown() }), { v: raw }, 'typed') as { v: unknown }).v,
    raw,
  );
});

test('compileCoercer gives the same results, and refuses schemas it cannot honour', () => {
  const coerce = compileCoercer(Params);
  assert.deepEqual(coerce({ ...minimal, rel_id: '7' }, 'typed'), { ...minimal, rel_id: 7, limit: 100 });
  assert.throws(
    () => coerce({}, 'text', 'p'),
    (err: unknown) => err instanceof TiesError && err.details.param === 'p.rel_id',
  );
  assert.throws(
    () =>
      compileCoercer(Type.Intersect([Type.Object({ a: Type.String() }), Type.Object({ b: Type.String() })])),
    /unsupported keyword allOf/,
  );
});

// --- properties ----------------------------------------------------------------------------------

test('property: any value either coerces or fails with a TiesError, leaving the input untouched', () => {
  const nearly = fc.record(
    {
      rel_id: fc.oneof(fc.integer(), fc.string(), fc.anything()),
      profile_a: fc.oneof(
        fc.dictionary(fc.constantFrom('email', 'matching', 'x', '__proto__'), fc.anything()),
        fc.anything(),
      ),
      weights: fc.anything(),
      fields: fc.oneof(
        fc.array(fc.dictionary(fc.constantFrom('name', 'type', 'top', 'sum'), fc.anything())),
        fc.anything(),
      ),
      ratio: fc.oneof(fc.double(), fc.string()),
      note: fc.anything(),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(
      fc.oneof(nearly, fc.anything()),
      fc.constantFrom<CoerceMode>('typed', 'text'),
      (value, mode) => {
        deepFreeze(value);
        try {
          const out = coerceParams(Params, value, mode);
          // Coercing a result again changes nothing.
          assert.deepEqual(coerceParams(Params, out, 'typed'), out);
        } catch (err) {
          assert.ok(err instanceof TiesError, String(err));
          assert.ok(err.code === 'BAD_PARAMETER' || err.code === 'UNKNOWN_PARAMETER', err.code);
        }
      },
    ),
    { numRuns: 500 },
  );
});

const xmlName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);
const validParams = fc.record(
  {
    rel_id: fc.integer({ min: 1, max: 10000 }),
    profile_a: fc.record(
      {
        matching: fc.constantFrom('email', 'phone', 'profile_id'),
        email: fc.string({ maxLength: 255 }),
        profile_id: fc.stringMatching(/^[0-9a-f]{24}$/),
        resource_id: fc.integer({ min: 1 }),
      },
      { requiredKeys: [] },
    ),
    weights: fc.dictionary(xmlName, fc.string()),
    fields: fc.array(
      fc.record(
        {
          name: fc.string({ minLength: 1, maxLength: 64 }),
          type: fc.constantFrom('int', 'float', 'bool', 'string'),
          top: fc.integer({ min: 0, max: 100 }),
          sum: fc.boolean(),
        },
        { requiredKeys: ['name', 'type'] },
      ),
      { maxLength: 10 },
    ),
    ratio: fc.double({ min: 0, max: 1, noNaN: true }),
    note: fc.option(fc.string(), { nil: null }),
    limit: fc.integer({ min: 1, max: 1000 }),
  },
  { requiredKeys: ['rel_id', 'profile_a', 'weights'] },
);

test('property: parameters sent as XML coerce to what the same parameters give as JSON', () => {
  fc.assert(
    fc.property(validParams, (params) => {
      const typed = coerceParams(Params, params, 'typed');
      const text = coerceParams(Params, decodeXml(encodeXml(params), { maxDepth: 32 }), 'text');
      assert.deepEqual(text, typed);
    }),
    { numRuns: 300 },
  );
});
