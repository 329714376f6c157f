// Tests of body decoding (SPEC §1): content types, sniffing, empty bodies, the top-level object rule.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { TiesError } from '../../core/errors.js';
import { decodeBody, sniffFormat } from './body-decoder.js';

const opts = { maxDepth: 32 };

function fails(fn: () => unknown, code: string, reason: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TiesError, `expected a TiesError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(String(err.details.reason), reason);
    return true;
  });
}

test('JSON content types, with any charset and +json suffixes, decode as JSON', () => {
  for (const type of [
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON;charset=windows-1251',
    'application/vnd.api+json',
  ]) {
    assert.deepEqual(decodeBody(Buffer.from('{"rel_id":3}'), type, opts), {
      format: 'json',
      value: { rel_id: 3 },
    });
  }
  // The declared type wins over the body's look.
  fails(() => decodeBody('<xml/>', 'application/json', opts), 'BAD_BODY', /malformed JSON/);
});

test('XML content types decode as XML, values as text', () => {
  for (const type of ['application/xml', 'text/xml; charset=UTF-8', 'application/soap+xml']) {
    assert.deepEqual(decodeBody(Buffer.from('<xml><rel_id>3</rel_id></xml>'), type, opts), {
      format: 'xml',
      value: { rel_id: '3' },
    });
  }
});

test('without a telling content type the first non-blank character decides', () => {
  for (const type of [undefined, '', 'application/x-www-form-urlencoded', 'text/plain; charset=utf-8']) {
    assert.deepEqual(decodeBody(' \n{"a":1}', type, opts), { format: 'json', value: { a: 1 } });
    assert.deepEqual(decodeBody('\n<xml><a>1</a></xml>', type, opts), { format: 'xml', value: { a: '1' } });
    fails(() => decodeBody('a=1&b=2', type, opts), 'UNSUPPORTED_MEDIA_TYPE', /^body must be JSON or XML$/);
  }
});

test('any other content type is 415 naming it', () => {
  fails(() => decodeBody('{"a":1}', 'text/html', opts), 'UNSUPPORTED_MEDIA_TYPE', /text\/html/);
  fails(
    () => decodeBody(undefined, 'multipart/form-data; boundary=x', opts),
    'UNSUPPORTED_MEDIA_TYPE',
    /multipart/,
  );
});

test('an empty or blank body is an empty object, XML only when the type says so', () => {
  assert.deepEqual(decodeBody(undefined, undefined, opts), { format: 'json', value: {} });
  assert.deepEqual(decodeBody(Buffer.alloc(0), 'application/json', opts), { format: 'json', value: {} });
  assert.deepEqual(decodeBody(' \r\n\t', 'text/xml', opts), { format: 'xml', value: {} });
  assert.deepEqual(decodeBody('', 'text/plain', opts), { format: 'json', value: {} });
});

test('a UTF-8 BOM is skipped and bytes are read as UTF-8', () => {
  const bom = Buffer.from([0xef, 0xbb, 0xbf]);
  assert.deepEqual(decodeBody(Buffer.concat([bom, Buffer.from('{"n":"Жора"}')]), undefined, opts).value, {
    n: 'Жора',
  });
  assert.deepEqual(
    decodeBody(
      Buffer.concat([bom, Buffer.from('<?xml version="1.0"?><xml><n>Жора</n></xml>')]),
      'application/xml',
      opts,
    ).value,
    { n: 'Жора' },
  );
});

test('blank lines before an XML declaration are forgiven', () => {
  assert.deepEqual(decodeBody('\n\n   <?xml version="1.0"?><xml><a>1</a></xml>', 'text/xml', opts).value, {
    a: '1',
  });
});

test('the top level must be an object', () => {
  for (const text of ['[1]', '3', '"x"', 'null', 'true']) {
    fails(() => decodeBody(text, 'application/json', opts), 'BAD_BODY', /^top level must be an object$/);
  }
  fails(
    () => decodeBody('<xml>text</xml>', 'application/xml', opts),
    'BAD_BODY',
    /top level must be an object/,
  );
  fails(
    () => decodeBody('<xml nil="true"/>', 'application/xml', opts),
    'BAD_BODY',
    /top level must be an object/,
  );
  assert.deepEqual(decodeBody('<xml/>', 'application/xml', opts).value, {});
});

test('the depth limit reaches both decoders', () => {
  fails(() => decodeBody('{"a":{"b":{}}}', undefined, { maxDepth: 2 }), 'BAD_BODY', /nesting deeper than 2/);
  fails(() => decodeBody('<xml><a><b><c/></b></a></xml>', undefined, { maxDepth: 2 }), 'BAD_BODY', /nesting/);
});

test('sniffFormat tells the format without decoding, and undefined when it cannot', () => {
  assert.equal(sniffFormat(Buffer.from('not json at all'), 'application/json; charset=utf-8'), 'json');
  assert.equal(sniffFormat(undefined, 'text/xml'), 'xml');
  assert.equal(sniffFormat(Buffer.from('  {'), undefined), 'json');
  assert.equal(sniffFormat('\uFEFF<x', 'text/plain'), 'xml');
  assert.equal(sniffFormat('a=b', 'application/x-www-form-urlencoded'), undefined);
  assert.equal(sniffFormat('{}', 'text/html'), undefined);
  assert.equal(sniffFormat(undefined, undefined), undefined);
});

const contentType = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    'application/json',
    'text/xml',
    'text/plain',
    'application/x-www-form-urlencoded',
    'image/png',
    '',
  ),
  fc.string(),
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc.string(),
  fc.json(),
  fc.constantFrom('<xml><a>1</a></xml>', '{"a":1}', '<!DOCTYPE x><xml/>', '[', '<'),
);

test('property: decodeBody answers a format and an object, or throws a TiesError', () => {
  fc.assert(
    fc.property(body, contentType, (raw, type) => {
      try {
        const { format, value } = decodeBody(raw, type, { maxDepth: 4 });
        assert.ok(format === 'json' || format === 'xml');
        assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value));
      } catch (err) {
        assert.ok(err instanceof TiesError, String(err));
        assert.ok(err.code === 'BAD_BODY' || err.code === 'UNSUPPORTED_MEDIA_TYPE', err.code);
      }
    }),
    { numRuns: 500 },
  );
});

test('property: sniffFormat never throws and agrees with a successful decode', () => {
  fc.assert(
    fc.property(body, contentType, (raw, type) => {
      const sniffed = sniffFormat(raw, type);
      assert.ok(sniffed === undefined || sniffed === 'json' || sniffed === 'xml');
      let decoded: { format: string } | undefined;
      try {
        decoded = decodeBody(raw, type, opts);
      } catch {
        return;
      }
      if (sniffed !== undefined) assert.equal(sniffed, decoded.format);
    }),
    { numRuns: 500 },
  );
});
