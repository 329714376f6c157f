// The bench and soak scripts as a user runs them by hand: --help lists their options, and a wrong
// option or value exits 2 with what was expected — before any server or data is set up.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function script(
  name:
    | 'run'
    | 'soak'
    | 'citus-compare'
    | 'lean-bulk'
    | 'lean-attach'
    | 'sorted-get'
    | 'pg-lean-load'
    | 'pg-lean-attach'
    | 'pg-attach-body',
  args: readonly string[],
) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.ts`, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('npm run bench -- --help lists every option', () => {
  const help = script('run', ['--help']);
  assert.equal(help.code, 0, help.stderr);
  for (const option of [
    '--quick',
    '--engine',
    '--only',
    '--pg-url',
    '--bulk-rows',
    '--scale-dir',
    '--scale-runs',
    '--scale-warmup',
    '--cache-mb',
    '--cpu-prof',
    '--keep',
  ])
    assert.ok(help.stdout.includes(option), option);
});

test('npm run soak -- --help lists every option', () => {
  const help = script('soak', ['--help']);
  assert.equal(help.code, 0, help.stderr);
  for (const option of ['--minutes', '--connections', '--db', '--warmup', '--source'])
    assert.ok(help.stdout.includes(option), option);
});

test('bench/sorted-get.ts --help lists every option', () => {
  const help = script('sorted-get', ['--help']);
  assert.equal(help.code, 0, help.stderr);
  for (const option of ['--db', '--size', '--runs']) assert.ok(help.stdout.includes(option), option);
  const wrong = script('sorted-get', ['--size', 'lots']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--size/);
});

test('bench/lean-attach.ts --help lists every option', () => {
  const help = script('lean-attach', ['--help']);
  assert.equal(help.code, 0, help.stderr);
  for (const option of ['--workload', '--rounds', '--seconds'])
    assert.ok(help.stdout.includes(option), option);
});

test('bench/pg-lean-load.ts --help lists every option; a bad value exits 2 before any database', () => {
  const help = script('pg-lean-load', ['--help']);
  assert.equal(help.code, 0, help.stderr);
  for (const option of ['--rows', '--rounds', '--chunk', '--chunk-max', '--pg-url'])
    assert.ok(help.stdout.includes(option), option);
  const bad = script('pg-lean-load', ['--rounds', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--rounds/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
});

test('a wrong option or value exits 2 naming it, without a stack trace', () => {
  for (const [name, args, expected] of [
    ['run', ['--engine', 'mysql'], /--engine: expected one of sqlite, postgres, got "mysql"/],
    ['run', ['--only', 'attach,everything'], /--only: expected one of attach, .*, got "everything"/],
    ['run', ['--bulk-rows', 'many'], /--bulk-rows: expected an integer, got "many"/],
    ['run', ['--fast'], /Unknown option '--fast'/],
    ['run', ['--sqlite-writer', 'threads'], /--sqlite-writer: expected one of inline, worker, got "threads"/],
    ['run', ['--cache-mb', '32,4'], /--cache-mb: expected 8 to 65536, got 4/],
    ['run', ['--scale-dir', '/tmp', '--engine', 'postgres'], /--scale-dir: kept stores are SQLite files/],
    ['soak', ['--minutes=-3'], /--minutes: expected a positive number, got "-3"/],
    ['soak', ['--connections', '2.5'], /--connections: expected an integer, got "2.5"/],
    ['lean-bulk', ['--rows', '2.5'], /--rows: expected an integer, got "2.5"/],
    ['lean-attach', ['--workload', 'edit'], /--workload: expected one of attach, strengthen, got "edit"/],
    ['lean-attach', ['--rounds', '0'], /--rounds/],
  ] as const) {
    const result = script(name, args);
    assert.equal(result.code, 2, `${name} ${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, expected);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('npm run bench:citus -- --help lists every option; a bad value exits 2', () => {
  const help = script('citus-compare', ['--help']);
  assert.equal(help.code, 0, help.stderr);
  for (const option of ['--pg-url', '--citus-url', '--concurrency', '--seconds', '--rounds', '--profiles'])
    assert.ok(help.stdout.includes(option), option);
  const bad = script('citus-compare', ['--rounds', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--rounds: expected 1 to 50/);
});

test('bench/pg-lean-attach.ts --help lists every option; a bad value exits 2 before any database', () => {
  const help = script('pg-lean-attach', ['--help']);
  assert.equal(help.code, 0, help.stderr);
  for (const option of ['--rounds', '--seconds', '--one-row', '--floor', '--base', '--pg-url'])
    assert.ok(help.stdout.includes(option), option);
  const bad = script('pg-lean-attach', ['--seconds', 'long']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--seconds/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
});

test('bench/pg-attach-body.ts --help lists every option; a bad value exits 2 before any database', () => {
  const help = script('pg-attach-body', ['--help']);
  assert.equal(help.code, 0, help.stderr);
  for (const option of ['--rounds', '--calls', '--base', '--pg-url'])
    assert.ok(help.stdout.includes(option), option);
  const bad = script('pg-attach-body', ['--calls', '10']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--calls/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
});
