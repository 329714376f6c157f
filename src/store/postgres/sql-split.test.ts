import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FUNCTION_FILES, MIGRATION_FILES } from './sql-files.generated.js';
import { splitSqlStatements } from './sql-split.js';

test('splits on semicolons outside strings, identifiers, dollar quotes and comments', () => {
  const sql = `-- a comment; with a semicolon
CREATE TABLE "odd;name" (x text DEFAULT 'a;b''c');
/* block; /* nested; */ still; */ INSERT INTO t VALUES (E'\\';x');
CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $f$ SELECT 1; $f$;
DO $$ BEGIN PERFORM 1; END $$
;;  -- trailing`;
  assert.deepEqual(splitSqlStatements(sql), [
    `-- a comment; with a semicolon\nCREATE TABLE "odd;name" (x text DEFAULT 'a;b''c')`,
    `/* block; /* nested; */ still; */ INSERT INTO t VALUES (E'\\';x')`,
    'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $f$ SELECT 1; $f$',
    'DO $$ BEGIN PERFORM 1; END $$',
  ]);
});

test('keeps every statement of the shipped SQL files whole', () => {
  for (const file of [...MIGRATION_FILES, ...FUNCTION_FILES]) {
    const statements = splitSqlStatements(file.sql);
    assert.ok(statements.length > 0, file.file);
    for (const s of statements) assert.doesNotMatch(s, /^\s*;/, file.file);
    const creates = (file.sql.match(/^CREATE /gm) ?? []).length;
    const bare = statements.map((s) => s.replace(/^(\s*--[^\n]*\n)*\s*/, ''));
    assert.equal(bare.filter((s) => s.startsWith('CREATE ')).length, creates, file.file);
  }
});
