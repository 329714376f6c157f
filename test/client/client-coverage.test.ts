// The client covers the catalogue exactly: one method per call of src/api/calls.ts, each typed by
// the very schemas the server validates that call with, and the compiled client needs nothing but
// its own files at run time.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { type CALL_TABLE, CALLS } from '../../src/api/calls.js';
import type { CallMap, CallName } from '../../src/client/index.js';
import { TiesClient } from '../../src/client/index.js';

// Compile-time half: the client's call map is derived from the call table, so a call of the table
// is a call of the client with the table's schemas. A few spot checks that the derivation keeps
// the types (a derivation that lost them would type every call as never or unknown).
type Expect<T extends true> = T;
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
export type Checks = [
  Expect<Same<CallName, (typeof CALL_TABLE)[number]['name']>>,
  Expect<Same<CallMap['relations/attach']['params']['rel_id'], number>>,
  Expect<Same<CallMap['profiles/import_batch']['answer']['result'][number]['error'], number>>,
  Expect<Same<Parameters<TiesClient['relations']['getCounter']>[0]['rel_id'], number>>,
  // A call whose parameters are all optional may be sent without any.
  Expect<0 extends Parameters<TiesClient['relations']['types']['list']>['length'] ? true : false>,
];

/** `relations/get_counter` → ['relations', 'getCounter']. */
const methodPath = (name: string) =>
  name.split('/').map((part) => part.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()));

test('every call of the table is a method of the client that sends that call, and only it', async () => {
  const sent: string[] = [];
  const fakeFetch = (async (url: string | URL | Request) => {
    sent.push(String(url).replace('http://ties.test/api/v1.1/', ''));
    return new Response('{"error":0,"error_text":""}', { headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  const client = new TiesClient({ baseUrl: 'http://ties.test', fetch: fakeFetch });
  for (const call of CALLS) {
    let node: any = client;
    for (const part of methodPath(call.name)) node = node[part];
    assert.equal(typeof node, 'function', `client.${methodPath(call.name).join('.')}`);
    const before = sent.length;
    await node({});
    assert.deepEqual(sent.slice(before), [call.name]);
  }
  // Awaiting a group does not send anything (the tree answers no "then").
  assert.equal(await Promise.resolve(client.relations).then(() => sent.length), CALLS.length);
  assert.equal(typeof (client.relations as any).then, 'undefined');
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
