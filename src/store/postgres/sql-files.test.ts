// The generated module that embeds the .sql files (so that dist/ needs no sources) must say what
// the .sql files say: a changed file without `node scripts/embed-sql.mjs` fails here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

test('sql-files.generated.ts matches src/store/postgres/sql/**/*.sql', () => {
  const check = spawnSync(process.execPath, ['scripts/embed-sql.mjs', '--check'], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
});
