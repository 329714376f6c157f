// Property-based fuzzing of every call through the real HTTP app on a real store: plausible bodies
// with random parameters replaced, removed or added (hostile numbers, NaN-like strings, unicode,
// deep nesting, long strings and lists, prototype keys), sent as JSON or XML. Every answer must be
// a well-formed envelope with error 0 or a client error; afterwards the store must be consistent.
// `npm test` runs 20 runs per call and engine from a fixed seed, so CI is reproducible; a long
// search sets TIES_FUZZ_RUNS (e.g. 2000) and gets a random seed; TIES_FUZZ_SEED replays a run.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { Value } from 'typebox/value';
import { CALLS, type CallDef } from '../../src/api/calls.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { addProfile, adminCall, byId, createWorkspace, type Workspace } from '../http/helpers.js';
import { testEngines } from '../support/engines.js';
import { ADMIN_TOKEN, type Harness, startHarness, toXml } from '../support/harness.js';
import { assertAggregatesMatchRows, assertEnvelope, type CallFn } from './support.js';

const RUNS = Number(process.env.TIES_FUZZ_RUNS ?? 20);
const SEED =
  process.env.TIES_FUZZ_SEED !== undefined
    ? Number(process.env.TIES_FUZZ_SEED)
    : process.env.TIES_FUZZ_RUNS === undefined
      ? 20_261_128
      : undefined;
/** A request that takes longer than this is reported as a hang (a watchdog, not a speed check). */
const HANG_MS = 20_000;
/**
 * Relation types made before the workspace, so that every number the fuzzer can produce that reads
 * as a small id (1, "+1", "0x10", …) names one of these, never a type the final checks rely on.
 */
const FILLER_TYPES = 16;

// --- hostile values -------------------------------------------------------------------------------

const LONG = 'x'.repeat(70_000);
const LONG_UNICODE = 'é𝔘'.repeat(25_000);
const JUST_OVER_STRING_LIMIT = 'y'.repeat(65_537);

function nest(levels: number): unknown {
  let value: unknown = 'x';
  for (let i = 0; i < levels; i++) value = { n: value };
  return value;
}

const nanLike = fc.constantFrom(
  'NaN',
  'Infinity',
  '-Infinity',
  '1e999',
  '-1e999',
  '-0',
  '0x10',
  '0b1',
  '0o7',
  ' 1',
  '1 ',
  '+1',
  '1.0',
  '1e0',
  '1_000',
  '١٢',
  '１６',
  '',
  ' ',
  '9007199254740993',
  '-9007199254740993',
  '99999999999999999999999999',
  'true',
  'null',
  'undefined',
  '[]',
  '{}',
  '0',
);

const hugeNumber = fc.constantFrom(
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER - 2,
  2 ** 63,
  2 ** 64,
  1e21,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.EPSILON,
  -0,
  0,
  -1,
  0.5,
  1.5,
  0.1 + 0.2,
);

const oddUnicode = fc.constantFrom(
  '\u0000',
  'a\u0000b',
  '\uD800',
  '\uDFFF',
  'a\uDC00b\uD83D',
  '\u202Eevil\u202C',
  'שלום',
  'مرحبا',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  '😀👍🏽👨‍👩‍👧',
  '\uFEFF',
  '\uFFFE\uFFFF',
  'e\u0301\u0301\u0301',
  '\u001B[31m',
  '<xml>&lt;</xml>',
  ']]>',
  '&amp;&#0;&#xD800;',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, meant literally
  '${x}',
  "'; DROP TABLE relations; --",
  '%00%ff',
  '\r\n\t',
);

const bigValue = fc.constantFrom<unknown>(
  LONG,
  LONG_UNICODE,
  JUST_OVER_STRING_LIMIT,
  Array.from({ length: 1001 }, (_, i) => `t${i}`),
  Array.from({ length: 5000 }, () => 1),
  Array.from({ length: 300 }, () => ({ a: [1, 2, { b: 'c' }] })),
  nest(31),
  nest(32),
  nest(33),
  nest(200),
);

const anyNumber = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 0 }),
  fc.integer({ min: 1_000_000, max: 2 ** 31 }),
  fc.double({ noNaN: true }).filter((d) => !(Number.isInteger(d) && d > 0 && d < 1_000_000)),
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: nanLike },
  { weight: 3, arbitrary: hugeNumber },
  { weight: 2, arbitrary: anyNumber },
  { weight: 3, arbitrary: oddUnicode },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(true, false, null, [], {}, [null], [[]], [{}], { '': '' }) },
  { weight: 2, arbitrary: bigValue },
  {
    weight: 2,
    arbitrary: fc.jsonValue({ maxDepth: 3 }).filter((v) => typeof v !== 'number' || !(v > 0 && v < 1e6)),
  },
);

const hostileName = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'valueOf',
    '',
    ' ',
    '$gt',
    'a.b',
    'a b',
    '0',
    'format',
    'matching',
    'weights',
    'ключ',
    '𝔘',
    'n'.repeat(300),
    'xml',
    'nil',
  ),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
);

// --- plans ----------------------------------------------------------------------------------------

type Mutation =
  | { readonly kind: 'delete'; readonly at: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: unknown }
  | { readonly kind: 'extra'; readonly at: number; readonly name: string; readonly value: unknown };

interface Plan {
  readonly format: 'json' | 'xml';
  readonly tokenIn: 'body' | 'header' | 'query';
  readonly accept: string | undefined;
  /** Chooses profiles, victims and names for the plausible body. */
  readonly picks: readonly number[];
  readonly weights: Record<string, unknown>;
  readonly mutations: readonly Mutation[];
}

const weightsArb = fc.record(
  {
    count: fc.oneof(fc.integer({ min: -1000, max: 1000 }), hugeNumber),
    amount: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    active: fc.boolean(),
    note: fc.string({ maxLength: 20 }),
    plain: fc.integer({ min: -5, max: 5 }),
  },
  { requiredKeys: [] },
);

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: hostileValue }),
  },
  fc.record({ kind: fc.constant('extra' as const), at: fc.nat(), name: hostileName, value: hostileValue }),
);

const planArb: fc.Arbitrary<Plan> = fc.record({
  format: fc.constantFrom('json' as const, 'xml' as const),
  tokenIn: fc.constantFrom('body' as const, 'body' as const, 'header' as const, 'query' as const),
  accept: fc.constantFrom(
    undefined,
    undefined,
    undefined,
    'application/json',
    'application/xml',
    '*/*',
    '\u00ff;q=x',
  ),
  picks: fc.array(fc.nat({ max: 1000 }), { minLength: 4, maxLength: 4 }),
  weights: weightsArb,
  mutations: fc.array(mutationArb, { minLength: 0, maxLength: 3 }),
});

/**
 * Paths of every key and list item of the body (`keys`), and of every object in it (`objects`, the
 * body itself as []), descending into lists of objects such as batch items.
 */
function objectPaths(value: unknown, prefix: string[] = []): { keys: string[][]; objects: string[][] } {
  const keys: string[][] = [];
  const objects: string[][] = [];
  const walk = (node: unknown, path: string[]) => {
    if (!node || typeof node !== 'object') return;
    if (!Array.isArray(node)) objects.push(path);
    for (const key of Object.keys(node)) {
      keys.push([...path, key]);
      walk((node as Record<string, unknown>)[key], [...path, key]);
    }
  };
  walk(value, prefix);
  return { keys, objects };
}

function parentOf(root: Record<string, unknown>, path: readonly string[]): Record<string, unknown> {
  let node = root;
  for (const key of path) node = node[key] as Record<string, unknown>;
  return node;
}

/** Sets an own property, even one named __proto__ (which JSON.stringify then writes like any key). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

function applyMutations(
  body: Record<string, unknown>,
  mutations: readonly Mutation[],
): Record<string, unknown> {
  const out = structuredClone(body);
  for (const m of mutations) {
    const { keys, objects } = objectPaths(out);
    if (m.kind === 'extra') {
      const path = objects[m.at % objects.length]!;
      setOwn(parentOf(out, path), m.name, structuredClone(m.value));
    } else if (keys.length > 0) {
      const path = keys[m.at % keys.length]!;
      const parent = parentOf(out, path.slice(0, -1));
      const key = path[path.length - 1]!;
      if (m.kind === 'delete') delete parent[key];
      // A copy: constants are shared between runs, and a later mutation may write into this one.
      else setOwn(parent, key, structuredClone(m.value));
    }
  }
  return out;
}

// --- corrupted bytes and hostile XML ---------------------------------------------------------------

type Corruption =
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Buffer }
  | { readonly kind: 'cut'; readonly at: number; readonly length: number }
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number };

const HOSTILE_BYTES = [
  [0x00],
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0x80],
  [0xef, 0xbb, 0xbf],
  ...[
    '<',
    '>',
    '&',
    '"',
    "'",
    '{',
    '}',
    '[',
    ']',
    '\\',
    ',',
    ':',
    ']]>',
    '<![CDATA[',
    '<!DOCTYPE x>',
    '&#0;',
    '&lol;',
    '<!--',
    '<?pi x?>',
    '\\u0000',
    '\\ud800',
    '1e999',
    '/>',
    '</xml>',
  ].map((t) => [...Buffer.from(t)]),
].map((b) => Buffer.from(b));

const corruptionArb: fc.Arbitrary<Corruption> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.constantFrom(...HOSTILE_BYTES),
    }),
  },
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
);

function corrupt(bytes: Buffer, c: Corruption): Buffer {
  if (bytes.length === 0) return c.kind === 'insert' ? c.bytes : bytes;
  const at = c.at % bytes.length;
  switch (c.kind) {
    case 'truncate':
      return bytes.subarray(0, at);
    case 'insert':
      return Buffer.concat([bytes.subarray(0, at), c.bytes, bytes.subarray(at)]);
    case 'cut':
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + c.length)]);
    case 'flip': {
      const copy = Buffer.from(bytes);
      copy[at] = copy[at]! ^ (1 << c.bit);
      return copy;
    }
  }
}

/** 'declared' stands for the body's own type; undefined sends no Content-Type at all. */
const CONTENT_TYPES = [
  'declared',
  'declared',
  undefined,
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/json; charset=utf-16',
  'application/xml; charset=iso-8859-1',
  'text/xml',
  'application/soap+xml',
  'image/png',
  'multipart/form-data; boundary=x',
  'application/json, application/xml',
  '',
  ';;;',
];

/** [name, document, call, expected]: 0 when it must be served, else the 400 error_text it names. */
function hostileXml(world: World): [string, string, string, 0 | RegExp][] {
  const t = `<token>${ADMIN_TOKEN}</token>`;
  const laughs = [
    '<!ENTITY lol "lol">',
    ...Array.from(
      { length: 9 },
      (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`,
    ),
  ].join('');
  const manyAttributes = Array.from({ length: 60_000 }, (_, i) => `a${i}="x"`).join(' ');
  const DOCTYPE = /DOCTYPE and entity declarations are not allowed/;
  return [
    [
      'external entity (XXE)',
      `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml>${t}<name>&e;</name></xml>`,
      'databases/create',
      DOCTYPE,
    ],
    [
      'billion laughs',
      `<?xml version="1.0"?><!DOCTYPE lolz [${laughs}]><xml>${t}<name>&lol9;</name></xml>`,
      'databases/create',
      DOCTYPE,
    ],
    [
      'parameter entity',
      `<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]><xml>${t}<name>pwned</name></xml>`,
      'databases/create',
      DOCTYPE,
    ],
    ['lower-case doctype', `<!doctype xml><xml>${t}<name>pwned</name></xml>`, 'databases/create', DOCTYPE],
    ['DOCTYPE inside the root', `<xml>${t}<!DOCTYPE x><name>pwned</name></xml>`, 'databases/create', DOCTYPE],
    ['undeclared entity', `<xml>${t}<name>&lol;</name></xml>`, 'databases/create', /unknown entity/],
    ['entity-like text', `<xml>${t}<name>&#x0;</name></xml>`, 'databases/create', /not allowed/],
    [
      '100,000 levels deep',
      `<xml>${t}${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</xml>`,
      'databases/create',
      /nesting/,
    ],
    [
      '60,000 attributes',
      `<xml>${t}<name ${manyAttributes}>x</name></xml>`,
      'databases/create',
      /attributes/,
    ],
    [
      'unclosed 100,000 times',
      `<xml>${t}${'<a>'.repeat(100_000)}`,
      'databases/create',
      /nesting|not closed|malformed/,
    ],
    [
      '20,000 list items where 1,000 are allowed',
      `<xml>${t}<name>r</name><channels>email</channels>${'<dbs_ids>1</dbs_ids>'.repeat(20_000)}</xml>`,
      'resources/create',
      /dbs_ids/,
    ],
    ['100,000 ignored elements', `<xml>${t}${'<x>1</x>'.repeat(100_000)}</xml>`, 'relations/types/list', 0],
    [
      '50,000 distinct ignored names',
      `<xml>${t}${Array.from({ length: 50_000 }, (_, i) => `<n${i}/>`).join('')}</xml>`,
      'relations/types/list',
      0,
    ],
    ['a long comment', `<xml>${t}<!--${'x'.repeat(500_000)}--></xml>`, 'relations/types/list', 0],
    [
      'processing instructions and CDATA',
      `<?xml version="1.0"?><?php system('id'); ?><xml>${t}<rel_id>${world.w.relId}</rel_id><profile_id><![CDATA[${world.as[0]}]]></profile_id></xml>`,
      'relations/get_counter',
      0,
    ],
    ['two roots', `<xml>${t}</xml><xml>${t}</xml>`, 'relations/types/list', /root/],
    ['another root', `<root>${t}</root>`, 'relations/types/list', /root element must be <xml>/],
  ];
}

// --- the suite ------------------------------------------------------------------------------------

interface World {
  readonly w: Workspace;
  readonly as: readonly string[];
  readonly bs: readonly string[];
  /** B profiles with relations, for profiles/delete to take away one by one. */
  readonly victims: string[];
  readonly fillers: number[];
  readonly guard: { relId: number; a: string; b: string };
}

function plausible(world: World, call: CallDef, plan: Plan, n: number): Record<string, unknown> {
  const { w, as, bs } = world;
  const [p0 = 0, p1 = 0, p2 = 0, p3 = 0] = plan.picks;
  const a = as[p0 % as.length]!;
  const b = bs[p1 % bs.length]!;
  const pair = { rel_id: w.relId, profile_a: byId(a), profile_b: byId(b) };
  const byEmail = { matching: 'email', email: `fuzz-${p2 % 7}@example.com` };
  switch (call.name) {
    case 'relations/attach':
    case 'relations/strengthen':
    case 'relations/edit':
      return { ...pair, weights: plan.weights };
    case 'relations/detach':
      return pair;
    case 'relations/attach_batch':
    case 'relations/strengthen_batch':
      return {
        rel_id: w.relId,
        items: Array.from({ length: 1 + (p2 % 4) }, (_, i) => ({
          profile_a: byId(as[(p0 + i) % as.length]!),
          profile_b: byId(bs[(p1 + i) % bs.length]!),
          weights: plan.weights,
        })),
      };
    case 'relations/get':
      return { rel_id: w.relId, profile_id: a, ...(p2 % 2 ? { limit: 1 + (p3 % 5) } : {}), side: 'a' };
    case 'relations/get_counter':
      return { rel_id: w.relId, profile_id: a };
    case 'relations/changes':
      // No wait_ms: a long-poll of the feed would wait (correctly) past the hang check.
      return { after: p3 % 4, limit: 1 + (p2 % 10), ...(p0 % 2 ? { rel_id: w.relId } : { profile_id: a }) };
    case 'profiles/import':
      return { db_id: w.dbB, ...byEmail, data: { _fname: 'F', crm: `c${p3}`, interests: ['a', 'b'] } };
    case 'profiles/add':
      return {
        db_id: w.dbB,
        data: {
          _fname: 'F',
          score: p3,
          vip: true,
          born: '2000-01-01',
          meta: { k: [1, 'x'] },
          subscriptions: [{ resource_id: w.res1, channel: 'email', email: `s${p3}@example.com` }],
        },
      };
    case 'profiles/update':
      return { db_id: w.dbB, profile_id: b, data: { _lname: 'L', ratio: p3 / 7 } };
    case 'profiles/import_batch':
      return {
        db_id: w.dbB,
        data: [
          { email: `fuzz-${p2 % 7}@example.com`, _fname: 'F', crm: `c${p3}` },
          { email: `fuzz-${(p2 + 1) % 7}@example.com`, score: p3 },
        ],
      };
    case 'profiles/add_batch':
      return { db_id: w.dbB, data: [{ _fname: 'F', score: p3 }, { vip: p3 % 2 === 0 }] };
    case 'profiles/update_batch':
      return { db_id: w.dbB, matching: 'profile_id', data: [{ profile_id: b, _lname: 'L' }] };
    case 'profiles/get':
      return { db_id: w.dbA, profile_id: a };
    case 'profiles/get_batch':
      return {
        db_id: w.dbA,
        profile_ids: [a, 'abcdefabcdefabcdefabcdef', a].slice(0, 1 + (p2 % 3)),
        ...(p3 % 2 ? { fields: ['_fname', 'email'] } : {}),
      };
    case 'profiles/delete': {
      const victim = world.victims[0];
      if (victim && p2 % 3 === 0) world.victims.shift();
      return { db_id: w.dbB, profile_id: victim && p2 % 3 === 0 ? victim : 'abcdefabcdefabcdefabcdef' };
    }
    case 'databases/list':
    case 'resources/list':
      return { from_id: p2 % 3, limit: 1 + (p3 % 10) };
    case 'databases/get':
    case 'databases/fields_get':
      return { id: w.dbA };
    case 'databases/create':
      return { name: `fuzz-${n}`, description: 'd', fields: [{ name: `f${n}`, type: 'string' }] };
    case 'databases/fields_add':
      return { id: w.dbB, fields: [{ name: `g${n}`, type: 'float' }] };
    case 'resources/get':
      return { id: w.res1 };
    case 'resources/create':
      return { name: `fuzz-${n}`, channels: ['email', 'sms'], dbs_ids: [w.dbA, w.dbB] };
    case 'relations/types/create':
      return {
        name: `fuzz-${n}`,
        db_a: w.dbA,
        db_b: w.dbB,
        properties: [{ name: 'x', type: 'int', top: 2, sum: true }],
      };
    case 'relations/types/list':
    case 'tokens/list':
      return {};
    case 'relations/types/get':
      return { rel_id: w.relId };
    case 'relations/types/update':
      // Toggles the aggregates of existing properties (a rebuild) or adds one.
      return {
        rel_id: w.relId,
        properties:
          p2 % 2
            ? [{ name: 'count', type: 'int', top: p3 % 6, sum: p3 % 3 !== 0 }]
            : [{ name: `p${n}`, type: 'float', top: 1, sum: true }],
      };
    case 'relations/types/delete':
      return { rel_id: world.fillers[p2 % world.fillers.length]! };
    case 'tokens/create':
      return { name: `fuzz-${n}`, rights: ['read'] };
    case 'tokens/revoke':
      return { id: 9999 };
    case 'webhooks/create':
      // Port 9 (discard): nothing is delivered anywhere, whatever a server would try.
      return {
        url: `http://127.0.0.1:9/fuzz-${n}`,
        ...(p2 % 2 ? { rel_id: w.relId } : {}),
        ...(p3 % 3 === 0 ? { profile_id: a } : {}),
        ...(p0 % 4 === 0 ? { secret: `fuzz-secret-${p3}-0123456789` } : {}),
      };
    case 'webhooks/list':
      return {};
    case 'webhooks/delete':
      return { id: 1 + (p2 % 3) };
    default:
      throw new Error(
        `a new call: add plausible parameters for ${call.name} in test/reliability/fuzz.test.ts`,
      );
  }
}

function expectedFormat(plan: Plan, body: Record<string, unknown>): 'json' | 'xml' | undefined {
  // An explicit format in the body (or a mangled one) is the negotiation test's business.
  if (Object.hasOwn(body, 'format')) return undefined;
  if (plan.accept === 'application/json') return 'json';
  if (plan.accept === 'application/xml') return 'xml';
  return plan.format;
}

for (const engine of testEngines()) {
  describe(`fuzz every call (${engine.name}, ${RUNS} runs per call, seed ${SEED ?? 'random'})`, () => {
    let h: Harness;
    let world: World;
    let n = 0;
    const tally = new Map<string, number>();
    let requests = 0;

    const callJson: CallFn = async (name, params) => {
      const res = await h.app.inject({
        method: 'POST',
        url: `/api/v1.1/${name}`,
        payload: JSON.stringify({ token: ADMIN_TOKEN, ...params }),
        headers: { 'content-type': 'application/json' },
      });
      return JSON.parse(res.body) as Record<string, any>;
    };

    before(async () => {
      h = await startHarness({ engine });
      const fillerDb = (await adminCall(h, 'databases/create', { name: 'fillers' })).data.id as number;
      const fillers: number[] = [];
      for (let i = 0; i < FILLER_TYPES; i++) {
        const type = await adminCall(h, 'relations/types/create', {
          name: `filler-${i}`,
          db_a: fillerDb,
          db_b: fillerDb,
          properties: [{ name: 'v', type: 'int', top: 1, sum: true }],
        });
        fillers.push(type.data.rel_id);
      }
      const w = await createWorkspace(h);
      assert.ok(w.relId > FILLER_TYPES);
      const as = [await addProfile(h, w.dbA), await addProfile(h, w.dbA), await addProfile(h, w.dbA)];
      const bs = [await addProfile(h, w.dbB), await addProfile(h, w.dbB), await addProfile(h, w.dbB)];
      const victims: string[] = [];
      for (let i = 0; i < 6; i++) {
        const v = await addProfile(h, w.dbB);
        victims.push(v);
        for (const a of as) {
          await adminCall(h, 'relations/strengthen', {
            rel_id: w.relId,
            profile_a: byId(a),
            profile_b: byId(v),
            weights: { count: i + 1, amount: i / 3, note: `v${i}` },
          });
        }
      }
      const guardType = await adminCall(h, 'relations/types/create', {
        name: 'guard',
        db_a: w.dbA,
        db_b: w.dbB,
        properties: [{ name: 'kept', type: 'int', top: 1, sum: true }],
      });
      const guard = { relId: guardType.data.rel_id as number, a: as[0]!, b: bs[0]! };
      await adminCall(h, 'relations/attach', {
        rel_id: guard.relId,
        profile_a: byId(guard.a),
        profile_b: byId(guard.b),
        weights: { kept: 42 },
      });
      world = { w, as, bs, victims, fillers, guard };
    });

    after(async () => {
      const summary = [...tally].sort().map(([k, v]) => `${k}=${v}`);
      console.log(`fuzz ${engine.name}: ${requests} requests; answers by error: ${summary.join(' ')}`);
      await h.close();
    });

    for (const call of CALLS) {
      test(call.name, async () => {
        await fc.assert(
          fc.asyncProperty(planArb, async (plan) => {
            const base = plausible(world, call, plan, ++n);
            const body = applyMutations(base, plan.mutations);
            const withToken = plan.tokenIn === 'body' ? { token: ADMIN_TOKEN, ...body } : body;
            const payload = plan.format === 'xml' ? toXml(withToken) : JSON.stringify(withToken);
            const headers: Record<string, string> = {
              'content-type': plan.format === 'xml' ? 'application/xml' : 'application/json',
            };
            if (plan.tokenIn === 'header') headers.authorization = `Bearer ${ADMIN_TOKEN}`;
            if (plan.accept !== undefined) headers.accept = plan.accept;
            const query = plan.tokenIn === 'query' ? `?token=${ADMIN_TOKEN}` : '';
            let timer: NodeJS.Timeout | undefined;
            const res = await Promise.race([
              h.app.inject({ method: 'POST', url: `/api/v1.1/${call.name}${query}`, payload, headers }),
              new Promise<never>((_, reject) => {
                timer = setTimeout(() => reject(new Error(`no answer within ${HANG_MS} ms`)), HANG_MS);
              }),
            ]).finally(() => clearTimeout(timer));
            requests++;
            const context = `${call.name} ${plan.format}: ${payload.slice(0, 600)}`;
            const answer = assertEnvelope(
              {
                status: res.statusCode,
                contentType: String(res.headers['content-type'] ?? ''),
                raw: res.body,
              },
              context,
            );
            tally.set(String(answer.error), (tally.get(String(answer.error)) ?? 0) + 1);
            const format = expectedFormat(plan, body);
            if (format) assert.equal(answer.format, format, `answer format: ${context}`);
            if (answer.error === 0 && answer.format === 'json') {
              const fields = Object.fromEntries(
                Object.entries(answer.body).filter(([k]) => k !== 'error' && k !== 'error_text'),
              );
              assert.ok(Value.Check(call.answer, fields), `answer does not fit its schema: ${res.body}`);
            }
            // A fuzzed tokens/revoke may hit the admin token; the next runs need it.
            if (call.name === 'tokens/revoke') await h.ties.access.ensureAdminToken(ADMIN_TOKEN);
          }),
          { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
        );
      });
    }

    test('corrupted bodies: truncated, spliced with hostile bytes, under odd content types', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...CALLS.map((c) => c.name)),
          planArb,
          fc.array(corruptionArb, { minLength: 1, maxLength: 3 }),
          fc.constantFrom<string | undefined>(...CONTENT_TYPES),
          async (callName, plan, corruptions, contentType) => {
            const call = CALLS.find((c) => c.name === callName)!;
            const body = { token: ADMIN_TOKEN, ...plausible(world, call, plan, ++n) };
            let bytes: Buffer = Buffer.from(plan.format === 'xml' ? toXml(body) : JSON.stringify(body));
            for (const c of corruptions) bytes = corrupt(bytes, c);
            const headers: Record<string, string> = {};
            const type = contentType === 'declared' ? `application/${plan.format}` : contentType;
            if (type !== undefined) headers['content-type'] = type;
            const res = await h.app.inject({
              method: 'POST',
              url: `/api/v1.1/${call.name}`,
              payload: bytes,
              headers,
            });
            requests++;
            const answer = assertEnvelope(
              {
                status: res.statusCode,
                contentType: String(res.headers['content-type'] ?? ''),
                raw: res.body,
              },
              `${call.name} (${type}): ${bytes.toString('latin1').slice(0, 400)}`,
            );
            tally.set(String(answer.error), (tally.get(String(answer.error)) ?? 0) + 1);
            if (call.name === 'tokens/revoke') await h.ties.access.ensureAdminToken(ADMIN_TOKEN);
          },
        ),
        { numRuns: RUNS * 5, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
    });

    test('hostile XML is refused over HTTP (entities, DOCTYPE, depth, attribute floods) and writes nothing', async () => {
      const before = await callJson('databases/list', { limit: 1000 });
      const timings: string[] = [];
      for (const [name, doc, path, expected] of hostileXml(world)) {
        const started = performance.now();
        const res = await h.app.inject({
          method: 'POST',
          url: `/api/v1.1/${path}`,
          payload: doc,
          headers: { 'content-type': 'application/xml' },
        });
        timings.push(`${name} ${(performance.now() - started).toFixed(1)} ms`);
        const answer = assertEnvelope(
          { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), raw: res.body },
          name,
        );
        assert.equal(answer.format, 'xml', name);
        if (expected === 0) assert.equal(answer.error, 0, `${name}: ${res.body}`);
        else {
          assert.equal(answer.error, 400, `${name}: ${res.body.slice(0, 300)}`);
          assert.match(String(answer.body.error_text), expected, name);
        }
      }
      console.log(`hostile XML (${engine.name}): ${timings.join('; ')}`);
      const afterwards = await callJson('databases/list', { limit: 1000 });
      assert.equal(afterwards.total_count, before.total_count, 'no hostile document created anything');
      assert.doesNotMatch(JSON.stringify(afterwards), /root:|pwned|lol/);
    });

    /** Every path of `base` whose value passes `pick`, each changed alone to each value, sent as JSON. */
    const sweep = async (pick: (key: string, value: unknown) => boolean, values: readonly unknown[]) => {
      const plan: Plan = {
        format: 'json',
        tokenIn: 'body',
        accept: undefined,
        picks: [0, 0, 1, 0],
        weights: { count: 1, note: 'x' },
        mutations: [],
      };
      let sent = 0;
      for (const call of CALLS) {
        const base = plausible(world, call, plan, ++n);
        for (const path of objectPaths(base).keys) {
          const parent = parentOf(base, path.slice(0, -1));
          const key = path[path.length - 1]!;
          if (!pick(key, parent[key])) continue;
          for (const value of values) {
            const body = structuredClone(base);
            setOwn(parentOf(body, path.slice(0, -1)), key, value);
            const res = await h.app.inject({
              method: 'POST',
              url: `/api/v1.1/${call.name}`,
              payload: JSON.stringify({ token: ADMIN_TOKEN, ...body }),
              headers: { 'content-type': 'application/json' },
            });
            sent++;
            const answer = assertEnvelope(
              {
                status: res.statusCode,
                contentType: String(res.headers['content-type'] ?? ''),
                raw: res.body,
              },
              `${call.name} with ${path.join('.')} = ${JSON.stringify(value)}`,
            );
            tally.set(String(answer.error), (tally.get(String(answer.error)) ?? 0) + 1);
            if (call.name === 'tokens/revoke') await h.ties.access.ensureAdminToken(ADMIN_TOKEN);
          }
        }
      }
      assert.ok(sent > 20, `the sweep sent ${sent} requests`);
      requests += sent;
    };

    // Found by the fuzzer (ids past PostgreSQL's integer columns, U+0000 and lone surrogates
    // answered 500 there); swept deterministically over every call, on every engine.
    test('U+0000 and lone surrogates in any string parameter are answered with an envelope, never a 500', async () => {
      await sweep(
        (_key, value) => typeof value === 'string',
        ['a\u0000b', '\u0000', '\ud800', 'a\udc00b\ud83d'],
      );
    });

    const ID_NAMES = new Set(['rel_id', 'db_id', 'id', 'resource_id', 'from_id', 'db_a', 'db_b', 'limit']);
    test('ids past 2^31 − 1 (up to 2^53 − 1) are answered with an envelope, never a 500', async () => {
      await sweep((key, value) => ID_NAMES.has(key) && typeof value === 'number', [2 ** 31, 2 ** 53 - 1]);
    });

    test('a float sum past the double range refuses the write (400), never a 500, and changes nothing', async () => {
      const a = await addProfile(h, world.w.dbA);
      const [b1, b2] = [await addProfile(h, world.w.dbB), await addProfile(h, world.w.dbB)];
      const pair = (b: string) => ({ rel_id: world.w.relId, profile_a: byId(a), profile_b: byId(b) });
      const max = Number.MAX_VALUE;
      assert.equal((await callJson('relations/edit', { ...pair(b1), weights: { amount: max } })).error, 0);
      // Replacing the one value by a similar one keeps the sum finite all along.
      assert.equal(
        (await callJson('relations/strengthen', { ...pair(b1), weights: { amount: -1e300 } })).error,
        0,
      );
      const before = await callJson('relations/get_counter', { rel_id: world.w.relId, profile_id: a });
      for (const [name, weights] of [
        ['relations/attach', { amount: max, count: 1 }],
        ['relations/edit', { amount: max, count: 1 }],
        ['relations/strengthen', { amount: max, count: 1 }],
      ] as const) {
        const answer = await callJson(name, { ...pair(b2), weights });
        assert.equal(answer.error, 400, `${name}: ${JSON.stringify(answer)}`);
        assert.match(answer.error_text, /^weights\.amount: result Infinity/);
      }
      assert.deepEqual(
        await callJson('relations/get_counter', { rel_id: world.w.relId, profile_id: a }),
        before,
      );
      await assertAggregatesMatchRows(callJson, world.w.relId, [a]);
    });

    test('afterwards the store is consistent: aggregates equal a recomputation, other data intact', async () => {
      await h.ties.access.ensureAdminToken(ADMIN_TOKEN);
      // Counts, int sums and tops exactly; float sums went through hostile magnitudes (see support.ts).
      const relations = await assertAggregatesMatchRows(callJson, world.w.relId, world.as, {
        floatSums: 'finite',
      });
      assert.ok(relations > 0, 'the fuzzed type still has relations to check');
      const guard = await callJson('relations/get', { rel_id: world.guard.relId, profile_id: world.guard.a });
      assert.deepEqual(
        guard.data.map((r: any) => [r.profile_id_b, r.props]),
        [[world.guard.b, { kept: { value: 42 } }]],
      );
      if (engine.name === 'sqlite') {
        const store = h.ties.store as SqliteStore;
        assert.equal(store.sqlite.pragma('integrity_check', true), 'ok');
      }
    });
  });
}
