// Tests of the answer format choice (SPEC §1): format parameter, then Accept, then the request's format.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { BodyFormat } from './codecs/body-decoder.js';
import { answerFormat } from './negotiate.js';

const base = { requestFormat: undefined, bodyFormat: undefined, queryFormat: undefined, accept: undefined };

test('the request format is the default, and JSON when it is unknown', () => {
  assert.equal(answerFormat({ ...base, requestFormat: 'xml' }), 'xml');
  assert.equal(answerFormat({ ...base, requestFormat: 'json' }), 'json');
  assert.equal(answerFormat(base), 'json');
});

test('a format parameter wins, case-insensitively, the body before the query', () => {
  assert.equal(
    answerFormat({ ...base, requestFormat: 'json', bodyFormat: 'XML', accept: 'application/json' }),
    'xml',
  );
  assert.equal(answerFormat({ ...base, requestFormat: 'xml', queryFormat: 'json' }), 'json');
  assert.equal(answerFormat({ ...base, bodyFormat: 'json', queryFormat: 'xml' }), 'json');
  assert.equal(answerFormat({ ...base, queryFormat: ['yaml', 'xml'] }), 'xml');
});

test('a format parameter that is not json or xml is ignored', () => {
  assert.equal(answerFormat({ ...base, requestFormat: 'xml', bodyFormat: 'yaml' }), 'xml');
  assert.equal(
    answerFormat({ ...base, requestFormat: 'xml', bodyFormat: { x: 1 }, queryFormat: 'json' }),
    'json',
  );
  assert.equal(answerFormat({ ...base, requestFormat: 'json', bodyFormat: 1 }), 'json');
});

test('an Accept header naming one format overrides the request format', () => {
  const cases: [BodyFormat | undefined, string, BodyFormat][] = [
    ['json', 'application/xml', 'xml'],
    ['json', 'text/xml', 'xml'],
    ['xml', 'application/json', 'json'],
    [undefined, 'application/xml', 'xml'],
    ['json', 'text/html, application/xml;q=0.9, */*;q=0.8', 'xml'],
    ['xml', 'application/xml;q=0.5, application/json;q=0.8', 'json'],
    ['json', 'application/json;q=0.1, application/xml;q=0.2', 'xml'],
    ['xml', 'application/xml;q=0, */*', 'json'],
  ];
  for (const [requestFormat, accept, want] of cases) {
    assert.equal(answerFormat({ ...base, requestFormat, accept }), want, `${requestFormat} + ${accept}`);
  }
});

test('wildcards, unknown types and ties keep the request format', () => {
  const cases: [BodyFormat | undefined, string, BodyFormat][] = [
    ['xml', '*/*', 'xml'],
    ['xml', 'application/*', 'xml'],
    ['json', 'text/html', 'json'],
    ['xml', 'application/json, text/plain, */*', 'xml'],
    ['json', 'application/json, application/xml', 'json'],
    ['xml', 'application/json, application/xml', 'xml'],
    [undefined, 'application/json, application/xml', 'json'],
    ['xml', '', 'xml'],
    ['xml', 'application/json;q=banana', 'xml'],
  ];
  for (const [requestFormat, accept, want] of cases) {
    assert.equal(answerFormat({ ...base, requestFormat, accept }), want, `${requestFormat} + ${accept}`);
  }
});

test('property: never throws and always answers json or xml', () => {
  fc.assert(
    fc.property(
      fc.constantFrom<BodyFormat | undefined>('json', 'xml', undefined),
      fc.anything(),
      fc.anything(),
      fc.oneof(
        fc.constant(undefined),
        fc.string(),
        fc.array(fc.string()).map((parts) => parts.join(', ')),
      ),
      (requestFormat, bodyFormat, queryFormat, accept) => {
        const format = answerFormat({ requestFormat, bodyFormat, queryFormat, accept });
        assert.ok(format === 'json' || format === 'xml');
      },
    ),
  );
});
