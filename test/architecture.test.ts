// Guards the shape of the system (DESIGN §1): core knows nothing of HTTP or SQL.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

/** Packages core may use: pure computation, no I/O framework. */
const CORE_ALLOWED_PACKAGES = new Set(['xxhash-wasm']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(
      /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
    ),
  ].map((m) => (m[1] ?? m[2])!);
}

test('core imports only core, node builtins and pure allowed packages', () => {
  const offenders: string[] = [];
  for (const file of sourceFiles('src/core')) {
    for (const spec of importsOf(file)) {
      const ok =
        spec.startsWith('node:') ||
        CORE_ALLOWED_PACKAGES.has(spec) ||
        (spec.startsWith('./') && !spec.includes('..'));
      if (!ok) offenders.push(`${file} imports ${spec}`);
    }
  }
  assert.deepEqual(offenders, []);
});

test('the import scanner sees the imports it must judge', () => {
  // If the regular expression broke, the rule above would pass vacuously.
  const found = importsOf('src/core/ties.ts');
  assert.ok(found.includes('./store.js'), `found ${found.join(', ')}`);
});

test('engine-specific code stays in its store folder', () => {
  const offenders: string[] = [];
  for (const file of sourceFiles('src')) {
    if (file.startsWith(join('src', 'store'))) continue;
    for (const spec of importsOf(file)) {
      if (spec === 'better-sqlite3' || spec === 'pg') offenders.push(`${file} imports ${spec}`);
    }
  }
  assert.deepEqual(offenders, []);
});
