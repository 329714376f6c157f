// Tests of the XML codec: the SPEC §1 shape, refusals of hostile documents, and the encode/decode round trip.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { TiesError } from '../../core/errors.js';
import { JsonText } from '../../core/json-text.js';
import { decodeXml, encodeXml } from './xml-codec.js';

const opts = { maxDepth: 32 };
const decode = (text: string) => decodeXml(text, opts);

function badBody(fn: () => unknown, reason: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TiesError, `expected a TiesError, got ${String(err)}`);
    assert.equal(err.code, 'BAD_BODY');
    assert.match(String(err.details.reason), reason);
    return true;
  });
}

const SEED = `<xml>
<token>abcdefghijklmnqrstuvwxyz</token>
<rel_id>3</rel_id>
<profile_a>
<profile_id>5d63dbdb439e7306b596c5d0</profile_id>
</profile_a>
<profile_b>
<profile_id>5d441038439e7363f3c26539</profile_id>
</profile_b>
<weights>
<user_like>2</user_like>
<donate>343</donate>
<is_online>true</is_online>
</weights>
</xml>`;

test('the seed request decodes to its fields, every scalar as text', () => {
  assert.deepEqual(decode(SEED), {
    token: 'abcdefghijklmnqrstuvwxyz',
    rel_id: '3',
    profile_a: { profile_id: '5d63dbdb439e7306b596c5d0' },
    profile_b: { profile_id: '5d441038439e7363f3c26539' },
    weights: { user_like: '2', donate: '343', is_online: 'true' },
  });
});

test('a prolog, comments and processing instructions are skipped', () => {
  const doc = '<?xml version="1.0" encoding="UTF-8"?>\n<!-- hi --><xml><?pi x?><a>1<!-- c --></a></xml>\n';
  assert.deepEqual(decode(doc), { a: '1' });
});

test('repeated elements become arrays, in document order', () => {
  assert.deepEqual(decode('<xml><ids>1</ids><x>0</x><ids>2</ids><ids>3</ids></xml>'), {
    ids: ['1', '2', '3'],
    x: '0',
  });
  assert.deepEqual(decode('<xml><f><n>a</n></f><f><n>b</n></f></xml>'), { f: [{ n: 'a' }, { n: 'b' }] });
});

test('empty elements are empty strings, nil="true" is null, the empty root is {}', () => {
  assert.deepEqual(decode('<xml><a/><b></b><c nil="true"/><d xsi:nil="true"></d><e nil="false"/></xml>'), {
    a: '',
    b: '',
    c: null,
    d: null,
    e: '',
  });
  assert.deepEqual(decode('<xml/>'), {});
  assert.deepEqual(decode('<xml>\n  \n</xml>'), {});
});

test('leaf text is kept as written unless it is only indentation; parents lose their indentation', () => {
  assert.deepEqual(decode('<xml>\n  <a>  x y  </a>\n  <b>\n   </b>\n  <c>\r\nline\r\n</c>\n</xml>'), {
    a: '  x y  ',
    b: '',
    c: '\nline\n',
  });
});

test('entities, character references and CDATA are decoded, CDATA whitespace kept', () => {
  assert.deepEqual(
    decode('<xml><a>&lt;&amp;&gt;&quot;&apos;&#65;&#x42;&#x1F600;</a><b><![CDATA[ <i>&amp; ]]></b></xml>'),
    {
      a: `<&>"'AB😀`,
      b: ' <i>&amp; ',
    },
  );
  assert.deepEqual(decode('<xml><a>&#32;</a></xml>'), { a: ' ' });
});

test('attributes other than nil are ignored', () => {
  assert.deepEqual(decode('<xml type="x"><a lang="en" b=\'2\'>v</a></xml>'), { a: 'v' });
});

test('__proto__ and constructor elements are own properties and pollute nothing', () => {
  const value = decode(
    '<xml><__proto__><polluted>1</polluted></__proto__><constructor>c</constructor></xml>',
  );
  assert.ok(Object.hasOwn(value, '__proto__'));
  assert.deepEqual(Object.getOwnPropertyDescriptor(value, '__proto__')?.value, { polluted: '1' });
  assert.equal(value.constructor, 'c');
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  const repeated = decode('<xml><__proto__>1</__proto__><__proto__>2</__proto__></xml>');
  assert.deepEqual(Object.getOwnPropertyDescriptor(repeated, '__proto__')?.value, ['1', '2']);
});

test('DOCTYPE and entity declarations are refused: billion laughs, external entities', () => {
  const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from(
    { length: 9 },
    (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`,
  ).join('')}]><xml><a>&lol9;</a></xml>`;
  badBody(() => decode(laughs), /^DOCTYPE and entity declarations are not allowed$/);
  badBody(() => decode('<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml>&x;</xml>'), /DOCTYPE/);
  badBody(() => decode('<!doctype xml><xml/>'), /DOCTYPE/);
  badBody(() => decode('<xml><!ENTITY x "y"></xml>'), /DOCTYPE/);
});

test('unknown entities and bare ampersands are refused', () => {
  badBody(() => decode('<xml><a>&foo;</a></xml>'), /unknown entity &foo;/);
  badBody(() => decode('<xml><a>a & b</a></xml>'), /./);
  badBody(() => decode('<xml><a>&#0;</a></xml>'), /./);
});

test('the root must be <xml>', () => {
  badBody(() => decode('<request><a>1</a></request>'), /^root element must be <xml>$/);
  badBody(() => decode('<XML/>'), /root element must be <xml>/);
});

test('malformed XML names the problem and its line', () => {
  badBody(() => decode('<xml>\n<a>1</b>\n</xml>'), /malformed XML: .*line 2/);
  badBody(() => decode('<xml><a>1</a>'), /malformed XML/);
  badBody(() => decode('<xml><a x=1/></xml>'), /./);
  badBody(() => decode('<xml/><xml/>'), /./);
  badBody(() => decode('<xml/>trailing'), /./);
  badBody(() => decode('<xml><a><!WHAT></a></xml>'), /./);
});

test('mixed content, nil with content and forbidden characters are refused', () => {
  badBody(() => decode('<xml><a>text<b>1</b></a></xml>'), /mixes text and child elements/);
  badBody(() => decode('<xml><a><b>1</b>tail</a></xml>'), /mixes text/);
  badBody(() => decode('<xml>text<a/></xml>'), /mixes text/);
  badBody(() => decode('<xml><a nil="true">x</a></xml>'), /nil/);
  badBody(() => decode('<xml><a>\u0001</a></xml>'), /U\+0001/);
});

test('nesting is counted below the root and refused beyond maxDepth', () => {
  assert.deepEqual(decodeXml('<xml><a><b>1</b></a></xml>', { maxDepth: 2 }), { a: { b: '1' } });
  badBody(
    () => decodeXml('<xml><a><b><c>1</c></b></a></xml>', { maxDepth: 2 }),
    /^nesting deeper than 2 levels$/,
  );
  badBody(() => decodeXml('<xml><a><b><c/></b></a></xml>', { maxDepth: 2 }), /nesting deeper/);
});

test('hostile documents are refused quickly: 10,000-deep nesting, 100,000 attributes', {
  timeout: 5000,
}, () => {
  badBody(() => decode(`<xml>${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}</xml>`), /nesting deeper/);
  badBody(() => decode(`<xml>${'<a>'.repeat(10_000)}`), /nesting deeper/);
  const attrs = Array.from({ length: 100_000 }, (_, i) => ` a${i}="x"`).join('');
  badBody(() => decode(`<xml><a${attrs}/></xml>`), /attributes/);
});

test('a 1 MiB document decodes', { timeout: 5000 }, () => {
  const item = '<item><name>hello &amp; world</name><v>12345</v></item>\n';
  const doc = `<xml>${item.repeat(Math.floor(1_048_576 / item.length) - 1)}</xml>`;
  const value = decode(doc) as { item: { name: string }[] };
  assert.equal(value.item.length, Math.floor(1_048_576 / item.length) - 1);
  assert.equal(value.item[0]?.name, 'hello & world');
});

test('encodeXml writes the prolog, the root and each field in order', () => {
  assert.equal(
    encodeXml({
      error: 0,
      error_text: 'Successful operation',
      ok: true,
      none: null,
      skipped: undefined,
      ids: [1, 2],
      empty: [],
      obj: { a: 'x', b: {} },
      rows: [{ id: 1 }, { id: 2 }],
    }),
    '<?xml version="1.0" encoding="UTF-8"?><xml><error>0</error><error_text>Successful operation</error_text>' +
      '<ok>true</ok><none nil="true"/><ids>1</ids><ids>2</ids><empty/><obj><a>x</a><b/></obj>' +
      '<rows><id>1</id></rows><rows><id>2</id></rows></xml>',
  );
});

test('encodeXml escapes markup, keeps CR, replaces characters XML cannot carry', () => {
  assert.equal(
    encodeXml({ t: 'a<b>&c\r\n\u0001\uFFFF\uD800😀' }),
    '<?xml version="1.0" encoding="UTF-8"?><xml><t>a&lt;b&gt;&amp;c&#13;\n\uFFFD\uFFFD\uFFFD😀</t></xml>',
  );
  assert.equal(encodeXml({ t: ' \n' }), '<?xml version="1.0" encoding="UTF-8"?><xml><t>&#32;&#10;</t></xml>');
});

test('encodeXml writes NaN as nil, like JSON, and dates as ISO strings', () => {
  assert.equal(
    encodeXml({ n: Number.NaN, d: new Date(0) }),
    '<?xml version="1.0" encoding="UTF-8"?><xml><n nil="true"/><d>1970-01-01T00:00:00.000Z</d></xml>',
  );
});

test('encodeXml throws a plain Error for a top-level name that is not an XML name', () => {
  for (const bad of [{ 'a b': 1 }, { '1a': 1 }]) {
    assert.throws(
      () => encodeXml(bad),
      (err: unknown) => err instanceof Error && !(err instanceof TiesError),
    );
  }
});

test('encodeXml answers a nested value XML cannot shape (a json field) as JSON text', () => {
  assert.equal(
    encodeXml({ a: { '<': 1 }, b: [[1, 2]], c: { ok: [{ x: 1 }] } }),
    '<?xml version="1.0" encoding="UTF-8"?><xml><a>{"&lt;":1}</a><b>[[1,2]]</b><c><ok><x>1</x></ok></c></xml>',
  );
});

// --- properties ----------------------------------------------------------------------------------

const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);
const scalar = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(' ', '\t\n', ' x ', '\r\n', '<&>]]>', '\uFFFE'),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);
const { value: xmlValue } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    scalar,
    tie('object'),
    fc.array(fc.oneof(scalar, tie('object')), { maxLength: 4 }),
  ),
  object: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
}));
const document = fc.dictionary(key, xmlValue, { maxKeys: 6 });

/** What XML keeps of a value: text for scalars, single-item arrays unwrapped, empty containers as ''. */
function expected(value: unknown): unknown {
  if (value === null) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') {
    const forbidden =
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters the encoder replaces
      /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
    return value.replace(forbidden, '\uFFFD');
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return '';
    if (value.length === 1) return expected(value[0]);
    return value.map(expected);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '';
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries)
    Object.defineProperty(out, k, { value: expected(v), enumerable: true, writable: true });
  return out;
}

test('property: decodeXml(encodeXml(v)) is v as text', () => {
  fc.assert(
    fc.property(document, (doc) => {
      const top = expected(doc);
      assert.deepEqual(decodeXml(encodeXml(doc), { maxDepth: 100 }), top === '' ? {} : top);
    }),
    { numRuns: 300 },
  );
});

const fragment = fc.constantFrom(
  '<xml>',
  '</xml>',
  '<a>',
  '</a>',
  '<a/>',
  '<b nil="true"/>',
  '<![CDATA[x]]>',
  '<!-- c -->',
  '&amp;',
  '&#65;',
  '&bad;',
  '&',
  '<',
  '>',
  '"',
  '<?xml version="1.0"?>',
  '<!DOCTYPE x>',
  'text',
  ' ',
  '\n',
  '<a x="1">',
  "<a x='>'>",
);

test('property: any text either decodes to an object or fails with BAD_BODY', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.array(fragment, { maxLength: 30 }).map((parts) => parts.join('')),
        fc.string(),
        document.map((d) => encodeXml(d).slice(0, -3)),
      ),
      (text) => {
        try {
          const value = decodeXml(text, { maxDepth: 3 });
          assert.equal(typeof value, 'object');
          assert.ok(value !== null && !Array.isArray(value));
        } catch (err) {
          assert.ok(err instanceof TiesError && err.code === 'BAD_BODY', String(err));
        }
      },
    ),
    { numRuns: 500 },
  );
});

test('a field written as JSON text answers the same XML as its value', () => {
  const rows = [
    { profile_id_a: 'x', props: { hits: { value: 3 }, note: { value: 'a<b' } } },
    { profile_id_a: 'y', props: {} },
  ];
  assert.equal(
    encodeXml({ error: 0, data: new JsonText(JSON.stringify(rows)), total_count: 2 }),
    encodeXml({ error: 0, data: rows, total_count: 2 }),
  );
  assert.equal(encodeXml({ data: new JsonText('[]') }), encodeXml({ data: [] }));
});
