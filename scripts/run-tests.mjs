// Runs every *.test.ts under src/ and test/ with Node's test runner through tsx (Node 20 has no --test globs).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

// The files that took longest (TIES_TEST_TIMES=<file> reports each file's time; this order is from
// the run of 2026-12-04 19:19 in docs/benchmarks.md), started first:
// with two at a time, a long file started last would run on alone at the end while the other slot
// idles. Order only; every file runs either way.
const LONG_FIRST = [
  'test/cli-copy.test.ts',
  'test/http/every-call.test.ts',
  'test/cli.test.ts',
  'test/outbound/two-senders.test.ts',
  'test/http/relations.test.ts',
  'test/reliability/crash.test.ts',
  'test/reliability/fuzz.test.ts',
  'test/outbound/amqp-publish.test.ts',
  'test/bench-scripts.test.ts',
  'test/cli-import.test.ts',
  'src/store/postgres/citus-store.test.ts',
];
const rank = (f) => {
  const i = LONG_FIRST.indexOf(f);
  return i < 0 ? LONG_FIRST.length : i;
};

const filters = process.argv.slice(2);
const files = [...collect('src', []), ...collect('test', [])]
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()
  .sort((a, b) => rank(a) - rank(b));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const concurrency = process.env.TIES_TEST_CONCURRENCY ?? '2';
const reporters = ['--test-reporter=spec', '--test-reporter-destination=stdout'];
if (process.env.TIES_TEST_TIMES) {
  reporters.push(
    '--test-reporter=./scripts/test-file-times.mjs',
    `--test-reporter-destination=${process.env.TIES_TEST_TIMES}`,
  );
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...reporters, ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
