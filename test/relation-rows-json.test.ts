// relations/get's rows written as JSON text must read back exactly as the objects the answer used
// to be built from: ids and hashes of both sides, the other database, props in the type's order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { profileXxh } from '../src/core/ids.js';
import type { RelationType, Weights } from '../src/core/model.js';
import { relationRowsJson } from '../src/core/relation-rows-json.js';
import type { RelationTuple } from '../src/core/store.js';

const prop = (name: string, type: 'int' | 'float' | 'bool' | 'string') => ({
  name,
  type,
  top: 0,
  sum: false,
});
const TYPE: RelationType = {
  relId: 7,
  name: 't',
  dbA: 3,
  dbB: 4,
  // `toString` and `constructor` are names an object lookup could find on Object.prototype.
  properties: [
    prop('hits', 'int'),
    prop('score', 'float'),
    prop('fan', 'bool'),
    prop('note', 'string'),
    prop('toString', 'int'),
    prop('constructor', 'string'),
  ],
  createdAt: '2026-01-01T00:00:00.000Z',
};

/** The answer rows as relations/get built them before: one object per row. */
function asObjects(rows: readonly RelationTuple[], side: 'a' | 'b', own: string) {
  return rows.map(([other, text]) => {
    const weights = JSON.parse(text) as Weights;
    const props: Record<string, { value: unknown }> = {};
    for (const { name } of TYPE.properties)
      if (Object.hasOwn(weights, name)) props[name] = { value: weights[name] };
    const a = side === 'a' ? own : other;
    const b = side === 'a' ? other : own;
    return {
      profile_id_a: a,
      xxh_a: profileXxh(a),
      profile_id_b: b,
      xxh_b: profileXxh(b),
      ...(side === 'a' ? { db_b: TYPE.dbB } : { db_a: TYPE.dbA }),
      props,
    };
  });
}

const id = fc.stringMatching(/^[0-9a-f]{24}$/);
const weights = fc.record(
  {
    hits: fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
    score: fc.double({ noNaN: true, noDefaultInfinity: true }),
    fan: fc.boolean(),
    note: fc.string({ unit: 'binary' }),
    toString: fc.integer(),
    gone: fc.integer(),
  },
  { requiredKeys: [] },
);

test('rows written as text read back as the objects, on both sides, whatever the stored key order', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(id, weights), { maxLength: 8 }), id, (rows, own) => {
      const tuples: RelationTuple[] = rows.map(([other, w]) => [other, JSON.stringify(w)]);
      for (const side of ['a', 'b'] as const) {
        const text = relationRowsJson(tuples, TYPE, side, own);
        // Same values and the same key order: the JSON answer is byte for byte what it was.
        assert.equal(text.text, JSON.stringify(asObjects(tuples, side, own)));
        assert.deepEqual(text.value(), asObjects(tuples, side, own));
      }
    }),
  );
});

test('no rows are an empty array', () => {
  assert.equal(relationRowsJson([], TYPE, 'a', '0'.repeat(24)).text, '[]');
});
