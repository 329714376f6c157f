// Reading the text[] columns of a bulk answer: ties_attach_many answers two per item (the profiles
// each side matched), and pg's generic array parser (postgres-array, a callback per character
// class and per element) was ~15% of the CPU of a `ties import` on PostgreSQL. Profile ids never
// need quoting in an array literal, so such an answer is split on its commas; any other literal
// (quoted or escaped elements, NULL, nested arrays, explicit bounds) goes to pg's own parser.
import type pg from 'pg';
import { pgDriver } from './pg-driver.js';

const TEXT_ARRAY_OID = 1009; // text[] (pg_type.oid; pg.types.builtins lists no array types)
const builtinParser = pgDriver.types.getTypeParser as (
  oid: number,
  format?: string,
) => (text: string) => unknown;
const generic = builtinParser(TEXT_ARRAY_OID, 'text');
const NEEDS_GENERIC = /["\\{}]|NULL/i;

export function parseIdArray(text: string): unknown {
  if (text === '{}') return [];
  const inner = text.slice(1, -1);
  if (text.charCodeAt(0) !== 0x7b || text.charCodeAt(text.length - 1) !== 0x7d || NEEDS_GENERIC.test(inner))
    return generic(text);
  return inner.split(',');
}

/** Type parsers for a query whose text[] answers hold profile ids; every other type as pg has it. */
export const ID_ARRAY_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TEXT_ARRAY_OID && format !== 'binary'
      ? parseIdArray
      : builtinParser(oid, format)) as typeof pg.types.getTypeParser,
};
