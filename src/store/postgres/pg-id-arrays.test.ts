// The fast text[] parser of bulk answers reads every literal as pg's own parser does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { parseIdArray } from './pg-id-arrays.js';

test('parseIdArray answers what pg parses a text[] literal into', () => {
  const pgParse = (pg.types.getTypeParser as (oid: number) => (text: string) => unknown)(1009);
  const literals = [
    '{}',
    '{6b132dad50763de0fc941c57}',
    '{6b132dad50763de0fc941c57,6b132dadd712b48faf5bead9,x}',
    '{"a b",c}',
    '{""}',
    '{NULL,a}',
    '{null}',
    '{anull}',
    '{"a\\"b",c}',
    '{"a,b"}',
    '{a\\,b}',
    '{{a,b},{c,d}}',
    '[0:1]={a,b}',
  ];
  for (const literal of literals) assert.deepEqual(parseIdArray(literal), pgParse(literal), literal);
});
