// Tests of the JSON codec: parse errors, the depth limit, prototype safety and the encode/decode pair.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { TiesError } from '../../core/errors.js';
import { JsonText } from '../../core/json-text.js';
import { decodeJson, encodeJson } from './json-codec.js';

const opts = { maxDepth: 32 };

function badBody(fn: () => unknown, reason: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TiesError, `expected a TiesError, got ${String(err)}`);
    assert.equal(err.code, 'BAD_BODY');
    assert.match(String(err.details.reason), reason);
    return true;
  });
}

test('decodes JSON text into values', () => {
  assert.deepEqual(decodeJson('{"rel_id":3,"weights":{"donate":343,"is_online":true}}', opts), {
    rel_id: 3,
    weights: { donate: 343, is_online: true },
  });
});

test('malformed JSON is BAD_BODY with a short reason, never the whole input', () => {
  badBody(() => decodeJson('{"a":', opts), /^malformed JSON: /);
  const huge = `{"a":${'x'.repeat(1_000_000)}`;
  assert.throws(
    () => decodeJson(huge, opts),
    (err: unknown) =>
      err instanceof TiesError && err.message.length < 200 && !err.message.includes('x'.repeat(50)),
  );
});

test('nesting deeper than maxDepth is refused; the top-level object is level 1', () => {
  assert.deepEqual(decodeJson('{"a":{"b":[]}}', { maxDepth: 3 }), { a: { b: [] } });
  badBody(() => decodeJson('{"a":{"b":[{}]}}', { maxDepth: 3 }), /^nesting deeper than 3 levels$/);
});

test('brackets inside strings, escaped quotes included, do not count as nesting', () => {
  assert.deepEqual(decodeJson('{"a":"[[[{{{","b":"\\"[[[["}', { maxDepth: 1 }), { a: '[[[{{{', b: '"[[[[' });
});

test('500,000 opening brackets are refused without overflowing the stack', { timeout: 5000 }, () => {
  badBody(() => decodeJson('['.repeat(500_000), opts), /nesting deeper than 32 levels/);
  badBody(() => decodeJson(`${'['.repeat(500_000)}${']'.repeat(500_000)}`, opts), /nesting deeper/);
});

test('a __proto__ key is an own property and pollutes nothing', () => {
  const value = decodeJson(
    '{"__proto__":{"polluted":true},"a":{"__proto__":{"polluted":true}}}',
    opts,
  ) as Record<string, unknown>;
  assert.ok(Object.hasOwn(value, '__proto__'));
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('encodeJson writes JSON, and null for a value JSON cannot hold', () => {
  assert.equal(encodeJson({ error: 0, error_text: '' }), '{"error":0,"error_text":""}');
  assert.equal(encodeJson(undefined), 'null');
});

test('property: any text either decodes or fails with BAD_BODY', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.json(), fc.string({ unit: 'binary' })), (text) => {
      try {
        decodeJson(text, { maxDepth: 4 });
      } catch (err) {
        assert.ok(err instanceof TiesError && err.code === 'BAD_BODY', String(err));
      }
    }),
  );
});

test('property: decode(encode(v)) equals v for JSON values', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      assert.deepEqual(decodeJson(encodeJson(value), { maxDepth: 1000 }), JSON.parse(JSON.stringify(value)));
    }),
  );
});

test('a field already written as JSON text is spliced in: the answer is what its value would give', () => {
  const rows = [{ profile_id_a: 'x', props: { hits: { value: 3 } } }, { note: 'a"b\u2028' }];
  const envelope = {
    error: 0,
    error_text: 'Successful operation',
    data: new JsonText(JSON.stringify(rows)),
    gone: undefined,
    total_count: 2,
  };
  const plain = { error: 0, error_text: 'Successful operation', data: rows, total_count: 2 };
  assert.equal(encodeJson(envelope), JSON.stringify(plain));
  // Deeper down it is not spliced, but still encodes as its value.
  assert.equal(encodeJson({ outer: { data: new JsonText('[1,2]') } }), '{"outer":{"data":[1,2]}}');
});
