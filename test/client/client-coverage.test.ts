// The client covers the catalogue exactly: one method per call of src/api/calls.ts, each typed by
// the very schemas the server validates that call with, and the compiled client needs nothing but
// its own files at run time.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Static, TSchema } from 'typebox';
import ts from 'typescript';
import { CALLS, CALLS_BY_NAME } from '../../src/api/calls.js';
import * as S from '../../src/api/schemas.js';
import type { CallMap, CallName } from '../../src/client/index.js';
import { TiesClient } from '../../src/client/index.js';

/** Every call with its parameter and answer schemas, checked against CALLS below. */
const SCHEMAS = {
  'relations/attach': [S.WeightedRelationParams, S.RelationAnswer],
  'relations/detach': [S.RelationParams, S.RelationAnswer],
  'relations/strengthen': [S.WeightedRelationParams, S.RelationAnswer],
  'relations/edit': [S.WeightedRelationParams, S.RelationAnswer],
  'relations/attach_batch': [S.BatchParams, S.BatchAnswer],
  'relations/strengthen_batch': [S.BatchParams, S.BatchAnswer],
  'relations/get': [S.GetParams, S.GetAnswer],
  'relations/get_counter': [S.CounterParams, S.CounterAnswer],
  'profiles/import': [S.ProfileWriteParams, S.ProfileIdAnswer],
  'profiles/add': [S.ProfileAddParams, S.ProfileIdAnswer],
  'profiles/update': [S.ProfileWriteParams, S.ProfileIdAnswer],
  'profiles/get': [S.ProfileLookupParams, S.ProfileGetAnswer],
  'profiles/delete': [S.ProfileLookupParams, S.ProfileDeleteAnswer],
  'databases/list': [S.DatabaseListParams, S.DatabaseListAnswer],
  'databases/get': [S.IdParams, S.DatabaseGetAnswer],
  'databases/fields_get': [S.IdParams, S.FieldsAnswer],
  'databases/create': [S.DatabaseCreateParams, S.CreatedIdAnswer],
  'databases/fields_add': [S.FieldsAddParams, S.FieldsAddAnswer],
  'resources/list': [S.ResourceListParams, S.ResourceListAnswer],
  'resources/get': [S.IdParams, S.ResourceGetAnswer],
  'resources/create': [S.ResourceCreateParams, S.CreatedIdAnswer],
  'relations/types/create': [S.RelationTypeCreateParams, S.RelIdAnswer],
  'relations/types/list': [S.EmptyParams, S.RelationTypeListAnswer],
  'relations/types/get': [S.RelIdParams, S.RelationTypeAnswer],
  'relations/types/update': [S.RelationTypeUpdateParams, S.RelationTypeAnswer],
  'relations/types/delete': [S.RelIdParams, S.RelIdAnswer],
  'tokens/create': [S.TokenCreateParams, S.TokenCreateAnswer],
  'tokens/list': [S.EmptyParams, S.TokenListAnswer],
  'tokens/revoke': [S.IdParams, S.IdAnswer],
} as const satisfies { readonly [K in CallName]: readonly [TSchema, TSchema] };

// Compile-time half: the client's types of each call are those of the table's schemas (a call typed
// from another schema, or a call missing from either side, fails the type-check). Parameters are
// identical; answers are mutually assignable, so profiles/get may add the index signature of its
// open profile object.
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Typed<K extends CallName> =
  Same<CallMap[K]['params'], Omit<Static<(typeof SCHEMAS)[K][0]>, 'token' | 'format'>> extends true
    ? Mutual<
        CallMap[K]['answer'],
        { readonly error: 0; readonly error_text: string } & Static<(typeof SCHEMAS)[K][1]>
      >
    : false;
const typedFromSchemas: { readonly [K in CallName]: Typed<K> } = Object.fromEntries(
  Object.keys(SCHEMAS).map((k) => [k, true]),
) as { [K in CallName]: true };

test('the schema table is the catalogue: same calls, same schema objects', () => {
  assert.deepEqual(Object.keys(SCHEMAS).sort(), CALLS.map((c) => c.name).sort());
  for (const [name, [params, answer]] of Object.entries(SCHEMAS)) {
    const call = CALLS_BY_NAME.get(name)!;
    assert.equal(call.params, params, `${name}: params schema`);
    assert.equal(call.answer, answer, `${name}: answer schema`);
  }
  assert.equal(Object.keys(typedFromSchemas).length, CALLS.length);
});

test('the calls the client can send are exactly the calls of CALLS', async () => {
  const sent: string[] = [];
  const fakeFetch = (async (url: string | URL | Request) => {
    sent.push(String(url).replace('http://ties.test/api/v1.1/', ''));
    return new Response('{"error":0,"error_text":""}', { headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  const client = new TiesClient({ baseUrl: 'http://ties.test', fetch: fakeFetch });
  const methods: string[] = [];
  const walk = async (node: object, path: string) => {
    for (const [key, value] of Object.entries(node)) {
      if (typeof value === 'function') {
        methods.push(`${path}${key}`);
        await value({});
      } else if (typeof value === 'object' && value !== null && !key.startsWith('_')) {
        await walk(value, `${path}${key}.`);
      }
    }
  };
  for (const group of ['relations', 'profiles', 'databases', 'resources', 'tokens'] as const) {
    await walk(client[group], `${group}.`);
  }
  // Any further group a new call would need must be listed above, or this count catches it.
  assert.equal(methods.length, sent.length);
  assert.equal(new Set(sent).size, sent.length, `a call is sent by two methods: ${sent.join(', ')}`);
  assert.deepEqual([...sent].sort(), CALLS.map((c) => c.name).sort());
});

/** Import specifiers of compiled JavaScript (static, dynamic and re-exports), by TypeScript's scanner. */
function importsOf(js: string): string[] {
  return ts.preProcessFile(js, true, true).importedFiles.map((f) => f.fileName);
}

test('the compiled client imports only its own files: no dependency beyond fetch', () => {
  const dir = join('src', 'client');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const config = ts.parseJsonConfigFileContent(
    ts.readConfigFile('tsconfig.build.json', ts.sys.readFile).config,
    ts.sys,
    '.',
  );
  const offenders: string[] = [];
  let seenTypeOnly = false;
  for (const file of files) {
    const source = readFileSync(join(dir, file), 'utf8');
    if (source.includes("from '../api/schemas.js'")) seenTypeOnly = true;
    // Per-file emit, as tsc does it under isolatedModules + verbatimModuleSyntax: type-only
    // imports vanish, every other import stays.
    const js = ts.transpileModule(source, { compilerOptions: config.options, fileName: file }).outputText;
    for (const spec of importsOf(js)) {
      const local = /^\.\/([\w-]+)\.js$/.exec(spec);
      if (!local || !files.includes(`${local[1]}.ts`)) offenders.push(`${file} imports ${spec}`);
    }
  }
  assert.ok(seenTypeOnly, 'the check must see the type-only import of the schemas, or it proves nothing');
  // The real build too, when there is one (npm ci builds it; npm test alone does not).
  const dist = join('dist', 'client');
  if (existsSync(dist)) {
    const built = readdirSync(dist).filter((f) => f.endsWith('.js'));
    for (const file of built) {
      for (const spec of importsOf(readFileSync(join(dist, file), 'utf8'))) {
        if (!/^\.\/[\w-]+\.js$/.test(spec) || !built.includes(spec.slice(2)))
          offenders.push(`dist: ${file} imports ${spec}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});
